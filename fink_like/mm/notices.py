"""GCN notices to events: the unified JSON schema (all missions) and the LVK alert format.

:func:`parse_notice` turns the bytes of one notice into a list of :class:`Event`
(usually one; the IceCube follow-up of a GW lists one neutrino per coincident event),
or raises :class:`NoticeError` whose ``reason`` is a short tag:

============== =========================================================================
reason         meaning
============== =========================================================================
not_json       not UTF-8 JSON, or not a JSON object
unknown_format neither a GCN unified notice (``$schema`` under ``/notices/``) nor an LVK alert
no_id          no event identifier (``id``, ``event_name``, ``superevent_id``)
no_time        no event time (``trigger_time``, ``observation_start``, LVK ``event.time``)
invalid_time   a time that is not ISO-8601 or not between 1950 and 2100
no_localisation no position with an error region and no sky map
invalid_region a position or error that is not a sky region (dec > 90, negative radius, ...)
invalid_skymap a sky map that is not base64, not FITS, or not a HEALPix probability map
============== =========================================================================

Localisation, in order of preference: a valid sky map (LVK ``event.skymap``, unified
``healpix_file``, both base64 FITS, gzipped or not), then ``ra_dec_error`` around
``ra``/``dec`` (one number: a circle radius; two: RA and Dec errors, an ellipse aligned
with the axes; three: semi-major, semi-minor, angle east of north), then
``rectangular_error_corners`` (the circle through the farthest corner). A notice whose
sky map is invalid but which also gives a circle keeps the circle, and the event
records the sky map's problem in ``warnings``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from fink_like.errors import FinkLikeError
from fink_like.mm.regions import Circle, Ellipse, Region, RegionError
from fink_like.mm.skymap import SkyMapError, read_skymap
from fink_like.sky.cone import separation_deg

MESSENGERS = ("GW", "Neutrino", "EM")
NEUTRINO_SOURCES = ("icecube", "km3net", "superk", "super-kamiokande")
RETRACTION = "retraction"
_ID_CHARS = re.compile(r"[^A-Za-z0-9.+\-]+")


class NoticeError(FinkLikeError):
    """A notice cannot become an event; ``reason`` is a tag of the table above."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Event:
    """One version of a multi-messenger event.

    ``event_id`` is ``<source>-<id>`` with characters other than letters, digits,
    ``.+-`` replaced by ``-`` (it keys the event store); ``source`` the mission path of
    the schema (``fermi-gbm``, ``icecube``, ``lvk``); ``t0`` the event time (MJD, UTC);
    ``alert_type`` lower case (``initial``, ``update``, ``preliminary``, ``retraction``).
    A retraction has no region.
    """

    event_id: str
    source: str
    messenger: str
    alert_type: str
    t0: float | None
    region: Region | None
    original_id: str
    tense: str = "current"
    issued: str | None = None
    record_number: int | None = None
    warnings: tuple[str, ...] = ()
    summary: dict = field(default_factory=dict, compare=False)

    @property
    def retracted(self) -> bool:
        return self.alert_type == RETRACTION


def parse_notice(value: bytes | str, credible: float = 0.9) -> list[Event]:
    """The events one notice carries (see the module docstring for the reasons it refuses).

    ``credible``: the probability of a sky map's credible region (``mm.credible_level``).
    """
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NoticeError("not_json", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NoticeError("not_json", f"a JSON object is expected, got {type(data).__name__}")
    if "superevent_id" in data:
        return [_lvk(data, credible)]
    schema = str(data.get("$schema", ""))
    if "/notices/" not in schema:
        raise NoticeError("unknown_format", "neither a GCN unified notice ($schema .../notices/...) "
                          f"nor an LVK alert (superevent_id); $schema={schema or None!r}")
    source = _source(schema)
    if "coincident_events" in data:
        return _coincident(data, source)
    return [_unified(data, source, credible)]


def _source(schema: str) -> str:
    """``.../notices/fermi/gbm/trigger.schema.json`` -> ``fermi-gbm``."""
    parts = schema.split("/notices/", 1)[1].split("/")[:-1]
    return _ID_CHARS.sub("-", "-".join(p.lower() for p in parts)) or "unknown"


def event_key(source: str, original_id: str) -> str:
    return _ID_CHARS.sub("-", f"{source}-{original_id}").strip("-")


def _first_id(data: dict) -> str:
    for key in ("id", "event_name"):
        value = data.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return str(value)
    raise NoticeError("no_id", "the notice has no id or event_name")


def _messenger(data: dict, source: str) -> str:
    given = str(data.get("messenger", ""))
    for name in MESSENGERS:
        if given.lower() == name.lower():
            return name
    return "Neutrino" if source.split("-")[0] in NEUTRINO_SOURCES else "EM"


def _unified(data: dict, source: str, credible: float) -> Event:
    original = _first_id(data)
    alert_type = str(data.get("alert_type", "initial")).lower()
    common = dict(event_id=event_key(source, original), source=source, messenger=_messenger(data, source),
                  alert_type=alert_type, original_id=original, tense=str(data.get("alert_tense", "current")),
                  issued=data.get("alert_datetime"), record_number=data.get("record_number"),
                  summary=_summary(data))
    if alert_type == RETRACTION:
        return Event(t0=_time_of(data, required=False), region=None, **common)
    t0 = _time_of(data, required=True)
    region, warnings = _unified_region(data, credible)
    return Event(t0=t0, region=region, warnings=warnings, **common)


def _time_of(data: dict, required: bool) -> float | None:
    for key in ("trigger_time", "observation_start"):
        if data.get(key):
            return iso_to_mjd(data[key])
    if required:
        raise NoticeError("no_time", "the notice has no trigger_time or observation_start")
    return None


def iso_to_mjd(text) -> float:
    """ISO-8601 UTC (``2024-08-24T02:14:40.43``, ``...Z``, ``... +00:00``) as MJD."""
    from astropy.time import Time

    cleaned = str(text).strip().replace(" ", "T", 1)
    cleaned = re.sub(r"(Z|[+-]00:?00)$", "", cleaned)
    try:
        mjd = float(Time(cleaned, format="isot", scale="utc").mjd)
    except ValueError as exc:
        raise NoticeError("invalid_time", f"time {text!r} is not ISO-8601") from exc
    if not 33282 <= mjd <= 73415:  # 1950-01-01 .. 2100-01-01
        raise NoticeError("invalid_time", f"time {text!r} is not between 1950 and 2100")
    return mjd


def _unified_region(data: dict, credible: float) -> tuple[Region, tuple[str, ...]]:
    warnings: list[str] = []
    if data.get("healpix_file"):
        try:
            return read_skymap(data["healpix_file"], credible), ()
        except SkyMapError as exc:
            if _position_region(data) is None:
                raise NoticeError("invalid_skymap", str(exc)) from exc
            warnings.append(f"healpix_file ignored: {exc}")
    region = _position_region(data)
    if region is None:
        detail = ("ra/dec without ra_dec_error or rectangular_error_corners" if data.get("ra") is not None
                  else "no ra/dec with an error region and no sky map")
        raise NoticeError("no_localisation", detail)
    return region, tuple(warnings)


def _position_region(data: dict) -> Region | None:
    if data.get("ra") is None or data.get("dec") is None:
        return None
    ra, dec = data["ra"], data["dec"]
    try:
        error = data.get("ra_dec_error")
        if error is not None:
            return _error_region(ra, dec, error)
        corners = data.get("rectangular_error_corners")
        if corners:
            reach = max(float(separation_deg(ra, dec, c[0], c[1])) for c in corners)
            return Circle(ra, dec, reach)
    except (TypeError, ValueError, IndexError) as exc:
        raise NoticeError("invalid_region", f"cannot read the error region: {exc}") from exc
    except RegionError as exc:
        raise NoticeError("invalid_region", str(exc)) from exc
    return None


def _error_region(ra, dec, error) -> Region:
    if isinstance(error, (int, float)) and not isinstance(error, bool):
        return Circle(ra, dec, float(error))
    values = [float(v) for v in error]
    if len(values) == 1:
        return Circle(ra, dec, values[0])
    if len(values) == 2:
        # RA and Dec errors: major axis east-west when the RA error is the larger one
        return Ellipse(ra, dec, values[0], values[1], 90.0)
    if len(values) == 3:
        return Ellipse(ra, dec, values[0], values[1], values[2])
    raise NoticeError("invalid_region", f"ra_dec_error {error!r} has {len(values)} values (1, 2 or 3 expected)")


def _coincident(data: dict, source: str) -> list[Event]:
    """IceCube's search around a GW: one neutrino event per coincident track."""
    t0 = _time_of(data, required=True)
    events = []
    for item in data.get("coincident_events") or ():
        original = _first_id(item)
        loc = item.get("localization") or {}
        region = _position_region(loc)
        if region is None:
            raise NoticeError("no_localisation", f"coincident event {original} has no localization")
        dt = float(item.get("event_dt") or 0.0) / 86400.0
        events.append(Event(event_key(source, original), source, "Neutrino", "initial", t0 + dt, region,
                            original, issued=data.get("alert_datetime"),
                            summary={"reference": data.get("ref_ID"), **_summary(item)}))
    if not events:
        raise NoticeError("no_localisation", "no coincident event in the notice")
    return events


def _lvk(data: dict, credible: float) -> Event:
    original = str(data.get("superevent_id") or "")
    if not original:
        raise NoticeError("no_id", "LVK alert without superevent_id")
    alert_type = str(data.get("alert_type", "")).lower().replace("_", "")
    common = dict(event_id=event_key("lvk", original), source="lvk", messenger="GW", original_id=original,
                  issued=data.get("time_created"), alert_type=alert_type or "unknown")
    event = data.get("event")
    if alert_type == RETRACTION:
        return Event(t0=None, region=None, **common)
    if not isinstance(event, dict):
        raise NoticeError("no_localisation", f"LVK {alert_type} alert {original} has no event")
    if not event.get("time"):
        raise NoticeError("no_time", f"LVK alert {original} has no event.time")
    t0 = iso_to_mjd(event["time"])
    if not event.get("skymap"):
        raise NoticeError("no_localisation", f"LVK alert {original} has no event.skymap")
    try:
        region = read_skymap(event["skymap"], credible)
    except SkyMapError as exc:
        raise NoticeError("invalid_skymap", f"LVK alert {original}: {exc}") from exc
    summary = {k: event.get(k) for k in ("far", "significant", "group", "pipeline", "search", "classification")}
    return Event(t0=t0, region=region, summary=summary, **common)


def _summary(data: dict) -> dict:
    """Small scalar fields worth keeping with the event (no sky maps, no long text)."""
    keep = {}
    for key, value in data.items():
        if key in ("healpix_file", "$schema", "additional_info", "description"):
            continue
        if isinstance(value, (int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value)):
            keep[key] = value
        elif isinstance(value, str) and len(value) <= 200:
            keep[key] = value
    return keep
