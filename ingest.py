"""Thin entry point: `python ingest.py` runs the MQTT ingest daemon (same as `enertrack ingest`)."""

import sys

from enertrack.ingest.daemon import main

if __name__ == "__main__":
    sys.exit(main())
