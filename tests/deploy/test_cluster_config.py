"""conf/cluster.yaml: loads with the real settings loader, holds no secret, and the
ConfigMap in k8s/ carries the same settings."""

from __future__ import annotations

import pytest
import yaml

from fink_like.config import Settings, load_settings
from fink_like.errors import ConfigError

from .conftest import CLUSTER_YAML, K8S, SECRET_ENV


def test_every_settings_section_is_given_explicitly():
    data = yaml.safe_load(CLUSTER_YAML.read_text())
    assert set(data) == set(Settings.model_fields)


def test_loads_as_a_cluster_configuration(cluster_settings):
    s = cluster_settings
    assert s.kafka.embedded is False
    assert (s.kafka.security_protocol, s.kafka.sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert s.kafka.sasl_password.get_secret_value() == SECRET_ENV["FINK_LIKE__KAFKA__SASL_PASSWORD"]
    assert s.archive.backend == "hbase"
    assert s.lake.root.split("://")[0] in ("s3a", "hdfs")
    assert s.lake_path("raw") == s.lake.root + "/raw"
    assert s.api.host == "0.0.0.0"


def test_the_password_never_comes_from_the_file():
    text = CLUSTER_YAML.read_text()
    data = yaml.safe_load(text)
    assert "sasl_password" not in data["kafka"] and "ssl_key_password" not in data["kafka"]
    assert SECRET_ENV["FINK_LIKE__KAFKA__SASL_PASSWORD"] not in text
    assert load_settings(CLUSTER_YAML, env={}).kafka.sasl_password is None


def test_the_secret_is_masked_when_printed(cluster_settings):
    secret = SECRET_ENV["FINK_LIKE__KAFKA__SASL_PASSWORD"]
    assert secret not in repr(cluster_settings)
    assert secret not in str(cluster_settings.redacted())
    assert cluster_settings.redacted()["kafka"]["sasl_password"] == "**********"


def test_a_bad_override_is_named():
    with pytest.raises(ConfigError, match="kafka.security_protocol"):
        load_settings(CLUSTER_YAML, env={**SECRET_ENV, "FINK_LIKE__KAFKA__SECURITY_PROTOCOL": "SASL"})


def test_configmap_carries_the_same_settings():
    configmap = next(d for d in yaml.safe_load_all((K8S / "config.yaml").read_text())
                     if d and d["kind"] == "ConfigMap")
    assert yaml.safe_load(configmap["data"]["cluster.yaml"]) == yaml.safe_load(CLUSTER_YAML.read_text())


def test_filter_and_quality_cut_expressions_compile_on_the_canonical_schema(cluster_settings):
    """The expressions in the file are valid for the filter language over canonical columns."""
    from fink_like.filters.expr import compile_filter
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    expressions = [f.expression for f in cluster_settings.distribution.filters]
    expressions += list(cluster_settings.science.quality_cuts.values())
    for text in expressions:
        compile_filter(text, CANONICAL_SCHEMA)
