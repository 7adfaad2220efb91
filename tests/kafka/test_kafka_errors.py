"""Plain-words translation of librdkafka errors, and the fail-fast connection check."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError as RdError
from confluent_kafka import KafkaException

from fink_like.errors import ConfigError, KafkaError
from fink_like.kafka.embedded import free_port
from fink_like.kafka.errors import check_connection, translate

SASL = {"bootstrap.servers": "k1:9093", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "alice"}


@pytest.mark.parametrize(
    "code, expected",
    [
        (RdError._TRANSPORT, "cannot reach Kafka at k1:9093"),
        (RdError._ALL_BROKERS_DOWN, "cannot reach Kafka at k1:9093"),
        (RdError.UNKNOWN_TOPIC_OR_PART, "topic 'alerts' does not exist on k1:9093"),
        (RdError.SASL_AUTHENTICATION_FAILED, "authentication failed at k1:9093 (SASL SCRAM-SHA-512 as user 'alice')"),
        (RdError.TOPIC_AUTHORIZATION_FAILED, "authorization denied for topic 'alerts' at k1:9093"),
        (RdError.MSG_SIZE_TOO_LARGE, "message too large for topic 'alerts' at k1:9093"),
    ],
)
def test_translate_names_the_problem(code, expected):
    err = translate(KafkaException(RdError(code)), topic="alerts", conf=SASL)
    assert isinstance(err, KafkaError)
    assert str(err).startswith(expected)


def test_translate_unknown_setting_is_config_error():
    assert isinstance(translate(RdError(RdError._INVALID_ARG)), ConfigError)


def test_check_connection_to_unreachable_servers_fails_fast():
    servers = f"127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(KafkaError, match=f"cannot reach Kafka at {servers}"):
        check_connection({"bootstrap.servers": servers}, timeout=1.0)
    assert time.monotonic() - started < 10


def test_check_connection_rejects_unknown_settings():
    with pytest.raises(ConfigError, match="no.such.property"):
        check_connection({"bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"}, timeout=0.5)


@pytest.mark.kafka
def test_check_connection_returns_metadata(kafka_bootstrap):
    meta = check_connection({"bootstrap.servers": kafka_bootstrap})
    assert len(meta.brokers) == 1
