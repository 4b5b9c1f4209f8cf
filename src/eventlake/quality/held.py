"""Bronze batches held back from silver: a bronze run whose gate failed stays failed.

Bronze records a batch's landing files in its ledger when it appends them, before its gate
runs. A rerun after a failed bronze gate therefore finds nothing new, its gate has no batch
to check, and silver would go on to read the batch that failed: the gate would have stopped
silver for one run only.

So a failed bronze gate holds its run: one object per run, `_state/held/bronze-<run_id>.json`,
with the run's summary (its bronze version and counts; the run log's entry for that run id
can be replaced by a later run with the same id). Before silver reads bronze, every held run
is validated again, as it was recorded, with the thresholds of the settings in force:

- a run that passes now (an operator changed a threshold) is released, and silver reads it;
- a run that still fails stops the run before silver, with exit 3, as its first failure did.

Silver's own gate is the same kind of guard one layer down (its watermark moves only after
it passes). An operator who accepts a held batch as it is (silver quarantines what it cannot
use) releases it with `eventlake quality --release <run_id>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from eventlake.config import Settings
from eventlake.errors import UserError

HELD_STATE = "_state/held"
_PREFIX = "bronze-"


@dataclass(frozen=True)
class HeldRun:
    run_id: str
    summary: dict[str, Any]  # the bronze run's summary, as its gate read it
    held_at: str  # ISO-8601 UTC
    reason: str  # the gate's failure, in words

    @property
    def key(self) -> str:
        return held_key(self.run_id)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, default=str).encode()

    @classmethod
    def from_json(cls, data: bytes, key: str) -> HeldRun:
        """A stored hold; one that is not what `to_json` wrote is named, not a stack trace."""
        try:
            fields = json.loads(data)
            return cls(str(fields["run_id"]), dict(fields["summary"]), str(fields["held_at"]), str(fields["reason"]))
        except (ValueError, KeyError, TypeError) as error:
            raise UserError(
                f"{key} is not a held bronze run ({type(error).__name__}: {error}); "
                "restore it or delete it to release the run"
            ) from None


def held_key(run_id: str) -> str:
    """The run's object; the id is quoted so that any id (a `/`, a space) is one file name."""
    from urllib.parse import quote

    return f"{HELD_STATE}/{_PREFIX}{quote(run_id, safe='')}.json"


def hold_bronze_run(settings: Settings, run_id: str, summary: Mapping[str, Any], reason: str) -> HeldRun:
    """Keep silver from reading bronze run `run_id` until its gate passes or it is released."""
    from eventlake.lease import store_for

    held = HeldRun(run_id, dict(summary), datetime.now(UTC).isoformat(), reason)
    store_for(settings).put(held.key, held.to_json())
    return held


def held_bronze_runs(settings: Settings) -> list[HeldRun]:
    """Every held bronze run, oldest first. Read without Spark (`eventlake.pending` asks)."""
    from eventlake.lease import store_for

    store = store_for(settings)
    runs = []
    for name in store.names(HELD_STATE):
        if name.startswith(_PREFIX) and name.endswith(".json"):
            key = f"{HELD_STATE}/{name}"
            data = store.get(key)
            if data:
                runs.append(HeldRun.from_json(data, key))
    return sorted(runs, key=lambda run: run.held_at)


def release_bronze_run(settings: Settings, run_id: str) -> HeldRun | None:
    """Let silver read a held run's lines; returns the hold released (None: no such run is
    held), so that the caller can say what it was."""
    from eventlake.lease import store_for

    store, key = store_for(settings), held_key(run_id)
    data = store.get(key)
    if data is None:
        return None
    held = HeldRun.from_json(data, key)
    store.delete(key)
    return held
