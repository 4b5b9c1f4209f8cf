# Two commands on a fresh machine:  make demo   (end to end on the local lake)
#                                    make test   (the whole test suite)
# Everything else is installed by them: the venv, the packages, Spark's jars (Ivy cache).

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# dbt has a venv of its own (docs/dbt.md, "Why its own venv"): its pins of protobuf, pathspec
# and more-itertools would downgrade what Airflow and mypy use in the project's venv.
DBT_VENV  ?= .venv-dbt
DBT_STAMP := $(DBT_VENV)/.installed
export EVENTLAKE_DBT := $(abspath $(DBT_VENV))/bin/dbt
export EVENTLAKE_IVY_DIR ?= $(HOME)/.cache/eventlake/ivy
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup demo test test-fast airflow dbt clean-lake

setup: $(STAMP) $(DBT_STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (and Java 17) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,airflow]"
	$(BIN)/eventlake spark-defaults --install
	@# Local JVMs then start from a class archive (docs/deployment.md); only a speed-up.
	$(BIN)/eventlake jvm-archive || echo "setup: no JVM class archive; local runs start slower"
	touch $(STAMP)

$(DBT_STAMP): dbt/requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install --quiet --upgrade pip
	$(DBT_VENV)/bin/pip install --quiet -r dbt/requirements.txt
	touch $(DBT_STAMP)

demo: setup
	$(BIN)/eventlake demo

# Two pytest workers: most of a test's time is one JVM's single-threaded driver, a
# subprocess starting, or a server answering, so two workers keep both cores busy
# (docs/benchmarks.md, "The test suite"). Whole files go to a worker (module fixtures such
# as an Airflow home are built once), in testpaths order: the slowest first.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy
	export "$$(bash .ci/s3-server.sh)" && \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

test-fast: setup
	$(BIN)/pytest -m unit

airflow: setup
	bash scripts/airflow-standalone.sh

# The dbt models on the gold tables of EVENTLAKE_LAKE_URI (default ./lakehouse, as `make demo`
# leaves it), with their tests; the models land in dbt/target/eventlake.duckdb.
dbt: setup
	$(DBT_VENV)/bin/dbt build --project-dir dbt --profiles-dir dbt

clean-lake:
	rm -rf lakehouse
