"""The maintenance defaults, in one light module (no Spark import): the jobs' options, the
library functions and the maintenance DAG's params all read them from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eventlake.errors import UserError

# OPTIMIZE / Z-order rewrites only this many recent days of a partitioned table.
RECENT_DAYS = 7
# VACUUM keeps files younger than this, Delta's own default: time travel, running readers
# and change-feed consumers that lag up to a week still find their files.
VACUUM_RETAIN_HOURS = 168


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each layer keeps its rows (source 004 §8.3); gold is kept."""

    landing_days: int = 90
    bronze_days: int = 90
    # Quarantine holds raw lines, like bronze, so it ages out with bronze, not with silver.
    quarantine_days: int = 90
    silver_days: int = 365

    def __post_init__(self) -> None:
        for name, days in asdict(self).items():
            if days < 1:
                raise UserError(f"retention {name}={days}: keep at least one day")
