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
_SEGMENT = re.compile(r"^(?P<base>.+)\.(?P<index>\d{6,})$")
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
    return "(" + "|".join(re.escape(t) for t in topics) + r")(\.\d{6,})?"


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


def distribution_retention(settings) -> float | None:
    """``distribution.retention_seconds`` where it applies: on the embedded broker only."""
    return settings.distribution.retention_seconds if settings.kafka.embedded else None


SLICES = 4
"""Time segments per retention period: records live between ``retention`` and
``retention * (1 + 1 / SLICES)`` seconds."""
HORIZON = 10_000
"""Time segments further back than this many slices are not recognised as such."""


def time_segment(topic: str, now: float, retention: float) -> str:
    """The segment of ``topic`` that messages published at ``now`` (epoch seconds) go to.

    Distribution topics on the embedded broker, with ``distribution.retention_seconds``:
    segment ``floor(now / (retention / SLICES))``, so every publisher (executor) picks the
    same one without talking to the others.

    >>> time_segment("fink-like.mm", 1_700_000_000, 600)
    'fink-like.mm.11333333'
    """
    return segment_topic(topic, int(now // (retention / SLICES)))


class TimeRetention:
    """Deletes distribution segments older than ``retention`` seconds, read or not.

    What Kafka's ``retention.ms`` does and tansu 0.6.0 does not: a subscriber that falls
    more than ``retention`` seconds behind loses what it did not read, as it would on a
    Kafka cluster. Segments of the ``excluded`` topics (the input streams, whose segments
    are counted, not timed, and deleted once read by :class:`SegmentJanitor`) are never
    touched.
    """

    def __init__(self, conf: dict, retention: float, excluded: list[str], excluded_pattern: str | None = None):
        self.conf, self.retention = conf, retention
        self.excluded, self.pattern = set(excluded), excluded_pattern

    def expired(self, topics, now: float) -> list[str]:
        """The time segments among ``topics`` older than the retention at ``now``.

        A segment index below ``HORIZON`` slices ago is not taken for a time segment (the
        counted segments of some other stream are numbered from 0): it is left alone.
        """
        current = int(now // (self.retention / SLICES))
        newest_gone, oldest = current - SLICES - 1, current - HORIZON
        out = []
        for topic in topics:
            seg = split_segment(topic)
            if (seg is None or seg[0] in self.excluded or not oldest <= seg[1] <= newest_gone
                    or (self.pattern and re.fullmatch(self.pattern, seg[0]))):
                continue
            out.append(topic)
        return sorted(out)

    def prune(self, now: float) -> list[str]:
        """Delete the expired segments; errors are logged (the next batch retries)."""
        from fink_like.kafka.admin import delete_topics, list_topics

        try:
            gone = self.expired(list_topics(self.conf), now)
            deleted = delete_topics(self.conf, gone) if gone else []
        except KafkaError as exc:
            log.warning("expired distribution segments not deleted: %s", exc)
            return []
        if deleted:
            log.info("deleted expired distribution segments", extra={"topics": deleted})
        return deleted
