"""Commands that read a run's services: no broker means an error and no new broker; no archive
means an error and no new file; serve refuses a busy port; serve --run serves that run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from fink_like.cli import main
from fink_like.kafka.embedded import EmbeddedKafka, free_port


@pytest.fixture
def no_broker(tmp_path):
    """Embedded settings whose Kafka state folder holds no running broker."""
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"kafka": {"embedded": True, "embedded_dir": str(tmp_path / "kafka")},
                                    "archive": {"path": str(tmp_path / "a" / "archive.sqlite")}}))
    return str(path), tmp_path / "kafka"


@pytest.mark.parametrize("argv", [["consume", "--topic", "fink-like.sn_candidates", "--max", "1"],
                                  ["topics", "list"], ["schema", "list"]])
def test_readers_say_no_broker_runs_and_start_none(no_broker, argv, capsys):
    config, state = no_broker
    assert main(["--config", config, *argv]) == 1
    err = capsys.readouterr().err
    assert "no Kafka broker to read from" in err and "--keep-kafka" in err
    assert EmbeddedKafka(state).status() is None and not (state / "tansu.pid").exists()


def test_kafka_status_json_is_an_object_when_down(no_broker, capsys):
    config, state = no_broker
    assert main(["--config", config, "kafka", "status", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"running": False, "state_dir": str(state)}


def test_serve_refuses_a_missing_archive_and_creates_nothing(no_broker, tmp_path, capsys):
    config, _state = no_broker
    assert main(["--config", config, "serve", "--port", str(free_port())]) == 1
    assert "archive not found" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_serve_refuses_a_port_in_use(alerts_archive, capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["--config", alerts_archive["config"], "serve", "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_serve_run_serves_that_runs_archive(alerts_archive, tmp_path):
    """A real server (subprocess) on the run's archive; readiness is polled with a deadline."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "fink_like.cli", "--config", alerts_archive["embedded"],
                             "serve", "--run", str(alerts_archive["run"]), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/latest?limit=1000", timeout=5) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "the API did not answer within 60 s"
                time.sleep(0.1)  # polling the server's readiness
        rows = body["results"]
        assert sorted(r["alert_id"] for r in rows) == alerts_archive["ids"]
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()


@pytest.fixture
def alerts_archive(tmp_path, make_settings, shared_data):
    """A run folder holding an archive of real alerts, and configurations to read it."""
    from fink_like.archive.writer import ArchiveWriter
    from fink_like.surveys.files import read_alert_files

    run = tmp_path / "runs" / "20260101T000000"
    settings = make_settings(archive={"path": str(run / "archive.sqlite")})
    table = read_alert_files(sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:12])
    writer = ArchiveWriter(settings)
    writer.write(table)
    writer.close()
    config = tmp_path / "own.yaml"
    config.write_text(yaml.safe_dump({"archive": {"path": settings.archive.path}}))
    embedded = tmp_path / "embedded.yaml"
    embedded.write_text(yaml.safe_dump({"kafka": {"embedded_dir": str(tmp_path / "kafka")}}))
    return {"config": str(config), "embedded": str(embedded), "run": run,
            "ids": sorted(table.column("alert_id").to_pylist())}
