"""OpenLineage events for each layer a run builds: what it read and what it wrote.

Each layer (bronze, silver, gold) is an OpenLineage job, `eventlake.<layer>`, whose run is a
child of the pipeline run (`eventlake.pipeline`, the parent facet): a lineage server
(Marquez, DataHub, OpenMetadata…) draws landing → bronze.events → silver.events →
gold.<table> from them. The datasets are named as the OpenLineage naming spec names files
and objects (`file` + absolute path; `s3://bucket` + key), the same names Spark's own
OpenLineage listener gives these tables, so both sources meet on one graph.

Off unless configured, with the OpenLineage client's own settings: `OPENLINEAGE_URL` (HTTP,
e.g. Marquez), `OPENLINEAGE_CONFIG` (an openlineage.yml), or `OPENLINEAGE__TRANSPORT__*`
variables (e.g. `OPENLINEAGE__TRANSPORT__TYPE=file` with `…__LOG_FILE_PATH` and
`…__APPEND=true`); `OPENLINEAGE_DISABLED=true` turns it off. An event that cannot be sent is
a warning, never a failed run: lineage describes the lake, it does not guard it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from eventlake import __version__
from eventlake.config import Settings
from eventlake.lake import Lake

log = logging.getLogger(__name__)

PRODUCER = f"https://github.com/eventlake/eventlake/tree/{__version__}"
PIPELINE_JOB = "eventlake.pipeline"


def enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() in ("1", "true", "yes"):
        return False
    return any(name in env for name in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG")) or any(
        name.startswith("OPENLINEAGE__TRANSPORT") for name in env
    )


def dataset_name(path: str) -> tuple[str, str]:
    """(namespace, name) of a file or object path, as the OpenLineage naming spec has them."""
    for scheme in ("s3a://", "s3n://", "s3://"):
        if path.startswith(scheme):
            bucket, _, key = path[len(scheme):].partition("/")
            return f"s3://{bucket}", key.rstrip("/")
    return "file", path.removeprefix("file:").rstrip("/")


def layer_datasets(settings: Settings, layer: str, gold_tables: Sequence[str] | None = None
                   ) -> tuple[list[str], list[str]]:
    """The paths a layer reads and writes (the lake's tables, not its bookkeeping)."""
    lake = Lake.from_settings(settings)
    if layer == "bronze":
        return [lake.landing_events], [lake.bronze_events.path]
    if layer == "silver":
        return [lake.bronze_events.path], [lake.silver_events.path, lake.silver_quarantine.path]
    if layer == "gold":
        if gold_tables is None:
            from eventlake.gold.tables import GOLD_TABLES

            gold_tables = list(GOLD_TABLES)
        return [lake.silver_events.path], [lake.gold(name).path for name in gold_tables]
    raise ValueError(f"unknown layer {layer!r}")


def run_uuid(*parts: str) -> str:
    """A run id OpenLineage accepts (a UUID), the same for the same eventlake run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "eventlake:" + ":".join(parts)))


@contextmanager
def layer_run(settings: Settings, layer: str, *, run_id: str,
              gold_tables: Sequence[str] | None = None) -> Iterator[None]:
    """START before the layer runs, then COMPLETE, or FAIL if it raised (and re-raise)."""
    if not enabled():
        yield
        return
    inputs, outputs = layer_datasets(settings, layer, gold_tables)
    _emit(layer, run_id, "START", inputs, outputs)
    try:
        yield
    except BaseException:
        _emit(layer, run_id, "FAIL", inputs, outputs)
        raise
    _emit(layer, run_id, "COMPLETE", inputs, outputs)


_client: Any = None


def parent_facet(namespace: str, run_id: str, env: Mapping[str, str] | None = None) -> Any:
    """Whose child a layer's run is: the run that started this job when it says so (an
    Airflow task passes `OPENLINEAGE_PARENT_ID` = namespace/job/run id, and
    `OPENLINEAGE_ROOT_PARENT_ID` for its DAG run, the names Airflow's OpenLineage macros and
    dbt-ol use), else eventlake's own pipeline run."""
    from openlineage.client.facet_v2 import parent_run

    env = os.environ if env is None else env
    given = run_reference(env.get("OPENLINEAGE_PARENT_ID", ""))
    if given is None:
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run_uuid(run_id)),
            job=parent_run.Job(namespace=namespace, name=PIPELINE_JOB),
        )
    root = run_reference(env.get("OPENLINEAGE_ROOT_PARENT_ID", ""))
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=given[2]),
        job=parent_run.Job(namespace=given[0], name=given[1]),
        root=None if root is None else parent_run.Root(
            run=parent_run.RootRun(runId=root[2]), job=parent_run.RootJob(namespace=root[0], name=root[1]),
        ),
    )


def run_reference(value: str) -> tuple[str, str, str] | None:
    """(namespace, job name, run id) from `namespace/job/run id`; the job name may hold '/'."""
    namespace, _, rest = value.strip().partition("/")
    job, _, run = rest.rpartition("/")
    try:
        uuid.UUID(run)
    except ValueError:
        return None
    return (namespace, job, run) if namespace and job else None


def _emit(layer: str, run_id: str, state: str, inputs: list[str], outputs: list[str]) -> None:
    global _client
    try:
        from openlineage.client import OpenLineageClient
        from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import job_type_job

        if _client is None:
            _client = OpenLineageClient()
        namespace = os.environ.get("OPENLINEAGE_NAMESPACE", "eventlake")
        parent = parent_facet(namespace, run_id)
        job_type = job_type_job.JobTypeJobFacet(processingType="BATCH", integration="EVENTLAKE", jobType="LAYER")
        event = RunEvent(
            eventType=RunState[state],
            eventTime=datetime.now(timezone.utc).isoformat(),
            run=Run(runId=run_uuid(run_id, layer), facets={"parent": parent}),
            job=Job(namespace=namespace, name=f"eventlake.{layer}", facets={"jobType": job_type}),
            inputs=[InputDataset(*dataset_name(path)) for path in inputs],
            outputs=[OutputDataset(*dataset_name(path)) for path in outputs],
            producer=PRODUCER,
        )
        _client.emit(event)
    except Exception as error:  # lineage describes the lake; it never fails a run
        log.warning("lineage: could not emit %s of eventlake.%s: %s", state, layer, error)
