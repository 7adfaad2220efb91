"""Bounded memory on the embedded broker: survey topics rolled into segments, dropped once read.

The embedded broker (tansu 0.6.0, in-memory storage) keeps every record it receives: it
refuses ``DeleteRecords`` (transport error), accepts ``retention.ms``/``retention.bytes``
on topic creation but never applies them, and refuses ``AlterConfigs``. Deleting a
topic is the one thing that frees its memory (docs/kafka.md, measured).

So, with ``kafka.roll_messages: N`` (> 0), producers that replay a survey stream
(``fink-like simulate``, ``run``, ``bench``) write topic ``T`` as segments ``T.000000``,
``T.000001`` ... of ``N`` messages each, and the jobs subscribe to ``T`` and its segments
(:func:`subscription_pattern`). After each committed micro-batch the driver calls
:meth:`SegmentJanitor.prune` with the committed offsets: a segment that is at least two
behind the newest of its stream (so no producer writes to it any more) and whose every
partition is committed up to its end is deleted. What the broker holds is then at most
the unread backlog plus about two segments per stream.

Examples
--------
>>> segment_topic("ztf-alerts", 3)
'ztf-alerts.000003'
>>> split_segment("ztf-alerts.000003")
('ztf-alerts', 3)
>>> import re; bool(re.fullmatch(subscription_pattern(["ztf-alerts"]), "ztf-alerts.000012"))
True
"""

from __future__ import annotations

import logging
import re

from fink_like.errors import KafkaError

log = logging.getLogger("fink_like.kafka.retention")
_SEGMENT = re.compile(r"^(?P<base>.+)\.(?P<index>\d{6})$")
KEEP = 2
"""Segments kept behind the newest one of a stream, whatever was committed."""


def segment_topic(topic: str, index: int) -> str:
    """Name of segment ``index`` of ``topic``."""
    return f"{topic}.{index:06d}"


def split_segment(topic: str) -> tuple[str, int] | None:
    """``(base topic, index)`` of a segment name, else None."""
    found = _SEGMENT.match(topic)
    return (found["base"], int(found["index"])) if found else None


def subscription_pattern(topics: list[str]) -> str:
    """A ``subscribePattern`` matching the topics and their segments."""
    return "(" + "|".join(re.escape(t) for t in topics) + r")(\.\d{6})?"


def closed(topic: str, topics) -> bool:
    """Whether ``topic`` is a segment at least :data:`KEEP` behind the newest of its stream
    among ``topics`` (no producer writes to it any more; the janitor may delete it)."""
    seg = split_segment(topic)
    if seg is None:
        return False
    newest = max((s[1] for s in map(split_segment, topics) if s and s[0] == seg[0]), default=-1)
    return seg[1] <= newest - KEEP


class SegmentJanitor:
    """Deletes fully committed, closed segments of the given survey topics.

    Parameters
    ----------
    conf
        confluent-kafka configuration of the cluster.
    topics
        Base topics whose segments may be deleted (never the base topics themselves).
    """

    def __init__(self, conf: dict, topics: list[str]):
        self.conf, self.bases = conf, set(topics)
        self.deleted: set[str] = set()

    def prune(self, committed: dict[str, dict]) -> list[str]:
        """Delete what ``committed`` (``{"topic": {"partition": next offset}}``) makes useless.

        Returns the deleted topics. Errors are logged, never raised: pruning is retried
        after the next batch.
        """
        from fink_like.kafka.admin import delete_topics, watermarks

        newest: dict[str, int] = {}
        for topic in committed:
            seg = split_segment(topic)
            if seg and seg[0] in self.bases:
                newest[seg[0]] = max(newest.get(seg[0], -1), seg[1])
        done = []
        for topic, parts in committed.items():
            seg = split_segment(topic)
            if (not seg or seg[0] not in self.bases or topic in self.deleted
                    or seg[1] > newest[seg[0]] - KEEP):
                continue
            try:
                ends = watermarks(self.conf, topic)
            except KafkaError as exc:
                log.warning("segment %s not pruned: %s", topic, exc)
                continue
            if all(int(parts.get(str(p), -1)) >= high for p, (_low, high) in ends.items()):
                done.append(topic)
        if done:
            try:
                deleted = delete_topics(self.conf, done)
            except KafkaError as exc:
                log.warning("segments %s not deleted: %s", done, exc)
                return []
            self.deleted.update(done)  # a concurrent deleter may have won: gone either way
            log.info("deleted fully read segments", extra={"topics": deleted})
            return deleted
        return []
