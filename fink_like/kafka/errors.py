"""confluent-kafka failures in plain words, and a connection check that fails fast.

librdkafka retries an unreachable or misconfigured cluster forever and reports the
cause only through logs and error callbacks. :func:`translate` turns its error codes
into :class:`fink_like.errors.KafkaError` messages that name the servers, the topic or
the credentials involved; :func:`check_connection` bounds the wait.

Examples
--------
>>> from confluent_kafka import KafkaError as RdError
>>> str(translate(RdError(RdError._TRANSPORT), servers="k1:9092"))  # doctest: +ELLIPSIS
'cannot reach Kafka at k1:9092 ...'
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError as RdError
from confluent_kafka import KafkaException

from fink_like.errors import ConfigError, KafkaError, KafkaUnavailable

LOG = logging.getLogger("fink_like.kafka")
# librdkafka writes its own log lines to stderr unless given a Python logger.
RDKAFKA_LOG = logging.getLogger("fink_like.kafka.librdkafka")

_UNREACHABLE = {
    RdError._TRANSPORT, RdError._ALL_BROKERS_DOWN, RdError._RESOLVE, RdError._TIMED_OUT,
    RdError._TIMED_OUT_QUEUE, RdError._MSG_TIMED_OUT, RdError.REQUEST_TIMED_OUT, RdError.NETWORK_EXCEPTION,
}
_UNKNOWN_TOPIC = {RdError.UNKNOWN_TOPIC_OR_PART, RdError._UNKNOWN_TOPIC, RdError._UNKNOWN_PARTITION}
_AUTHENTICATION = {RdError._AUTHENTICATION, RdError.SASL_AUTHENTICATION_FAILED}
_AUTHORIZATION = {
    RdError.TOPIC_AUTHORIZATION_FAILED, RdError.GROUP_AUTHORIZATION_FAILED,
    RdError.CLUSTER_AUTHORIZATION_FAILED, RdError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
}
_TOO_LARGE = {RdError.MSG_SIZE_TOO_LARGE, RdError.INVALID_MSG_SIZE}


def _code(err) -> int | None:
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], RdError):
        err = err.args[0]
    return err.code() if isinstance(err, RdError) else None


def _text(err) -> str:
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], RdError):
        err = err.args[0]
    return err.str() if isinstance(err, RdError) else str(err)


def translate(err, servers: str | None = None, topic: str | None = None,
              conf: dict | None = None) -> KafkaError:
    """Return a :class:`fink_like.errors.KafkaError` that says what went wrong in plain words.

    Parameters
    ----------
    err
        A ``confluent_kafka.KafkaError``, a ``KafkaException`` wrapping one, or any exception.
    servers, topic
        What to name in the message; ``servers`` defaults to ``conf['bootstrap.servers']``.
    conf
        The client configuration (used for the servers and the SASL user; secrets are not read).
    """
    conf = conf or {}
    servers = servers or conf.get("bootstrap.servers", "?")
    code, text = _code(err), _text(err)
    if code in _UNREACHABLE:
        msg = (f"cannot reach Kafka at {servers} ({text}); check kafka.bootstrap_servers, "
               "that the brokers are running, and security_protocol")
    elif code in _UNKNOWN_TOPIC:
        msg = f"topic {topic!r} does not exist on {servers}" if topic else \
            f"unknown topic or partition on {servers} ({text})"
    elif code in _AUTHENTICATION:
        who = conf.get("sasl.username")
        mech = conf.get("sasl.mechanism", "?")
        msg = (f"authentication failed at {servers} (SASL {mech}"
               + (f" as user {who!r}" if who else "") + f"): {text}")
    elif code in _AUTHORIZATION:
        what = f" for topic {topic!r}" if topic else ""
        msg = f"authorization denied{what} at {servers}: the credentials lack the ACL ({text})"
    elif code in _TOO_LARGE:
        what = f" for topic {topic!r}" if topic else ""
        msg = (f"message too large{what} at {servers}: raise message.max.bytes on the producer "
               f"and the broker/topic limit ({text})")
    elif code == RdError._SSL:
        msg = f"TLS handshake with {servers} failed: check ssl.* settings ({text})"
    elif code == RdError._INVALID_ARG:
        return ConfigError(f"invalid Kafka client setting: {text}")
    else:
        msg = f"Kafka error at {servers}" + (f" on topic {topic!r}" if topic else "") + f": {text}"
    return (KafkaUnavailable if code in _UNREACHABLE else KafkaError)(msg)


def quiet(conf: dict) -> dict:
    """``conf`` with librdkafka's logs routed to Python logging instead of stderr."""
    out = dict(conf)
    out.setdefault("logger", RDKAFKA_LOG)
    out.setdefault("log.connection.close", False)
    return out


def check_connection(conf: dict, timeout: float = 5.0):
    """Fetch cluster metadata within ``timeout`` seconds or raise a plain-words KafkaError.

    Returns
    -------
    confluent_kafka.admin.ClusterMetadata
        The metadata, so callers can reuse the topic list.

    Raises
    ------
    fink_like.errors.KafkaError
        Unreachable servers (named), failed authentication, denied authorization.
    fink_like.errors.ConfigError
        A client setting librdkafka does not know or accept.
    """
    from confluent_kafka.admin import AdminClient

    seen: list = []
    admin_conf = quiet({k: v for k, v in conf.items() if not _producer_or_consumer_only(k)})
    admin_conf["error_cb"] = seen.append
    admin_conf.setdefault("socket.connection.setup.timeout.ms", max(1000, int(timeout * 1000)))
    try:
        admin = AdminClient(admin_conf)
        return admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        # error_cb often holds the real cause (authentication) behind a plain timeout.
        worst = next((e for e in seen if _code(e) in _AUTHENTICATION | _AUTHORIZATION | {RdError._SSL}), None)
        raise translate(worst or exc, conf=conf) from exc


_CLIENT_ONLY = ("group.", "enable.auto.", "auto.offset.", "fetch.", "max.partition.", "enable.partition.",
                "linger.", "batch.", "queue.buffering.", "compression.", "message.timeout", "acks",
                "delivery.", "isolation.", "enable.idempotence", "retries", "session.timeout",
                "max.poll", "heartbeat.", "partitioner")


def _producer_or_consumer_only(key: str) -> bool:
    # An AdminClient warns or fails on producer/consumer-only properties.
    return key.startswith(_CLIENT_ONLY)
