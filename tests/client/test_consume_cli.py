"""``fink-like consume``: save, crash, restart, and every alert is there once after dedupe."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from fink_like.cli import main
from fink_like.client.sink import read_saved

pytestmark = pytest.mark.kafka


def env_for(bootstrap, schema_topic, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINK_LIKE")}
    env.update({
        "FINK_LIKE__KAFKA__EMBEDDED": "false",
        "FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "FINK_LIKE__DISTRIBUTION__SCHEMA_TOPIC": schema_topic,
        "FINK_LIKE__DISTRIBUTION__SCHEMA_DIR": str(tmp_path / "schemas"),
    })
    return env


def consume_cmd(topic, group, save, fmt="avro"):
    return [sys.executable, "-m", "fink_like.cli", "consume", "--topic", topic, "--group", group,
            "--from-beginning", "--save", str(save), "--format", fmt, "--batch", "7",
            "--idle-timeout", "3", "--quiet"]


def test_killed_client_resumes_without_loss(published, kafka_bootstrap, tmp_path):
    save, group = tmp_path / "saved", f"g-{uuid.uuid4().hex[:6]}"
    env = env_for(kafka_bootstrap, published["schema_topic"], tmp_path)
    first = subprocess.Popen(consume_cmd(published["topic"], group, save), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (save.is_dir() and any(p.suffix == ".avro" for p in save.iterdir())):
        assert first.poll() is None, first.stderr.read().decode()
        assert time.monotonic() < deadline, "the client saved nothing in 120 s"
        time.sleep(0.02)  # polling the file system for the first saved batch
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    first.stderr.close()
    saved_before = len(read_saved(save))
    assert 0 < saved_before < published["table"].num_rows  # killed mid-way

    second = subprocess.run(consume_cmd(published["topic"], group, save), env=env,
                            capture_output=True, timeout=180)
    assert second.returncode == 0, second.stderr.decode()
    expected = {str(a) for a in published["table"]["alert_id"].to_pylist()}
    assert set(read_saved(save)) == expected
    # the restart resumed from the committed offsets: it did not re-read everything
    assert "received" in second.stderr.decode()
    received = int(second.stderr.decode().rsplit("received ", 1)[1].split()[0])
    assert received <= len(expected) - saved_before + 7


def test_parquet_and_max(published, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    for key, value in env_for(kafka_bootstrap, published["schema_topic"], tmp_path).items():
        if key.startswith("FINK_LIKE"):
            monkeypatch.setenv(key, value)
    rc = main(["consume", "--topic", published["topic"], "--from-beginning", "--max", "12",
               "--save", str(tmp_path / "pq"), "--format", "parquet"])
    assert rc == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 12
    first = published["table"].slice(0, 1).to_pylist()[0]
    assert lines[0].startswith(f"{published['topic']} {first['object_id']} alert={first['alert_id']} ")
    assert "mulens_prob=" in lines[0]
    saved = read_saved(tmp_path / "pq")
    assert set(saved) == {str(a) for a in published["table"]["alert_id"].to_pylist()[:12]}


def test_plain_words_errors(published, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    for key, value in env_for(kafka_bootstrap, published["schema_topic"], tmp_path).items():
        if key.startswith("FINK_LIKE"):
            monkeypatch.setenv(key, value)
    assert main(["consume", "--topic", "no-such-topic", "--max", "1"]) == 1
    assert "topic 'no-such-topic' does not exist" in capsys.readouterr().err
    monkeypatch.setenv("FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    assert main(["consume", "--topic", published["topic"], "--max", "1"]) == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in capsys.readouterr().err


def test_topics_and_schema_commands(published, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    for key, value in env_for(kafka_bootstrap, published["schema_topic"], tmp_path).items():
        if key.startswith("FINK_LIKE"):
            monkeypatch.setenv(key, value)
    conf = tmp_path / "c.yaml"
    conf.write_text(f"distribution:\n  filters:\n    - {{name: all, topic: {published['topic']}, "
                    f"expression: 'ndethist >= 1', cutouts: false}}\n"
                    f"    - {{name: later, topic: not-yet, expression: 'mag < 15'}}\n")
    assert main(["--config", str(conf), "topics", "list", "--json"]) == 0
    import json

    rows = {r["filter"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["all"]["messages"] == published["table"].num_rows
    assert rows["later"]["messages"] is None
    assert main(["--config", str(conf), "topics", "describe", published["topic"]]) == 0
    assert "partition 0: offsets 0.." in capsys.readouterr().out

    assert main(["schema", "list"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    from fink_like.distribution.registry import fetch_topic

    on_topic = fetch_topic({"bootstrap.servers": kafka_bootstrap}, published["schema_topic"])
    assert len(on_topic) == 2  # ZTF 4.02 and Rubin 9.0, thin
    assert {str(i) for i in on_topic} <= set(ids)
    assert main(["schema", "show", ids[0]]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "fink_like.distribution.alert"
    assert main(["schema", "export", str(tmp_path / "export")]) == 0
    assert {p.stem for p in (tmp_path / "export").glob("*.avsc")} == set(ids)
    assert main(["schema", "show", "123"]) == 2
