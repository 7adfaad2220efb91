"""One notice through the broker: parse, store (or quarantine), then search the archive.

Used by ``fink-like gcn replay FILES`` and ``fink-like gcn listen``. Nothing stops the
stream: a notice that cannot become an event is written to the quarantine with its
reason and original bytes (``<lake.root>/<lake.quarantine>/gcn/night=YYYYMMDD/``, the
lake quarantine's schema; the file is named after the notice's SHA-256, so a replay
overwrites it) and logged; the next notice is read.

Counts reconcile: ``notices == parsed + quarantined``; each parsed notice gives one or
more events, each ``new``, ``updated``, ``retracted`` or ``ignored`` (a version arriving
after the event's retraction).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass, field

import pyarrow as pa

from fink_like.mm.notices import NoticeError, parse_notice
from fink_like.mm.store import EventStore

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """Counts of one replay or listening session."""

    notices: int = 0
    parsed: int = 0
    quarantined: int = 0
    reasons: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)        # outcome -> count
    retro_matches: dict = field(default_factory=dict)  # event id -> matches found in the archive
    published: int = 0

    def as_dict(self) -> dict:
        return {"notices": self.notices, "parsed": self.parsed, "quarantined": self.quarantined,
                "reasons": self.reasons, "events": self.events, "retro_matches": self.retro_matches,
                "published": self.published}


class NoticeIngestor:
    """Applies notices to the event store named by ``settings.mm.store``.

    ``retro`` runs the retroactive search (:func:`fink_like.mm.retro.run_retro`) for
    each new or updated event; ``publish`` sends its matches to ``mm.topic``.
    """

    def __init__(self, settings, retro: bool = True, publish: bool = True, store: EventStore | None = None):
        self.settings = settings
        self.store = store or EventStore(settings.mm.store)
        self.retro = retro
        self.publish = publish
        self.report = IngestReport()

    def ingest(self, value: bytes, origin: dict) -> list[tuple[str, str]]:
        """Apply one notice; ``origin`` (``topic``, ``partition``, ``offset``, ``key``) names where it came from.

        Returns ``[(event_id, outcome), ...]``; empty when the notice was quarantined.
        """
        self.report.notices += 1
        try:
            events = parse_notice(value, self.settings.mm.credible_level)
        except NoticeError as exc:
            self.quarantine(value, exc.reason, exc.detail, origin)
            return []
        self.report.parsed += 1
        done = []
        for event in events:
            window = self.settings.mm.windows.get(event.messenger)
            days = (window.before_days, window.after_days) if window else (0.0, 0.0)
            outcome, record = self.store.apply(event, days)
            self.report.events[outcome] = self.report.events.get(outcome, 0) + 1
            for warning in event.warnings:
                log.warning("notice %s: event %s: %s", _where(origin), event.event_id, warning)
            log.info("event %s (%s, %s): %s", event.event_id, event.messenger, event.alert_type, outcome)
            if outcome in ("new", "updated") and self.retro:
                self._retro(event.event_id)
            done.append((event.event_id, outcome))
        return done

    def _retro(self, event_id: str) -> None:
        from fink_like.mm.retro import run_retro

        stored = self.store.get(event_id)
        result = run_retro(self.settings, self.store, stored, publish=self.publish)
        self.report.retro_matches[event_id] = len(result.matches)
        self.report.published += result.published

    def quarantine(self, value: bytes, reason: str, detail: str, origin: dict) -> None:
        """Write the notice with its reason to the lake's ``gcn`` quarantine, and log it."""
        from fink_like.jobs.lake import write_partitioned
        from fink_like.surveys.canonical import QUARANTINE_SCHEMA

        self.report.quarantined += 1
        self.report.reasons[reason] = self.report.reasons.get(reason, 0) + 1
        log.warning("notice %s quarantined: %s: %s", _where(origin), reason, detail)
        now = datetime.datetime.now(datetime.timezone.utc)
        raw = value.encode() if isinstance(value, str) else bytes(value)
        key = origin.get("key")
        row = {"reason": reason, "detail": detail, "topic": origin.get("topic"), "partition": origin.get("partition"),
               "offset": origin.get("offset"), "kafka_timestamp": origin.get("timestamp"), "ingest_time": now,
               "key": key.encode() if isinstance(key, str) else key, "value": raw, "night": now.strftime("%Y%m%d")}
        table = pa.Table.from_pylist([row], schema=QUARANTINE_SCHEMA)
        name = f"notice-{hashlib.sha256(raw).hexdigest()[:32]}.parquet"
        write_partitioned(table, f"{self.settings.lake_path('quarantine')}/gcn", name)

    def close(self) -> None:
        self.store.close()


def _where(origin: dict) -> str:
    if origin.get("topic") == "file":
        return str(origin.get("key"))
    return f"{origin.get('topic')}[{origin.get('partition')}]@{origin.get('offset')}"
