"""What each layer's run reports: reconciled counts an operator (and the quality gates) read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class BronzeRun:
    run_id: str
    files_found: int  # landing files listed
    files_ingested: int  # new files read into bronze by this run
    lines_ingested: int  # rows appended to bronze.events
    bronze_version: int | None  # bronze table version after the run
    new_files: tuple[str, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("new_files")
        return data


@dataclass(frozen=True)
class SilverRun:
    """A silver run's counts, each measured on its own so that they can disagree.

    lines_read == silver_rows + quarantined + consent_dropped + duplicates when nothing was
    lost; silver_rows == new_event_ids when the silver MERGE wrote what the run meant to
    write; quarantine_written + quarantine_present == quarantined likewise for quarantine.
    """

    run_id: str
    lines_read: int  # bronze lines this run processed
    silver_rows: int  # rows the silver MERGE inserted (its metrics)
    quarantined: int  # lines judged for silver.events_quarantine
    consent_dropped: int  # analytics consent off: dropped and counted
    duplicates: int  # in_run_duplicates + cross_run_duplicates
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    bronze_versions: tuple[int | None, int] | None = None  # (after, up_to] read
    min_event_date: str | None = None
    max_event_date: str | None = None
    in_run_duplicates: int = 0  # consented valid lines minus the rows left by the in-run dedupe
    cross_run_duplicates: int = 0  # deduped rows whose event_id silver held before the MERGE
    silver_replaced: int = 0  # of those, stored copies replaced by this earlier one (MERGE metrics)
    new_event_ids: int = 0  # deduped rows whose event_id silver did not hold: to be inserted
    quarantine_written: int = 0  # rows the quarantine MERGE inserted (its metrics)
    quarantine_present: int = 0  # quarantined lines already stored (a rerun after a kill)

    @property
    def reconciles(self) -> bool:
        return self.lines_read == (
            self.silver_rows + self.quarantined + self.consent_dropped + self.duplicates
        ) and self.duplicates == self.in_run_duplicates + self.cross_run_duplicates

    @property
    def rows_written_as_found(self) -> bool:
        """Both MERGEs wrote exactly the rows the run found to write."""
        return (
            self.silver_rows == self.new_event_ids
            and self.quarantine_written + self.quarantine_present == self.quarantined
        )

    @property
    def quarantine_share(self) -> float:
        return self.quarantined / self.lines_read if self.lines_read else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "reconciles": self.reconciles,
            "rows_written_as_found": self.rows_written_as_found,
        }
