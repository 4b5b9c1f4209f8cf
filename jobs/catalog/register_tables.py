"""spark-submit entry point: `eventlake catalog`, register the lake's Delta tables in the Spark catalog."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["catalog", *sys.argv[1:]]))
