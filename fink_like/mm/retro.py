"""Retroactive matching: a new event searches the archive for alerts since ``t0 - before``.

The archive's pixel index (HEALPix nested, ``fink_like.archive.model.NSIDE``) is read
over the pixels that cover the event's region, each hit is tested exactly with
:func:`fink_like.mm.match.match_event` (time window and region), and the matches go to
the event's record and to the ``mm`` topic. Topic messages are the same as the live
ones (the alert as distributed, with the ``mm_*`` columns of this event): the alerts
are read back from the science lake (the archive does not keep packets), by night and
alert id. Alerts whose night is no longer in the lake are counted as ``unpublished``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from fink_like.archive import model
from fink_like.archive.query import Archive, index_ranges
from fink_like.mm.match import match_event, match_record
from fink_like.mm.store import EventStore, StoredEvent

log = logging.getLogger(__name__)
MM_COLUMNS = ("mm_event_id", "mm_messenger", "mm_prob_density", "mm_dt_days", "mm_n_events")


@dataclass
class RetroResult:
    """What one retroactive search found and did."""

    event_id: str
    scanned: int = 0
    matches: list[dict] = field(default_factory=list)
    published: int = 0
    unpublished: int = 0


def search_archive(archive: Archive, event: StoredEvent, limit: int) -> RetroResult:
    """Every archived alert inside ``event``'s region and window (at most ``limit`` scanned)."""
    result = RetroResult(event.event_id)
    if event.region is None or event.t0 is None:
        return result
    lo, hi = event.window
    prefix = archive.settings.archive.table_prefix
    keys, ra, dec, mjd = [], [], [], []
    for key, cells in _index_rows(archive, model.table_name(prefix, "pixel"), event, limit):
        t = json.loads(cells[b"i:mjd"])
        result.scanned += 1
        if lo <= t <= hi:
            keys.append(key.split(b"_", 1)[1])
            ra.append(json.loads(cells[b"i:ra"]))
            dec.append(json.loads(cells[b"i:dec"]))
            mjd.append(t)
    found = match_event(event, ra, dec, mjd)
    rows = archive.backend.get_many(model.table_name(prefix, "alerts"), [keys[m.row] for m in found])
    cells = {k: c for k, c in rows}
    for m in found:
        alert = {name: json.loads(cells[keys[m.row]][f"s:{name}".encode()])
                 for name in ("alert_id", "object_id", "mjd", "ra", "dec")}
        night = cells[keys[m.row]].get(b"b:night")
        result.matches.append({**match_record(m, alert, "retro"),
                               "night": json.loads(night) if night else None})
    return result


def _index_rows(archive: Archive, table: str, event: StoredEvent, limit: int):
    """Pixel-index rows over the event's covering pixels, at most ``limit``."""
    seen = 0
    for start, stop in index_ranges(event.region.index_pixels(model.NSIDE)):
        for row in archive.backend.scan(table, start, stop):
            if seen >= limit:
                log.warning("retroactive search of %s stopped after %d index rows (mm.retro_max_alerts)",
                            event.event_id, limit)
                return
            seen += 1
            yield row


def run_retro(settings, store: EventStore, event: StoredEvent, publish: bool = True) -> RetroResult:
    """Search the archive for ``event``, record the matches, publish them to ``mm.topic``.

    An embedded archive that does not exist yet is not created: nothing is searched.
    """
    from pathlib import Path

    if settings.archive.backend == "embedded" and not Path(settings.archive.path).is_file():
        log.info("retroactive search of %s skipped: no archive at %s", event.event_id, settings.archive.path)
        return RetroResult(event.event_id)
    archive = Archive(settings)
    try:
        result = search_archive(archive, event, settings.mm.retro_max_alerts)
    finally:
        archive.close()
    store.add_matches(event.event_id, result.matches)
    if publish and result.matches:
        result.published, result.unpublished = publish_matches(settings, event, result.matches)
    log.info("retroactive search of %s: %d index rows, %d matches, %d published", event.event_id,
             result.scanned, len(result.matches), result.published)
    return result


def publish_matches(settings, event: StoredEvent, matches: list[dict]) -> tuple[int, int]:
    """Publish the matched alerts, read from the science lake, to ``mm.topic``."""
    from fink_like.config import FilterSpec
    from fink_like.distribution import publish
    from fink_like.filters.engine import FilterEngine
    from fink_like.jobs.driver import bootstrap_for, science_schema
    from fink_like.jobs.lake import read_lake
    from fink_like.kafka.conf import client_conf

    schema = science_schema(settings)
    nights = sorted({m["night"] for m in matches if m.get("night")})
    table = read_lake(settings.lake_path("science"), nights=nights, schema=schema) if nights else None
    if table is None or table.num_rows == 0:
        return 0, len(matches)
    by_id = {m["alert_id"]: m for m in matches}
    table = table.filter(pc.is_in(table["alert_id"], pa.array(list(by_id), pa.int64())))
    table = with_match_columns(table, event, [by_id[a] for a in table["alert_id"].to_pylist()])
    spec = FilterSpec(name="mm_retro", topic=settings.mm.topic, expression="mm_event_id is not null")
    conf = client_conf(settings.kafka, bootstrap_for(settings))
    counts = publish(table, FilterEngine([spec], table.schema), conf,
                     schema_topic=settings.distribution.schema_topic)
    published = counts.get(settings.mm.topic, 0)
    return published, len(matches) - published


def with_match_columns(table: pa.Table, event: StoredEvent, matches: list[dict]) -> pa.Table:
    """``table`` with its ``mm_*`` columns set to ``event``'s matches (one per row, in order)."""
    values = {
        "mm_event_id": pa.array([event.event_id] * len(matches), pa.string()),
        "mm_messenger": pa.array([event.messenger] * len(matches), pa.string()),
        "mm_prob_density": pa.array([m["prob_density"] for m in matches], pa.float64()),
        "mm_dt_days": pa.array([m["dt_days"] for m in matches], pa.float64()),
        "mm_n_events": pa.array([1] * len(matches), pa.int32()),
    }
    for name, array in values.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table
