"""The embedded archive's write-ahead log is checkpointed when the writer closes, so the
``.sqlite`` file alone holds everything: copying it loses nothing (issue 12, item 8)."""

from __future__ import annotations

import shutil
import sqlite3

from fink_like.archive.backends import close_archive
from fink_like.archive.query import Archive
from fink_like.archive.writer import ArchiveWriter


def _copy_alone(path, tmp_path):
    copy = tmp_path / "copy" / "archive.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # the .sqlite file only: no -wal, no -shm
    return copy


def _alert_ids(settings, path):
    reader = Archive(settings.model_copy(update={"archive": settings.archive.model_copy(update={"path": str(path)})}))
    try:
        return sorted(reader.latest(limit=10000).table.column("alert_id").to_pylist())
    finally:
        reader.close()


def test_closing_the_writer_leaves_nothing_in_the_log(make_settings, alerts, tmp_path):
    settings = make_settings()
    path = settings.archive.path
    writer = ArchiveWriter(settings)
    writer.write(alerts[:1])
    # Another connection stays open, as an executor's cached writer does after a job.
    idle = sqlite3.connect(path)
    idle.execute("SELECT count(*) FROM sqlite_master").fetchall()
    writer.write(alerts)
    assert (tmp_path / "archive.sqlite-wal").stat().st_size > 0  # the rows are in the log
    writer.close()
    assert (tmp_path / "archive.sqlite-wal").stat().st_size == 0
    assert _alert_ids(settings, _copy_alone(path, tmp_path)) == sorted(alerts.column("alert_id").to_pylist())
    idle.close()


def test_a_job_checkpoints_what_unclosed_writers_left(make_settings, alerts, tmp_path):
    """Executors never close their writers; the job's close_archive() moves the log in."""
    settings = make_settings()
    writer = ArchiveWriter(settings)
    writer.write(alerts)  # never closed, like a Spark worker's cached writer
    close_archive(settings)
    copy = _copy_alone(settings.archive.path, tmp_path)
    assert _alert_ids(settings, copy) == sorted(alerts.column("alert_id").to_pylist())
    writer.close()
