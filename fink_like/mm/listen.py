"""GCN notices from Kafka (``fink-like gcn listen``) and from files (``fink-like gcn replay``).

Listening assigns every partition of the configured topics (``gcn.topics``) and resumes
at the group's committed offsets (``gcn.group_id``; ``gcn.starting_offsets`` where none
is committed). Offsets are committed after each poll's notices are applied, so a crash
re-applies at most one poll's notices, which is harmless: applying a version twice
stores the same record and the same matches.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from fink_like.client.consumer import Alert, AlertConsumer, polled_batches
from fink_like.errors import UsageError
from fink_like.mm.ingest import NoticeIngestor

log = logging.getLogger(__name__)


class NoticeConsumer(AlertConsumer):
    """An :class:`AlertConsumer` that hands the raw notice bytes over (``alert["value"]``)."""

    def poll(self, max_messages: int = 100, timeout: float = 1.0) -> list[Alert]:
        out = []
        for msg in self.received(max_messages, timeout):
            key = msg.key().decode(errors="replace") if msg.key() else ""
            ts = msg.timestamp()[1]
            out.append(Alert(msg.topic(), msg.partition(), msg.offset(), key, -1,
                             {"value": msg.value() or b"", "timestamp": ts if ts and ts > 0 else None}))
        return out


def notice_files(paths: Iterable[str]) -> list[Path]:
    """The ``.json`` files named by ``paths`` (folders searched recursively), sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"no such notice file or folder: {raw}")
    return out


def replay_files(ingestor: NoticeIngestor, paths: Iterable[str]) -> None:
    """Apply each notice file in order (folders: their ``.json`` files, sorted by path)."""
    for path in notice_files(paths):
        ingestor.ingest(path.read_bytes(), {"topic": "file", "partition": 0, "offset": 0, "key": str(path)})


def listen(ingestor: NoticeIngestor, conf: dict, topics: list[str], group: str, from_beginning: bool,
           max_notices: int | None = None, idle_timeout: float | None = None) -> None:
    """Apply notices from Kafka until ``max_notices`` or ``idle_timeout`` seconds without one."""
    with NoticeConsumer(topics, conf, group=group, from_beginning=from_beginning) as consumer:
        for notices in polled_batches(consumer, max_alerts=max_notices, idle_timeout=idle_timeout, batch=50):
            for n in notices:
                origin = {"topic": n.topic, "partition": n.partition, "offset": n.offset, "key": n.key,
                          "timestamp": n["timestamp"]}
                ingestor.ingest(n["value"], origin)
