"""Options of the ``finkkafka`` data source, checked once on the driver.

Names follow Spark's JVM Kafka connector, so one option set works with
``format("finkkafka")`` and ``format("kafka")``. Spark passes options in a
case-insensitive (lower-cased) mapping; every ``kafka.<key>`` option becomes the
confluent-kafka (librdkafka) setting ``<key>``.

Examples
--------
>>> o = parse_read_options({"kafka.bootstrap.servers": "k:9092", "subscribe": "a, b"})
>>> o.topics, o.conf["bootstrap.servers"]
(['a', 'b'], 'k:9092')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fink_like.errors import ConfigError

# JVM-only settings that librdkafka does not know; the message says what to use instead.
_JVM_ONLY = {
    "ssl.truststore.location": "kafka.ssl.ca.location (a PEM file)",
    "ssl.keystore.location": "kafka.ssl.certificate.location and kafka.ssl.key.location (PEM files)",
    "key.deserializer": "nothing: keys are always bytes",
    "value.deserializer": "nothing: values are always bytes",
    "key.serializer": "nothing: keys are always bytes",
    "value.serializer": "nothing: values are always bytes",
}
_JAAS = re.compile(r'(username|password)\s*=\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs: client conf, topics or pattern, offsets and limits."""

    conf: dict
    topics: list[str] = field(default_factory=list)
    pattern: str | None = None
    starting: str = "earliest"
    ending: str = "latest"
    max_offsets_per_trigger: int | None = None
    max_records_per_partition: int = 2000
    min_partitions: int = 1
    chunk_size: int = 250
    fail_on_data_loss: bool = True
    poll_timeout: float = 120.0
    # "eager": rows are the messages. "deferred": rows are offset ranges only, and the
    # task that processes a range fetches its messages itself (read_range), so alert
    # payloads never cross the JVM. Offsets are checkpointed the same way in both.
    fetch: str = "eager"


@dataclass(frozen=True)
class WriteOptions:
    """What a writer needs: client conf, default topic, delivery bound."""

    conf: dict
    topic: str | None = None
    connect_timeout: float = 10.0


def kafka_conf(options) -> dict:
    """librdkafka settings from ``kafka.*`` options (JAAS credentials are translated).

    Raises
    ------
    fink_like.errors.ConfigError
        No ``kafka.bootstrap.servers``, or a JVM-only setting (names the replacement).
    """
    conf = {}
    for key, value in dict(options).items():
        if not key.lower().startswith("kafka."):
            continue
        name = key[len("kafka."):].lower()
        if name in _JVM_ONLY:
            raise ConfigError(f"option kafka.{name} belongs to the JVM connector; here use {_JVM_ONLY[name]}")
        if name == "sasl.jaas.config":
            conf.update(jaas_credentials(value))
            continue
        conf[name] = value
    if not conf.get("bootstrap.servers"):
        raise ConfigError("option kafka.bootstrap.servers is required (e.g. 127.0.0.1:9092)")
    return conf


def jaas_credentials(jaas: str) -> dict:
    """``sasl.username``/``sasl.password`` from a JVM ``sasl.jaas.config`` string."""
    found = dict(_JAAS.findall(jaas))
    if "username" not in found or "password" not in found:
        raise ConfigError("option kafka.sasl.jaas.config must contain username=\"...\" and password=\"...\"")
    return {"sasl.username": _unescape(found["username"]), "sasl.password": _unescape(found["password"])}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)  # JAAS quoting: \" stands for "


def _int(options, name: str, default: int | None, minimum: int = 1) -> int | None:
    raw = options.get(name.lower())
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"option {name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"option {name} must be at least {minimum}, got {value}")
    return value


def _bool(options, name: str, default: bool) -> bool:
    raw = options.get(name.lower())
    if raw is None:
        return default
    text = str(raw).strip().lower()
    if text not in ("true", "false"):
        raise ConfigError(f"option {name} must be true or false, got {raw!r}")
    return text == "true"


def parse_read_options(options) -> ReadOptions:
    """Check the reader options; raise ConfigError naming the first bad one."""
    options = {k.lower(): v for k, v in dict(options).items()}
    subscribe = [t.strip() for t in options.get("subscribe", "").split(",") if t.strip()]
    pattern = options.get("subscribepattern")
    if bool(subscribe) == bool(pattern):
        raise ConfigError("give exactly one of the options subscribe (comma list) or subscribePattern (regex)")
    if "assign" in options:
        raise ConfigError("option assign is not supported: use subscribe")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"option subscribePattern is not a valid regex: {exc}") from exc
    timeout_ms = _int(options, "pollTimeoutMs", 120_000)
    return ReadOptions(
        conf=kafka_conf(options),
        topics=subscribe,
        pattern=pattern,
        starting=options.get("startingoffsets", "earliest").strip(),
        ending=options.get("endingoffsets", "latest").strip(),
        max_offsets_per_trigger=_int(options, "maxOffsetsPerTrigger", None),
        max_records_per_partition=_int(options, "maxRecordsPerPartition", 2000),
        min_partitions=_int(options, "minPartitions", 1),
        chunk_size=_int(options, "chunkSize", 250),
        fail_on_data_loss=_bool(options, "failOnDataLoss", True),
        poll_timeout=timeout_ms / 1000.0,
        fetch=_fetch(options),
    )


def _fetch(options) -> str:
    value = options.get("fetch", "eager").strip().lower()
    if value not in ("eager", "deferred"):
        raise ConfigError(f"option fetch must be eager or deferred, got {value!r}")
    return value


def parse_write_options(options) -> WriteOptions:
    """Check the writer options; raise ConfigError naming the first bad one."""
    options = {k.lower(): v for k, v in dict(options).items()}
    timeout_ms = _int(options, "connectTimeoutMs", 10_000)
    return WriteOptions(conf=kafka_conf(options), topic=options.get("topic") or None,
                        connect_timeout=timeout_ms / 1000.0)
