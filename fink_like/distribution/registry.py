"""Distribution schemas by id: files ``<id>.avsc`` in folders, and a compacted Kafka topic.

The broker writes each new schema to the schema topic (key: the id in decimal, value:
the canonical JSON) before any message that uses it, so a client can always fetch the
writer schema of a message it receives. Schemas generated for the standard modules also
ship in the repository's ``schemas/distribution/`` folder.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import fastavro

from fink_like.distribution.schema import canonical_json, schema_id
from fink_like.errors import ConfigError, KafkaError

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "schemas" / "distribution"


class SchemaRegistry:
    """Writer schemas by id, looked up in memory, then folders, then the schema topic.

    Parameters
    ----------
    dirs
        Folders of ``<id>.avsc`` files; the shipped folder is always searched last.
    kafka_conf, topic
        Client configuration and schema topic used to fetch ids not found locally.
    """

    def __init__(self, dirs=(), kafka_conf: dict | None = None, topic: str | None = None):
        self.dirs = [Path(d) for d in dirs if d] + [SHIPPED_DIR]
        self.kafka_conf, self.topic = kafka_conf, topic
        self._raw: dict[int, dict] = {}
        self._parsed: dict[int, object] = {}

    def add(self, schema: dict) -> int:
        """Remember ``schema`` and return its id."""
        sid = schema_id(schema)
        self._raw.setdefault(sid, schema)
        return sid

    def raw(self, sid: int) -> dict:
        """The JSON schema of ``sid``.

        Raises
        ------
        ConfigError
            When neither the folders nor the schema topic know the id.
        """
        if sid not in self._raw:
            for folder in self.dirs:
                path = folder / f"{sid}.avsc"
                if path.is_file():
                    self._raw[sid] = _read(path)
                    break
        if sid not in self._raw and self.kafka_conf and self.topic:
            self._raw.update(fetch_topic(self.kafka_conf, self.topic))
        if sid not in self._raw:
            where = ", ".join(str(d) for d in self.dirs) + (f", topic {self.topic}" if self.topic else "")
            raise ConfigError(f"unknown distribution schema id {sid} (looked in {where})")
        return self._raw[sid]

    def parsed(self, sid: int):
        """The fastavro-parsed schema of ``sid`` (parsed once)."""
        if sid not in self._parsed:
            self._parsed[sid] = fastavro.parse_schema(copy.deepcopy(self.raw(sid)))
        return self._parsed[sid]

    def known(self) -> dict[int, dict]:
        """Every schema in the folders (and memory), by id."""
        for folder in self.dirs:
            for path in sorted(folder.glob("*.avsc")) if folder.is_dir() else ():
                if path.stem.isdigit():
                    self._raw.setdefault(int(path.stem), _read(path))
        return dict(sorted(self._raw.items()))


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"distribution schema file {path} cannot be read: {exc}") from exc


def save(schema: dict, folder: str | os.PathLike) -> Path:
    """Write ``schema`` as ``<folder>/<id>.avsc`` (atomically; an existing file is kept)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{schema_id(schema)}.avsc"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(schema, sort_keys=True, indent=1) + "\n")
        os.replace(tmp, path)
    return path


def publish_schemas(producer, topic: str, schemas: dict[int, dict], timeout: float = 30.0) -> None:
    """Write schemas to the compacted schema topic and wait until each is acknowledged."""
    from fink_like.kafka.produce import Delivery, confirm, send

    report = Delivery()
    for sid, schema in schemas.items():
        send(producer, topic, canonical_json(schema).encode(), key=str(sid).encode(), on_delivery=report)
    try:
        confirm(producer, report, timeout)
    except KafkaError as exc:
        raise KafkaError(f"could not publish {len(schemas)} schema(s) to topic {topic}: {exc}") from exc


def ensure_schema_topic(conf: dict, topic: str, timeout: float = 10.0) -> bool:
    """Create the schema topic, compacted (one partition), unless it exists; True if created."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    from fink_like.kafka.errors import check_connection, quiet, translate

    if topic in check_connection(conf, timeout).topics:
        return False
    admin = AdminClient(quiet({k: v for k, v in conf.items() if k in ADMIN_KEYS or k.startswith(("sasl.", "ssl."))}))
    future = admin.create_topics([NewTopic(topic, 1, 1, config={"cleanup.policy": "compact"})])[topic]
    try:
        future.result(timeout)
    except KafkaException as exc:
        if "exist" not in str(exc).lower():
            raise translate(exc, topic=topic, conf=conf) from exc
        return False
    return True


ADMIN_KEYS = ("bootstrap.servers", "security.protocol", "client.id", "socket.connection.setup.timeout.ms")


def fetch_topic(kafka_conf: dict, topic: str, timeout: float = 10.0) -> dict[int, dict]:
    """Every schema on the schema topic (last value per id wins, as compaction keeps)."""
    from confluent_kafka import TopicPartition

    from fink_like.kafka.admin import offsets_consumer, partition_watermarks
    from fink_like.kafka.errors import check_connection

    meta = check_connection(kafka_conf, timeout)
    info = meta.topics.get(topic)
    out: dict[int, dict] = {}
    if info is None or info.error is not None:
        return out
    consumer = offsets_consumer(kafka_conf)
    try:
        for p in sorted(info.partitions):
            low, high = partition_watermarks(consumer, topic, p, timeout)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, p, low)])
            position = low
            while position < high:
                msg = consumer.poll(timeout)
                if msg is None:
                    raise KafkaError(f"schema topic {topic}: no data within {timeout:.0f}s")
                if msg.error():
                    continue  # end-of-partition events from the probe configuration
                if msg.value() is not None:
                    out[int(msg.key())] = json.loads(msg.value())
                position = msg.offset() + 1
            consumer.unassign()
    finally:
        consumer.close()
    return out
