"""Run folders and the ``latest`` pointer that query, serve, consume and kafka follow."""

from __future__ import annotations

import os

import pytest

from fink_like.config import load_settings
from fink_like.errors import UsageError
from fink_like.jobs import runs


@pytest.fixture
def embedded():
    return load_settings(None, env={})


def _make_run(root, name, archive=True):
    folder = root / name
    folder.mkdir(parents=True)
    if archive:
        (folder / "archive.sqlite").write_bytes(b"")
    return folder


def test_pointer_records_and_finds_the_latest_run(tmp_path, embedded):
    root = str(tmp_path / "runs")
    assert runs.latest_run(root) is None
    settings, run_dir = runs.isolate_run(embedded, root)
    assert settings.archive.path == f"{run_dir}/archive.sqlite"
    assert settings.kafka.embedded_dir == f"{run_dir}/kafka"
    _make_run(tmp_path / "runs", os.path.basename(run_dir))
    runs.record_latest(run_dir, root)
    assert runs.latest_run(root) == tmp_path / "runs" / os.path.basename(run_dir)


def test_follow_run_reads_the_latest_run_unless_the_configured_archive_is_newer(tmp_path, embedded, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "var" / "runs"
    old = _make_run(root, "20260101T000000")
    runs.record_latest(old, str(root))
    settings, run_dir = runs.follow_run(embedded, None, str(root))
    assert run_dir == old and settings.archive.path == str(old / "archive.sqlite")
    # The separate jobs wrote the configured archive after the run: that is the latest data.
    (tmp_path / "var" / "archive.sqlite").write_bytes(b"")
    os.utime(old / "archive.sqlite", (1, 1))
    assert runs.follow_run(embedded, None, str(root)) == (embedded, None)
    # --run still picks the run, by time stamp or by path.
    assert runs.follow_run(embedded, "20260101T000000", str(root))[1] == old
    assert runs.follow_run(embedded, str(old), str(root))[1] == old


def test_a_configuration_with_its_own_archive_does_not_follow_runs(tmp_path):
    root = tmp_path / "runs"
    runs.record_latest(_make_run(root, "r1"), str(root))
    own = load_settings(None, env={}, overrides={"archive": {"path": str(tmp_path / "mine.sqlite")}})
    assert runs.follow_run(own, None, str(root)) == (own, None)


def test_unknown_run_is_a_usage_error(tmp_path, embedded):
    with pytest.raises(UsageError, match="no such run folder"):
        runs.follow_run(embedded, "19990101T000000", str(tmp_path))
    with pytest.raises(UsageError, match="no run recorded"):
        runs.follow_run(embedded, "latest", str(tmp_path))


def test_where_runs_are_names_the_latest_archive(tmp_path):
    root = tmp_path / "runs"
    assert "no run is recorded" in runs.where_runs_are(str(root))
    runs.record_latest(_make_run(root, "r1"), str(root))
    assert str(root / "r1" / "archive.sqlite") in runs.where_runs_are(str(root))


def test_next_commands_follow_the_run_and_mention_consume_only_with_a_broker():
    from fink_like.cli.run_cmd import next_commands
    from fink_like.config import EMBEDDED_CONFIG

    embedded = load_settings(EMBEDDED_CONFIG, env={})
    busiest = embedded.distribution.filters[-1].topic
    kept = next_commands(embedded, "var/runs/x", kept_kafka=True, published={busiest: 7})
    assert "fink-like query latest" in kept and "fink-like serve" in kept
    assert f"fink-like consume --topic {busiest} " in kept
    assert "fink-like kafka stop" in kept
    stopped = next_commands(embedded, "var/runs/x", kept_kafka=False)
    assert "fink-like consume --topic" not in stopped and "--keep-kafka" in stopped
