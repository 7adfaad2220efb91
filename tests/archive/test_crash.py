"""A writer killed mid-write, then run again, leaves every alert archived exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from fink_like.archive import model
from fink_like.archive.query import Archive
from fink_like.archive.writer import ArchiveWriter


def test_kill_and_rewrite_leaves_no_duplicates_and_no_loss(make_settings, real_alerts, tmp_path):
    alerts = tmp_path / "alerts.parquet"
    pq.write_table(real_alerts, alerts)
    settings = make_settings(archive={"batch_size": 7})
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("crash_writer.py")), settings.archive.path,
         str(alerts), "20"], stdout=subprocess.PIPE, text=True)
    seen = [child.stdout.readline() for _ in range(3)]  # three batches are durable
    child.send_signal(signal.SIGKILL)  # killed while writing the fourth (or later) batch
    child.wait(timeout=60)
    child.stdout.close()
    assert all(line.startswith("wrote") for line in seen) and child.returncode == -signal.SIGKILL

    archive = Archive(settings)
    partial = sum(1 for _ in archive.backend.scan(archive._table("alerts")))
    assert 60 <= partial < real_alerts.num_rows

    writer = ArchiveWriter(settings)  # the restarted job replays everything
    writer.write(real_alerts)
    writer.close()

    expected = {model.main_key(o, m, a) for o, m, a in zip(
        *(real_alerts.column(c).to_pylist() for c in ("object_id", "mjd", "alert_id")))}
    assert len(expected) == real_alerts.num_rows
    main = [k for k, _ in archive.backend.scan(archive._table("alerts"))]
    assert sorted(main) == sorted(expected)
    for index in ("pixel", "class", "time", "source"):
        keys = list(archive.backend.scan(archive._table(index)))
        assert len(keys) == real_alerts.num_rows, index
    pointers = {c[b"i:key"] for _, c in archive.backend.scan(archive._table("time"))}
    assert pointers == expected
    cutouts = sum(1 for _ in archive.backend.scan(archive._table("cutouts")))
    assert cutouts == real_alerts.num_rows
    archive.close()
