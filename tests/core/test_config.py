"""Settings: files, environment overrides, validation messages, secrets, reference docs."""

from pathlib import Path

import pytest

from fink_like.cli import main
from fink_like.config import load_settings, reference_markdown
from fink_like.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_configurations_load():
    local = load_settings(ROOT / "conf" / "local.yaml", env={})
    assert local.kafka.embedded is True
    assert local.archive.backend == "embedded"


def test_environment_overrides_file_and_parses_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("spark:\n  shuffle_partitions: 3\n")
    env = {"FINK_LIKE__SPARK__SHUFFLE_PARTITIONS": "7", "FINK_LIKE__INPUT__TOPICS": "[a, b]"}
    s = load_settings(path, env=env)
    assert s.spark.shuffle_partitions == 7
    assert s.input.topics == ["a", "b"]


@pytest.mark.parametrize("env, key", [
    ({"FINK_LIKE__KAFKA__SECURITY_PROTOCOL": "SMOKE"}, "kafka.security_protocol"),
    ({"FINK_LIKE__API__PORT": "70000"}, "api.port"),
    ({"FINK_LIKE__SPARK__NO_SUCH_KEY": "1"}, "spark.no_such_key"),
    ({"FINK_LIKE__INPUT__MAX_OFFSETS_PER_TRIGGER": "0"}, "input.max_offsets_per_trigger"),
])
def test_bad_values_name_the_key(env, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(None, env=env)


def test_sasl_requires_mechanism_and_user():
    with pytest.raises(ConfigError, match="kafka.sasl_mechanism"):
        load_settings(None, env={"FINK_LIKE__KAFKA__SECURITY_PROTOCOL": "SASL_SSL"})


def test_secrets_never_printed(capsys):
    env = {
        "FINK_LIKE__KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "FINK_LIKE__KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "FINK_LIKE__KAFKA__SASL_USERNAME": "broker",
        "FINK_LIKE__KAFKA__SASL_PASSWORD": "hunter2-very-secret",
    }
    s = load_settings(None, env=env)
    assert s.kafka.sasl_password.get_secret_value() == "hunter2-very-secret"
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.redacted())


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad, env={})
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings(scalar, env={})


def test_cli_exit_codes(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FINK_LIKE_CONFIG", raising=False)
    assert main(["config", "check"]) == 0
    assert main(["config", "nonsense"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("api:\n  port: -1\n")
    assert main(["--config", str(bad), "config", "check"]) == 2
    assert "api.port" in capsys.readouterr().err


def test_reference_docs_are_current():
    assert (ROOT / "docs" / "configuration.md").read_text() == reference_markdown()
