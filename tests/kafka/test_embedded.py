"""The embedded tansu broker and the ``fink-like kafka`` command."""

from __future__ import annotations

import pytest

from fink_like.cli import main
from fink_like.kafka.embedded import EmbeddedKafka, ensure_embedded, healthy

pytestmark = pytest.mark.kafka


def test_start_status_reuse_stop(tmp_path):
    broker = EmbeddedKafka(tmp_path / "k")
    bootstrap = broker.start()
    try:
        info = broker.status()
        assert info["bootstrap"] == bootstrap and info["healthy"] is True
        assert (tmp_path / "k" / "tansu.pid").read_text().strip() == str(info["pid"])
        # A second handle on the same folder reuses the running broker.
        again = EmbeddedKafka(tmp_path / "k")
        assert again.start() == bootstrap
        assert again.status()["pid"] == info["pid"]
    finally:
        broker.stop()
    assert broker.status() is None
    assert not (tmp_path / "k" / "tansu.pid").exists()
    assert not healthy(bootstrap, timeout=0.5)


def test_cli_start_status_stop(tmp_path, capsys):
    state = str(tmp_path / "cli")
    conf = tmp_path / "c.yaml"
    conf.write_text(f"kafka:\n  embedded: true\n  embedded_dir: {state}\n")
    assert main(["--config", str(conf), "kafka", "status"]) == 1
    assert "not running" in capsys.readouterr().out
    try:
        assert main(["--config", str(conf), "kafka", "start"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("kafka running at 127.0.0.1:")
        assert main(["--config", str(conf), "kafka", "status"]) == 0
        assert "healthy" in capsys.readouterr().out
    finally:
        assert main(["--config", str(conf), "kafka", "stop"]) == 0
    assert capsys.readouterr().out.strip() == "kafka stopped"
    assert EmbeddedKafka(state).status() is None


def test_ensure_embedded(make_settings):
    settings = make_settings()
    bootstrap = ensure_embedded(settings)
    try:
        assert ensure_embedded(settings) == bootstrap
    finally:
        EmbeddedKafka(settings.kafka.embedded_dir).stop()
    external = make_settings(kafka={"embedded": False, "bootstrap_servers": "k1:9092"})
    assert ensure_embedded(external) == "k1:9092"
