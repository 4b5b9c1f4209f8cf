"""spark-submit entry point: the whole pipeline in one JVM (`eventlake pipeline`).

    spark-submit jobs/pipeline/run_pipeline.py [--run-id ID] [--as-of TIME]
                                               [--from-date D --to-date D] [--force]

bronze, its gate, silver, its audit, gold, its audit, then the catalog: every layer behind
its quality gate, one JVM start for all of them. Exit 3 when a critical expectation fails
(nothing downstream of it ran), 75 when another writer holds the lake, 0 otherwise —
including an idle run, which reads the lake's state and writes nothing.
"""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["pipeline", *sys.argv[1:]]))
