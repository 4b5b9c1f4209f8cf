"""How the suite runs the JVMs it starts in subprocesses (`eventlake`, `spark-submit`,
Airflow's tasks, spark-sql): they live for a minute on a few thousand rows.

tests/conftest.py puts these in this process's environment, so subprocesses inherit them;
a test that builds a subprocess environment from scratch adds `SHORT_LIVED_JVM_ENV`. The
worker's own session (conftest's `spark` fixture) lives for the whole run and keeps full JIT
and eventlake's heap.
"""

from __future__ import annotations

from eventlake.jvm_archive import C1_ONLY

# C2's compilations and G1's concurrent threads cost more CPU than they pay back in a JVM
# this short: C1 only and the serial collector cut a 1,500-event pipeline's JVM CPU from
# 240 s to 164 s at the same wall time (docs/benchmarks.md, "The test suite"). C1_ONLY keeps
# C2's code cache size (eventlake.jvm_archive says why). Also for the executors and daemons
# of the suite's standalone cluster (tests/standalone_cluster.py).
SHORT_LIVED_JAVA_OPTIONS = f"{C1_ONLY} -XX:+UseSerialGC"

SHORT_LIVED_JVM_ENV = {
    # The spark-submit launcher adds SPARK_SUBMIT_OPTS to each driver JVM.
    "SPARK_SUBMIT_OPTS": SHORT_LIVED_JAVA_OPTIONS,
    # A few thousand rows fit in spark-submit's 1g default (Airflow's tasks have always run
    # with it); eventlake's local 4g is sized for a million events. Up to six JVMs at once
    # (two workers, each with subprocesses) must fit the machine.
    "SPARK_DRIVER_MEMORY": "1g",
    # Two tasks per shuffle and per Delta snapshot load, as the worker's session has always
    # run. With 16 shuffle partitions and Delta's 50 snapshot partitions (what spark-submit
    # got before EVENTLAKE_SPARK_PARTITIONS), an Airflow erasure on a 600-event lake ran
    # about 3,300 tasks, most of its CPU. Results do not depend on it.
    "EVENTLAKE_SPARK_PARTITIONS": "2",
}
