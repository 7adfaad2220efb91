"""Settings: files, environment overrides, validation messages, secrets, reference docs."""

from pathlib import Path

import pytest
import yaml

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


# --- issue 12: secrets, masking, environment errors, pre-flight -----------------------------

SASL = {"FINK_LIKE__KAFKA__SECURITY_PROTOCOL": "SASL_SSL", "FINK_LIKE__KAFKA__SASL_MECHANISM": "PLAIN",
        "FINK_LIKE__KAFKA__SASL_USERNAME": "broker"}


@pytest.mark.parametrize("secret", ["abc #def", "null", "~", "  spaced  ", "8675309", "0123", "yes", "on",
                                    "[hunter2S3cr3t", "@foo", "'quoted", '"', "{a: b}", "", "a\nb"])
def test_secret_from_the_environment_is_taken_exactly_as_given(secret):
    s = load_settings(None, env={**SASL, "FINK_LIKE__KAFKA__SASL_PASSWORD": secret})
    assert s.kafka.sasl_password.get_secret_value() == secret
    from fink_like.kafka.conf import client_conf

    assert client_conf(s.kafka)["sasl.password"] == secret


@pytest.mark.parametrize("value", ["[hunter2S3cr3t", "@foo", "'quoted", "8675309"])
def test_a_rejected_secret_is_never_echoed(value, capsys):
    """A secret that fails validation (here: under a key that takes a mapping) is not printed."""
    env = {"FINK_LIKE__KAFKA__EXTRA__SASL.PASSWORD": value, "FINK_LIKE__KAFKA__SSL_KEY_PASSWORD": value,
           "FINK_LIKE__API__PORT": "not-a-port"}
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env=env)
    text = str(caught.value)
    assert "api.port" in text and "FINK_LIKE__API__PORT='not-a-port'" in text
    assert value not in text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # no pydantic text


def test_an_unclosed_quote_in_the_file_does_not_print_the_secret(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("kafka:\n  sasl_password: 'hunter2S3cr3t\n  sasl_username: u\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert "hunter2" not in str(caught.value) and "line" in str(caught.value)
    assert caught.value.__cause__ is None


def test_a_bad_file_value_is_not_echoed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("kafka:\n  sasl_pasword: hunter2S3cr3t\n")  # typo: an unknown key
    with pytest.raises(ConfigError, match=r"kafka\.sasl_pasword") as caught:
        load_settings(path, env={})
    assert "hunter2" not in str(caught.value)


def test_bad_environment_value_names_key_variable_and_value():
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={"FINK_LIKE__SPARK__TRIGGER_SECONDS": "abc"})
    assert "spark.trigger_seconds" in str(caught.value)
    assert "FINK_LIKE__SPARK__TRIGGER_SECONDS='abc'" in str(caught.value)


def test_non_text_settings_still_parse_yaml_and_text_ones_do_not():
    s = load_settings(None, env={"FINK_LIKE__SPARK__SHUFFLE_PARTITIONS": "4",
                                 "FINK_LIKE__INPUT__TOPICS": "[a, b]",
                                 "FINK_LIKE__SPARK__APP_NAME": "0123",
                                 "FINK_LIKE__KAFKA__EXTRA__CLIENT.ID": "yes"})
    assert s.spark.shuffle_partitions == 4 and s.input.topics == ["a", "b"]
    assert s.spark.app_name == "0123" and s.kafka.extra["client.id"] == "yes"


# librdkafka's properties flagged _RK_SENSITIVE (CONFIGURATION.md: "sensitive"), the newer
# OIDC client secret, and the Java client's credentials that users paste into kafka.extra.
LIBRDKAFKA_SENSITIVE = ["sasl.username", "sasl.password", "sasl.oauthbearer.config", "ssl.key.location",
                        "ssl.key.password", "ssl.key.pem", "ssl.ca.pem", "ssl.keystore.password",
                        "sasl.oauthbearer.client.secret"]
JAVA_CREDENTIALS = ["sasl.jaas.config", "ssl.truststore.password", "ssl.keystore.key"]


@pytest.mark.parametrize("key", LIBRDKAFKA_SENSITIVE + JAVA_CREDENTIALS)
def test_config_show_masks_every_credential_of_kafka_extra(key, tmp_path, capsys, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("FINK_LIKE"):
            monkeypatch.delenv(name)
    path = tmp_path / "c.yaml"
    secret = "TOPSECRET-" + key
    path.write_text(f"kafka:\n  extra:\n    '{key}': '{secret}'\n    client.id: visible-id\n")
    assert main(["--config", str(path), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert secret not in out and "visible-id" in out
    s = load_settings(path, env={})
    assert secret not in repr(s) and secret not in str(s.redacted())
    from fink_like.kafka.conf import client_conf

    assert client_conf(s.kafka)[key] == secret  # clients still get the value


def test_typed_credentials_are_masked_too():
    s = load_settings(None, env={**SASL, "FINK_LIKE__KAFKA__SASL_PASSWORD": "pw-1",
                                 "FINK_LIKE__KAFKA__SSL_KEY_PASSWORD": "pw-2",
                                 "FINK_LIKE__KAFKA__SSL_KEY_LOCATION": "/keys/client.key"})
    shown = str(s.redacted())
    assert "pw-1" not in shown and "pw-2" not in shown and "/keys/client.key" not in shown


def _check(tmp_path, text, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    status = main(["--config", str(path), "config", "check"])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("expression, message", [
    ("(ndethist >= 5", "expected ')'"),
    (">>", "expected a value"),
    ("no_such_column > 1", "unknown column"),
    ("__import__('os')", "unknown function"),
    ("__import__('os').system('true')", "unexpected character"),
    ("", "empty"),
])
def test_config_check_rejects_what_run_rejects_filters(expression, message, tmp_path, capsys):
    text = yaml.safe_dump({"distribution": {"filters": [{"name": "f", "topic": "t", "expression": expression}]}})
    status, err = _check(tmp_path, text, capsys)
    assert status == 2 and "distribution.filters[f]" in err and message in err, err


@pytest.mark.parametrize("text, message", [
    ("science:\n  quality_cuts: {ztf: 'rb >='}\n", "science.quality_cuts.ztf"),
    ("science:\n  modules: [{name: no_such_module}]\n", "unknown science module 'no_such_module'"),
    ("science:\n  modules: [{name: 'broken_syntax_module:Module'}]\n", "failed to import"),
    ("distribution:\n  filters:\n    - {name: a, topic: t, expression: 'ndethist > 1'}\n"
     "    - {name: b, topic: t, expression: 'ndethist > 2'}\n", "'a' and 'b' both feed topic 't'"),
])
def test_config_check_rejects_what_run_rejects(text, message, tmp_path, capsys, monkeypatch):
    (tmp_path / "broken_syntax_module.py").write_text("class Module(:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    status, err = _check(tmp_path, text, capsys)
    assert status == 2 and message in err, err


def test_run_rejects_the_same_through_the_shared_check(tmp_path):
    from fink_like.jobs.preflight import preflight

    bad = load_settings(None, env={}, overrides={"science": {"quality_cuts": {"ztf": "rb >="}}})
    with pytest.raises(ConfigError, match="science.quality_cuts.ztf"):
        preflight(bad)


def test_without_config_the_cli_uses_the_embedded_configuration(monkeypatch, capsys):
    monkeypatch.delenv("FINK_LIKE_CONFIG", raising=False)
    assert main(["config", "show"]) == 0
    shown = __import__("json").loads(capsys.readouterr().out)
    local = load_settings(ROOT / "conf" / "local.yaml", env={})
    assert [m["name"] for m in shown["science"]["modules"]] == [m.name for m in local.science.modules]
    assert [f["name"] for f in shown["distribution"]["filters"]] == [f.name for f in local.distribution.filters]
