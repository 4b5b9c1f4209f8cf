#!/usr/bin/env bash
# Start Airflow locally on this checkout's dags/ folder: one command, SQLite, no examples.
#
#   scripts/airflow-standalone.sh            # UI on http://127.0.0.1:8080 (login printed)
#
# State (SQLite DB, logs, generated admin password) lives in $EVENTLAKE_AIRFLOW_HOME
# (default: ~/.local/state/eventlake/airflow). Stop with Ctrl-C (SIGINT; SIGTERM can leave
# worker processes behind). The eventlake settings (EVENTLAKE_LAKE_URI, ...) are read from
# this shell's environment by the jobs the DAGs submit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${EVENTLAKE_VENV:-$repo/.venv}"
if [[ ! -x "$venv/bin/airflow" ]]; then
  echo "airflow-standalone: no Airflow in $venv; install it with:" >&2
  echo "  $venv/bin/pip install -e '$repo[airflow,dev]'" >&2
  exit 2
fi

# spark-submit, airflow and the jobs' python all come from the one venv (see docs/airflow.md).
export PATH="$venv/bin:$PATH"
export AIRFLOW_HOME="${EVENTLAKE_AIRFLOW_HOME:-${XDG_STATE_HOME:-$HOME/.local/state}/eventlake/airflow}"
mkdir -p "$AIRFLOW_HOME"
export AIRFLOW__CORE__DAGS_FOLDER="$repo/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-sqlite:///$AIRFLOW_HOME/airflow.db}"
# Where spark-submit sends the jobs: local[*] on a laptop, spark://host:7077 on a cluster.
export AIRFLOW_CONN_SPARK_DEFAULT="${AIRFLOW_CONN_SPARK_DEFAULT:-{\"conn_type\": \"spark\", \"host\": \"${EVENTLAKE_SPARK_MASTER:-local[*]}\"}}"
export EVENTLAKE_LAKE_URI="${EVENTLAKE_LAKE_URI:-$repo/lakehouse}"

echo "airflow-standalone: AIRFLOW_HOME=$AIRFLOW_HOME dags=$AIRFLOW__CORE__DAGS_FOLDER lake=$EVENTLAKE_LAKE_URI" >&2
airflow db migrate >/dev/null
# Every eventlake task runs in this one-slot pool (one writer of the lake at a time);
# tasks in a pool that does not exist are never scheduled. Idempotent.
airflow pools set eventlake_lake 1 "eventlake: one writer of the lake at a time" >/dev/null
exec airflow standalone
