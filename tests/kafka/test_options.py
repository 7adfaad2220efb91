"""Data source options, and the SASL/TLS mapping from settings to both connectors."""

from __future__ import annotations

import pytest

from fink_like.config import load_settings
from fink_like.errors import ConfigError
from fink_like.kafka.conf import client_conf, spark_options
from fink_like.kafka.options import kafka_conf, parse_read_options, parse_write_options

BASE = {"kafka.bootstrap.servers": "k1:9093"}


def test_read_options_defaults_and_case_insensitivity():
    o = parse_read_options({**BASE, "subscribe": "a, b", "MaxOffsetsPerTrigger": "50"})
    assert o.topics == ["a", "b"] and o.pattern is None
    assert o.max_offsets_per_trigger == 50
    assert (o.starting, o.ending, o.fail_on_data_loss) == ("earliest", "latest", True)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"subscribe": "a"}, "kafka.bootstrap.servers is required"),
        ({**BASE}, "exactly one of the options subscribe"),
        ({**BASE, "subscribe": "a", "subscribePattern": "a.*"}, "exactly one"),
        ({**BASE, "subscribePattern": "("}, "subscribePattern is not a valid regex"),
        ({**BASE, "subscribe": "a", "maxOffsetsPerTrigger": "lots"}, "maxOffsetsPerTrigger must be an integer"),
        ({**BASE, "subscribe": "a", "maxOffsetsPerTrigger": "0"}, "maxOffsetsPerTrigger must be at least 1"),
        ({**BASE, "subscribe": "a", "failOnDataLoss": "maybe"}, "failOnDataLoss must be true or false"),
        ({**BASE, "subscribe": "a", "kafka.ssl.truststore.location": "/x.jks"}, "kafka.ssl.ca.location"),
    ],
)
def test_bad_read_options_are_named(options, message):
    with pytest.raises(ConfigError, match=message):
        parse_read_options(options)


def test_write_options():
    o = parse_write_options({**BASE, "topic": "out", "connectTimeoutMs": "2500"})
    assert (o.topic, o.connect_timeout, o.conf) == ("out", 2.5, {"bootstrap.servers": "k1:9093"})


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_settings_pass_through_spark_options(mechanism):
    settings = load_settings(None, env={"FINK_LIKE__KAFKA__SASL_PASSWORD": "s3cret"}, overrides={"kafka": {
        "embedded": False, "bootstrap_servers": "k1:9093", "security_protocol": "SASL_SSL",
        "sasl_mechanism": mechanism, "sasl_username": "alice", "ssl_ca_location": "/etc/ca.pem"}})
    conf = client_conf(settings.kafka)
    assert conf == {"bootstrap.servers": "k1:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": mechanism,
                    "sasl.username": "alice", "sasl.password": "s3cret", "ssl.ca.location": "/etc/ca.pem"}
    # Settings -> Spark options -> librdkafka conf on the executors: nothing lost.
    assert kafka_conf(spark_options(conf)) == conf


def test_jvm_jaas_config_becomes_librdkafka_credentials():
    jaas = ('org.apache.kafka.common.security.scram.ScramLoginModule required '
            'username="alice" password="p\\"w";')
    conf = kafka_conf({**BASE, "kafka.security.protocol": "SASL_PLAINTEXT",
                       "kafka.sasl.mechanism": "SCRAM-SHA-256", "kafka.sasl.jaas.config": jaas})
    assert conf == {"bootstrap.servers": "k1:9093", "security.protocol": "SASL_PLAINTEXT",
                    "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "alice", "sasl.password": 'p"w'}
    with pytest.raises(ConfigError, match="username="):
        kafka_conf({**BASE, "kafka.sasl.jaas.config": "PlainLoginModule required;"})


def test_jvm_options_carry_sasl_and_tls():
    from fink_like.kafka.conf import jvm_options

    conf = {"bootstrap.servers": "k1:9093", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
            "sasl.username": "alice", "sasl.password": 'p"w', "ssl.ca.location": "/etc/ca.pem", "linger.ms": 5}
    opts = jvm_options(conf)
    assert opts == {
        "includeHeaders": "true", "kafka.bootstrap.servers": "k1:9093", "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-256",
        "kafka.sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                                  'username="alice" password="p\\"w";',
        "kafka.ssl.truststore.type": "PEM", "kafka.ssl.truststore.location": "/etc/ca.pem",
    }
    # And back: the finkkafka source reads the JVM option set to the same credentials.
    back = kafka_conf({k: v for k, v in opts.items() if k.startswith("kafka.") and "truststore" not in k})
    assert (back["sasl.username"], back["sasl.password"]) == ("alice", 'p"w')


def test_fetch_mode_is_checked():
    import pytest

    from fink_like.errors import ConfigError
    from fink_like.kafka.options import parse_read_options

    base = {"kafka.bootstrap.servers": "k:1", "subscribe": "a"}
    assert parse_read_options(base).fetch == "eager"
    assert parse_read_options({**base, "fetch": "Deferred"}).fetch == "deferred"
    with pytest.raises(ConfigError, match="option fetch"):
        parse_read_options({**base, "fetch": "lazy"})
