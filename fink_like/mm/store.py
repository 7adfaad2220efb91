"""The event store: every multi-messenger event and its matched alerts, in the archive.

Two archive tables (``fink_like.archive.model``), so the store works on every archive
backend (SQLite or HBase):

======== ============================== ========================================================
table    row key                        cells
======== ============================== ========================================================
events   ``event_id``                   ``e:record`` JSON (:func:`event_record`), ``e:region``
                                        (:meth:`Region.to_json`), ``e:version``
matches  ``event_id_alertId``           ``m:match`` JSON (alert id, object id, mjd, ra, dec,
                                        time offset, probability density, ``live``/``retro``)
======== ============================== ========================================================

A new version of an event (update) replaces the earlier record whole; a retraction
replaces it with a record whose ``status`` is ``retracted`` and which keeps the last
region for reference. A retracted event is never active again (a late, out-of-order
update does not resurrect it). Matches already recorded stay in the record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fink_like.archive import model
from fink_like.archive.backends import LazyBackend
from fink_like.mm.notices import Event
from fink_like.mm.regions import Region, region_from_json

_RECORD, _REGION, _VERSION = b"e:record", b"e:region", b"e:version"
_MATCH = b"m:match"
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


@dataclass(frozen=True)
class StoredEvent:
    """An event as the store holds it: the record, and its region rebuilt."""

    record: dict
    region: Region | None

    @property
    def event_id(self) -> str:
        return self.record["event_id"]

    @property
    def t0(self) -> float | None:
        return self.record["t0"]

    @property
    def messenger(self) -> str:
        return self.record["messenger"]

    @property
    def active(self) -> bool:
        return self.record["status"] == "active" and self.region is not None and self.t0 is not None

    @property
    def window(self) -> tuple[float, float]:
        """MJD interval in which alerts can match: ``t0 - before_days``, ``t0 + after_days``."""
        before, after = self.record["window_days"]
        return self.t0 - before, self.t0 + after


def event_record(event: Event, status: str, window_days: tuple[float, float],
                 previous: dict | None = None) -> dict:
    """The JSON record of one event version (its region apart); ``version`` counts the versions."""
    return {
        "event_id": event.event_id, "original_id": event.original_id, "source": event.source,
        "messenger": event.messenger, "alert_type": event.alert_type, "status": status,
        "t0": event.t0 if event.t0 is not None else (previous or {}).get("t0"),
        "tense": event.tense, "issued": event.issued, "record_number": event.record_number,
        "version": (previous or {}).get("version", 0) + 1,
        "region_kind": event.region.kind if event.region is not None else (previous or {}).get("region_kind"),
        "window_days": list(window_days),
        "area_deg2": event.region.area_deg2 if event.region is not None else (previous or {}).get("area_deg2"),
        "warnings": list(event.warnings), "summary": event.summary,
    }


class EventStore(LazyBackend):
    """Events and their matches in the archive named by ``settings.archive``."""

    def _table(self, which: str) -> str:
        return model.table_name(self.settings.archive.table_prefix, which)

    def __init__(self, store_settings, backend=None):
        from fink_like.config import Settings

        super().__init__(Settings(archive=store_settings), backend)
        self._regions: dict[tuple[str, int], Region | None] = {}

    def __getstate__(self):
        return {**super().__getstate__(), "_regions": {}}

    def get(self, event_id: str) -> StoredEvent | None:
        cells = self.backend.get(self._table("events"), event_id.encode())
        return self._stored(cells) if cells else None

    def apply(self, event: Event, window_days: tuple[float, float]) -> tuple[str, dict]:
        """Store one parsed event version; return ``(outcome, record)``.

        Outcomes: ``new`` (first version), ``updated``, ``retracted``, ``ignored`` (a
        version arriving after the event's retraction).
        """
        previous = self.get(event.event_id)
        old = previous.record if previous else None
        if old is not None and old["status"] == "retracted":
            return "ignored", old
        status = "retracted" if event.retracted else "active"
        record = event_record(event, status, window_days, old)
        cells = {_RECORD: _dumps(record).encode(), _VERSION: str(record["version"]).encode()}
        if event.region is not None:
            cells[_REGION] = _dumps(event.region.to_json()).encode()
        self.backend.put(self._table("events"), event.event_id.encode(), cells)
        outcome = "retracted" if event.retracted else ("updated" if old else "new")
        return outcome, record

    def all(self) -> list[StoredEvent]:
        return [self._stored(cells) for _, cells in self.backend.scan(self._table("events"))]

    def _stored(self, cells: dict) -> StoredEvent:
        """The record, and its region rebuilt once per event version (sky maps are not small)."""
        record = json.loads(cells[_RECORD])
        key = (record["event_id"], record["version"])
        if key not in self._regions:
            self._regions[key] = region_from_json(json.loads(cells[_REGION])) if _REGION in cells else None
        return StoredEvent(record, self._regions[key])

    def region_json(self, event_id: str) -> dict | None:
        cells = self.backend.get(self._table("events"), event_id.encode())
        return json.loads(cells[_REGION]) if cells and _REGION in cells else None

    def active(self) -> list[StoredEvent]:
        """Every event that can still match alerts (not retracted, with a region and a time)."""
        return [e for e in self.all() if e.active]

    def add_matches(self, event_id: str, matches: list[dict]) -> int:
        """Record matched alerts (idempotent: one row per event and alert)."""
        rows = [(f"{event_id}_{model.encode_id(int(m['alert_id']))}".encode(), {_MATCH: _dumps(m).encode()})
                for m in matches]
        return self.backend.put_many(self._table("matches"), rows) if rows else 0

    def matches(self, event_id: str, limit: int | None = None) -> list[dict]:
        rows = self.backend.scan_prefix(self._table("matches"), f"{event_id}_".encode(), limit)
        return [json.loads(cells[_MATCH]) for _, cells in rows]



def event_matches(store: EventStore, event_id: str, limit: int | None = None) -> tuple[dict, list[dict]]:
    """``(record, matches)`` of one event; QueryError when the store does not hold it."""
    from fink_like.archive.query import NotFoundError

    stored = store.get(str(event_id))
    if stored is None:
        raise NotFoundError(f"no event {event_id!r} in the event store (ids look like lvk-S230518h)")
    return stored.record, store.matches(stored.event_id, limit)
