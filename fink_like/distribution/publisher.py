"""Publish one batch of enriched alerts to the filters' topics (runs on executors).

At-least-once: every message is produced keyed by its alert id, the producer is
flushed, and every delivery report is checked; any failure raises, so the caller (the
Spark batch) is retried. A retried batch can duplicate messages: clients dedupe by key.

Every message carries the filter that selected it in two Kafka headers,
``fink_like.filter`` (its name) and ``fink_like.filter_version`` (the filter store's
version; 0 for a filter of the settings file).
"""

from __future__ import annotations

import logging
import time

import pyarrow as pa

from fink_like.distribution.encoder import Encoder, default_encoder
from fink_like.distribution.registry import publish_schemas, save
from fink_like.errors import KafkaUnavailable
from fink_like.kafka.produce import Delivery, confirm, producer_for, send
from fink_like.retry import retry

log = logging.getLogger(__name__)
DEFAULT_SCHEMA_TOPIC = "fink-like-schemas"
FILTER_HEADER = "fink_like.filter"
VERSION_HEADER = "fink_like.filter_version"
_PUBLISHED: set[tuple[str, str, int]] = set()   # (servers, schema topic, id) already on Kafka
_ENSURED: set[tuple[str, str]] = set()           # (servers, topic) known to exist


def publish(table: pa.Table, engine, conf: dict, topic_prefix: str | None = None, *,
            schema_topic: str = DEFAULT_SCHEMA_TOPIC, schema_dir: str | None = None,
            encoder: Encoder | None = None, timeout: float = 60.0,
            stamps: list[dict] | None = None, masks: dict | None = None,
            retention: float | None = None) -> dict[str, int]:
    """Evaluate every filter once, encode the selected alerts and produce them.

    Parameters
    ----------
    table
        Enriched alerts (canonical columns, module outputs, ``provenance``).
    engine
        A :class:`~fink_like.filters.engine.FilterEngine`.
    conf
        confluent-kafka producer configuration (``fink_like.kafka.conf.client_conf``).
    topic_prefix
        Prepended to every filter's topic (e.g. per-test or per-tenant names).
    schema_topic, schema_dir
        Where new distribution schemas are published before the messages using them
        (the topic always; the folder too when given).
    stamps
        Optional, one entry per row: the packets' stamp fields as the decoder left them
        (:class:`fink_like.surveys.Decoded`), so thin messages need no second decode.
    masks
        The engine's masks for ``table`` when the caller has evaluated them already.
    retention
        When set (embedded broker, ``distribution.retention_seconds``), each topic is
        written to its current time segment (:func:`fink_like.kafka.retention.time_segment`);
        counts stay keyed by the topic itself.

    Returns
    -------
    dict
        Topic -> number of messages produced and acknowledged (topics with 0 included).

    Raises
    ------
    KafkaError
        When a delivery fails or is not acknowledged within ``timeout`` seconds.
    """
    encoder = encoder or default_encoder()
    masks = engine.evaluate(table) if masks is None else masks
    filters = [f for f in engine.filters if f.spec.name in masks]  # not the ones taken out
    if not filters:
        return {}
    selected: dict[str, list[int]] = {}
    needed = {True: set(), False: set()}
    for f in filters:
        rows = [i for i, keep in enumerate(masks[f.spec.name].to_pylist()) if keep]
        selected[f.spec.name] = rows
        needed[bool(f.spec.cutouts)].update(rows)
    encoded = {}
    schemas = {}
    for cutouts, rows in needed.items():
        if rows:
            batch = encoder.encode(table, sorted(rows), cutouts, stamps)
            encoded[cutouts] = {row: (k, v) for row, k, v in zip(batch.rows, batch.keys, batch.values)}
            schemas.update(batch.schemas)
    producer = producer_for(conf)
    now = time.time()
    names = {f.spec.name: _target(f"{topic_prefix or ''}{f.spec.topic}", now, retention) for f in filters}
    topics = list(names.values())
    retry(lambda: _ensure(conf, topics, schema_topic), "kafka topics", transient=(KafkaUnavailable,))
    _register(producer, conf, schema_topic, schemas, schema_dir, timeout)
    counts = {}
    report = Delivery()
    for f in filters:
        topic, segment = f"{topic_prefix or ''}{f.spec.topic}", names[f.spec.name]
        messages = encoded.get(bool(f.spec.cutouts), {})
        headers = [(FILTER_HEADER, f.spec.name.encode()), (VERSION_HEADER, str(f.version).encode())]
        for row in selected[f.spec.name]:
            key, value = messages[row]
            send(producer, segment, value, key=key, on_delivery=report, headers=headers)
        counts[topic] = counts.get(topic, 0) + len(selected[f.spec.name])
    confirm(producer, report, timeout, conf)
    return counts


def _target(topic: str, now: float, retention: float | None) -> str:
    from fink_like.kafka.retention import time_segment

    return time_segment(topic, now, retention) if retention else topic


def _ensure(conf: dict, topics: list[str], schema_topic: str) -> None:
    from fink_like.distribution.registry import ensure_schema_topic
    from fink_like.kafka.admin import ensure_topics

    servers = str(conf.get("bootstrap.servers"))
    if (servers, schema_topic) not in _ENSURED:
        ensure_schema_topic(conf, schema_topic)
        _ENSURED.add((servers, schema_topic))
    missing = [t for t in dict.fromkeys(topics) if (servers, t) not in _ENSURED]
    if missing:
        ensure_topics(conf, missing)
        _ENSURED.update((servers, t) for t in missing)


def _register(producer, conf, topic, schemas, schema_dir, timeout) -> None:
    if schema_dir:
        for schema in schemas.values():
            save(schema, schema_dir)
    servers = str(conf.get("bootstrap.servers"))
    new = {sid: s for sid, s in schemas.items() if (servers, topic, sid) not in _PUBLISHED}
    if not new:
        return
    publish_schemas(producer, topic, new, timeout)
    _PUBLISHED.update((servers, topic, sid) for sid in new)
    log.info("published %d new distribution schema(s) to %s: %s", len(new), topic, sorted(new))
