"""Child process of the crash test: archive a Parquet file in small batches, reporting each.

Usage: python crash_writer.py ARCHIVE.sqlite ALERTS.parquet BATCH
"""

import sys

import pyarrow.parquet as pq

from fink_like.archive.writer import ArchiveWriter
from fink_like.config import load_settings


def main(path: str, alerts: str, batch: int) -> None:
    settings = load_settings(None, env={}, overrides={"archive": {"path": path, "batch_size": 7}})
    table = pq.read_table(alerts)
    writer = ArchiveWriter(settings)
    for start in range(0, table.num_rows, batch):
        writer.write(table.slice(start, batch))
        print(f"wrote {start + batch}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
