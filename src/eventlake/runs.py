"""What each layer's run reports: reconciled counts an operator (and the quality gates) read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class BronzeRun:
    run_id: str
    files_found: int  # landing files listed
    files_ingested: int  # new files read into bronze by this run
    lines_ingested: int  # rows appended to bronze.events
    bronze_version: int | None  # bronze table version after the run
    new_files: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("new_files")
        return data


@dataclass(frozen=True)
class SilverRun:
    """lines_read == silver_rows + quarantined + consent_dropped + duplicates, always."""

    run_id: str
    lines_read: int  # bronze lines this run processed
    silver_rows: int  # new silver rows (event_ids not in silver before)
    quarantined: int  # lines written to silver.events_quarantine
    consent_dropped: int  # analytics consent off: dropped and counted
    duplicates: int  # event_id already in silver, or repeated within the run
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    bronze_versions: tuple[int | None, int] | None = None  # (after, up_to] read
    min_event_date: str | None = None
    max_event_date: str | None = None

    @property
    def reconciles(self) -> bool:
        return self.lines_read == (
            self.silver_rows + self.quarantined + self.consent_dropped + self.duplicates
        )

    @property
    def quarantine_share(self) -> float:
        return self.quarantined / self.lines_read if self.lines_read else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"reconciles": self.reconciles}
