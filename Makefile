# Two commands on a fresh machine:  make demo   (end to end on the local lake)
#                                    make test   (the whole test suite)
# Everything else is installed by them: the venv, the packages, Spark's jars (Ivy cache).

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARCHIVE_STAMP := $(VENV)/.jvm-archive
# dbt has a venv of its own (docs/dbt.md, "Why its own venv"): its pins of protobuf, pathspec
# and more-itertools would downgrade what Airflow and mypy use in the project's venv.
DBT_VENV  ?= .venv-dbt
DBT_STAMP := $(DBT_VENV)/.installed
export EVENTLAKE_DBT := $(abspath $(DBT_VENV))/bin/dbt
export EVENTLAKE_IVY_DIR ?= $(HOME)/.cache/eventlake/ivy
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup lint demo test test-fast airflow dbt clean-lake

setup: $(STAMP) $(ARCHIVE_STAMP) $(DBT_STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (and Java 17) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,airflow]"
	$(BIN)/eventlake spark-defaults --install
	touch $(STAMP)

# Local JVMs then start from a class archive (docs/deployment.md); only a speed-up.
$(ARCHIVE_STAMP): $(STAMP)
	$(BIN)/eventlake jvm-archive || echo "setup: no JVM class archive; local runs start slower"
	touch $(ARCHIVE_STAMP)

# After the project's venv (order only): one pip at a time fetches, and under `make test` this
# install then overlaps the archive's training, which is the JVM's work, not the network's.
$(DBT_STAMP): dbt/requirements.txt | $(STAMP)
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

# Setup's three parts after the venv (the archive's training, the dbt venv, the linters) run
# side by side. On a clean clone with a warm pip cache, setup and lint took 176 s with the
# parts one after another and 166 s side by side (docs/benchmarks.md): the training, most
# of it, slows when it shares the cores. Each part's output is printed whole when it ends.
test:
	@$(MAKE) --no-print-directory --jobs=3 --output-sync=target setup lint
	export "$$(bash .ci/s3-server.sh)" && \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

lint: $(STAMP)
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy

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
