"""The search form: object id, cone (degrees or sexagesimal, radius with units), class, dates, topic.

The first of object id, cone, class, topic and time window that is given picks the
archive index to read; class and topic, when given beside another criterion, filter
the page that index returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fink_like.archive.query import Archive, QueryResult, check_class
from fink_like.errors import QueryError
from fink_like.secrets import echo

_RADIUS = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(arcsec|arcmin|deg|d|\"|''|'|s|m|°)?\s*$")
_UNITS = {None: 1.0, "arcsec": 1.0, '"': 1.0, "''": 1.0, "s": 1.0, "arcmin": 60.0, "'": 60.0, "m": 60.0,
          "deg": 3600.0, "d": 3600.0, "°": 3600.0}


def parse_ra(text: str) -> float:
    """RA in degrees from ``193.82``, ``12:55:16.8`` or ``12h55m16.8s`` (sexagesimal is hours)."""
    return _angle(text, "ra", hours=True)


def parse_dec(text: str) -> float:
    """Dec in degrees from ``-5.2``, ``-05:12:00`` or ``-5d12m00s``, within [-90, 90]."""
    value = _angle(text, "dec", hours=False)
    if not -90 <= value <= 90:
        raise QueryError(f"dec {echo(text)} is outside [-90, 90] degrees")
    return value


def _angle(text: str, what: str, hours: bool) -> float:
    from astropy import units as u
    from astropy.coordinates import Angle

    text = str(text).strip()
    if len(text) > 40:
        raise QueryError(f"{what} {echo(text)} is too long to be an angle")
    try:
        value = float(text)
    except ValueError:
        sexagesimal = bool(re.search(r"[:hms ]", text)) and hours
        try:
            value = Angle(text, unit=u.hourangle if sexagesimal else u.deg).degree
        except (ValueError, TypeError, u.UnitsError) as exc:
            raise QueryError(f"cannot read {what} {echo(text)}: give degrees (193.82) or sexagesimal "
                             f"({'12:55:16.8' if hours else '-05:12:00'})") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise QueryError(f"{what} {echo(text)} must be a finite angle")
    return float(value) % 360.0 if hours else float(value)


def parse_radius(text: str) -> float:
    """Radius in arcseconds from ``5``, ``5 arcsec``, ``2'``, ``1.5 arcmin`` or ``1 deg``."""
    match = _RADIUS.match(str(text))
    if not match:
        raise QueryError(f"cannot read radius {echo(text)}: give a number and a unit "
                         "(arcsec, arcmin, deg), e.g. 30 arcsec or 1 deg")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Search:
    """One search, as typed in the form (every field optional)."""

    object_id: str = ""
    ra: str = ""
    dec: str = ""
    radius: str = ""
    klass: str = ""
    topic: str = ""
    since: str = ""
    until: str = ""

    def describe(self) -> str:
        parts = [f"object {self.object_id}" if self.object_id else "",
                 f"cone {self.ra}, {self.dec} within {self.radius or '5 arcsec'}" if self.ra or self.dec else "",
                 f"class {self.klass}" if self.klass else "", f"topic {self.topic}" if self.topic else "",
                 f"since {self.since}" if self.since else "", f"until {self.until}" if self.until else ""]
        return "; ".join(p for p in parts if p) or "the latest alerts"

    def run(self, archive: Archive, context, limit: int | None, cursor: str | None) -> QueryResult:
        """One page of results (see the module docstring for which index answers)."""
        window = dict(since=self.since or None, until=self.until or None)
        if self.object_id:
            result = archive.object(self.object_id.strip(), limit=limit, cursor=cursor)
        elif self.ra or self.dec:
            if not (self.ra and self.dec):
                raise QueryError("a cone search needs both ra and dec")
            result = archive.cone(parse_ra(self.ra), parse_dec(self.dec), parse_radius(self.radius or "5"),
                                  limit=limit, cursor=cursor, **window)
        elif self.klass:
            return archive.by_class(self.klass, limit=limit, cursor=cursor, **window)
        else:
            result = archive.window(limit=limit, cursor=cursor, **window)
        if self.klass:
            label = check_class(self.klass)
            result = result.where([row.get("class") == label for row in result.rows])
        if self.topic:
            result = result.where(context.topic_mask(result.table, self.topic))
        return result
