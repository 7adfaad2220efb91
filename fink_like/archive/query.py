"""Queries on the archive: an object's light curve, a cone, a class, the latest alerts.

Every query validates its arguments (:class:`fink_like.errors.QueryError` names the bad
one), reads through the indexes of :mod:`fink_like.archive.model` and returns a
:class:`QueryResult`: an Arrow table and an opaque cursor for the next page.

Units: positions in degrees, cone radius in **arcseconds** (at most
:data:`MAX_RADIUS_ARCSEC`), dates as MJD numbers or ISO-8601 strings (UTC).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from fink_like.archive import codec, model
from fink_like.archive.backends import LazyBackend, prefix_stop
from fink_like.archive.cursors import Cursors
from fink_like.errors import ArchiveError, QueryError
from fink_like.secrets import echo
from fink_like.sky.cone import separation_deg

MAX_RADIUS_ARCSEC = 5 * 3600.0
"""Largest cone radius (5 degrees): at NSIDE 128 such a cone touches ~400 index pixels."""


class NotFoundError(QueryError):
    """The query is valid but names something the archive does not hold (a cutout)."""


@dataclass(frozen=True)
class QueryResult:
    """One page of results: the archived ``cells`` of each alert and ``next_cursor`` (None: last page).

    Decoding is lazy: ``rows`` (dicts), ``table`` (Arrow, canonical types) and
    ``records()`` (JSON-ready dicts, built from the rows without an Arrow table: the API's
    path). Values the query computes, such as a cone's ``separation_arcsec``, are cells
    of family ``q``.
    """

    cells: list[dict[bytes, bytes]]
    next_cursor: str | None = None
    extra_front: tuple[str, ...] = ()

    @cached_property
    def rows(self) -> list[dict]:
        return [codec.decode_cells(c, codec.RESULT_FAMILIES) for c in self.cells]

    @cached_property
    def table(self) -> pa.Table:
        return codec.rows_to_table(self.rows, extra_front=self.extra_front)

    def records(self) -> list[dict]:
        return codec.json_rows(self.rows, extra_front=self.extra_front)

    def where(self, keep: list[bool]) -> "QueryResult":
        """The same page with only the rows where ``keep`` is true (same cursor)."""
        return QueryResult([c for c, k in zip(self.cells, keep) if k], self.next_cursor, self.extra_front)


class Archive(LazyBackend):
    """Read access to the archive named by ``settings.archive``.

    Examples
    --------
    >>> archive = Archive(settings)                       # doctest: +SKIP
    >>> archive.cone(193.82, 2.89, radius=5.0).table      # doctest: +SKIP
    """

    def _table(self, which: str) -> str:
        return model.table_name(self.settings.archive.table_prefix, which)

    @cached_property
    def cursors(self) -> Cursors:
        """Signs the cursors this archive issues and refuses the others."""
        secret = getattr(self.settings.api, "cursor_secret", None)
        return Cursors(secret.get_secret_value().encode() if secret else None)

    def _after(self, cursor: str | None, floor: bytes = b"") -> bytes:
        """Where the next page starts: just after the cursor's key, never before ``floor``."""
        return max(self.cursors.decode(cursor) + b"\x00", floor) if cursor else floor

    def object(self, object_id: str, limit: int | None = None, cursor: str | None = None) -> QueryResult:
        """All alerts of one object in time order (the light curve), ``limit`` per page."""
        limit = check_limit(limit, self.settings.api.max_results, self.settings.api.max_results)
        prefix = object_prefix(object_id)
        start = self._after(cursor, prefix)
        rows = list(self.backend.scan(self._table("alerts"), start, prefix_stop(prefix), limit + 1))
        return self._page([(k, c) for k, c in rows[:limit]], rows, limit)

    def latest(self, limit: int | None = None, cursor: str | None = None) -> QueryResult:
        """The most recent alerts (by observation time), newest first."""
        limit = check_limit(limit, self.settings.api.default_limit, self.settings.api.max_results)
        return self._via_index("time", self._after(cursor), None, limit)

    def by_class(self, name: str, since=None, until=None, limit: int | None = None,
                 cursor: str | None = None) -> QueryResult:
        """Alerts of one archive class (see :data:`model.CLASSES`), newest first."""
        label = check_class(name)
        limit = check_limit(limit, self.settings.api.default_limit, self.settings.api.max_results)
        lo, hi = check_window(since, until)
        prefix = model.class_prefix(label)
        start = prefix + model.encode_invmjd(hi).encode() if hi is not None else prefix
        stop = prefix + model.encode_invmjd(lo).encode() + b"~" if lo is not None else prefix_stop(prefix)
        return self._via_index("class", self._after(cursor, start), stop, limit)

    def window(self, since=None, until=None, limit: int | None = None,
               cursor: str | None = None) -> QueryResult:
        """Alerts observed between ``since`` and ``until`` (either may be None), newest first."""
        limit = check_limit(limit, self.settings.api.default_limit, self.settings.api.max_results)
        lo, hi = check_window(since, until)
        start = model.encode_invmjd(hi).encode() if hi is not None else b""
        stop = model.encode_invmjd(lo).encode() + b"~" if lo is not None else None
        return self._via_index("time", self._after(cursor, start), stop, limit)

    def sso(self, name: str, limit: int | None = None, cursor: str | None = None) -> QueryResult:
        """Every alert associated with one known solar-system object (``ssnamenr``), in time order.

        The designation is matched as the survey wrote it, spaces ignored (``2009 PB15`` is
        ``2009PB15``; Rubin 8.0/9.0 write packed designations such as ``K13L24L``).
        """
        limit = check_limit(limit, self.settings.api.max_results, self.settings.api.max_results)
        try:
            prefix = model.sso_prefix(name)
        except ArchiveError as exc:
            raise QueryError(f"invalid designation {name!r}: {exc}") from exc
        return self._via_index("sso", self._after(cursor, prefix), prefix_stop(prefix), limit)

    def cone(self, ra: float, dec: float, radius: float, since=None, until=None,
             limit: int | None = None, cursor: str | None = None) -> QueryResult:
        """Alerts within ``radius`` arcsec of (ra, dec), by index pixel; adds ``separation_arcsec``."""
        ra, dec, radius = check_cone(ra, dec, radius)
        lo, hi = check_window(since, until)
        limit = check_limit(limit, self.settings.api.default_limit, self.settings.api.max_results)
        after = self._after(cursor)
        found, last = [], None
        for start, stop in pixel_ranges(ra, dec, radius):
            if stop <= after:
                continue
            rows = list(self.backend.scan(self._table("pixel"), max(start, after), stop))
            if rows:
                last = rows[-1][0]
            for i, sep in within(rows, ra, dec, radius, lo, hi):
                found.append((rows[i][0].split(b"_", 1)[1], sep))
                if len(found) == limit:
                    last = rows[i][0]
                    break
            if len(found) == limit:
                break
        more = len(found) == limit and last is not None
        rows = self.backend.get_many(self._table("alerts"), [k for k, _ in found])
        seps = dict(found)
        cells = [{**c, b"q:separation_arcsec": codec.encode_value(seps[k])} for k, c in rows]
        return QueryResult(cells, self.cursors.encode(last) if more else None, ("separation_arcsec",))

    def cutout(self, alert_id: int, kind: str) -> bytes:
        """The gzipped FITS stamp ``kind`` (science, template, difference) of one alert."""
        if kind not in model.CUTOUT_KINDS:
            raise QueryError(f"unknown cutout {echo(kind)}: use one of {', '.join(model.CUTOUT_KINDS)}")
        try:
            key = model.cutout_key(int(alert_id))
        except Exception as exc:
            raise QueryError(f"invalid alert id {echo(alert_id)}: a non-negative integer is expected") from exc
        cells = self.backend.get(self._table("cutouts"), key)
        if not cells or f"c:{kind}".encode() not in cells:
            raise NotFoundError(f"no {kind} cutout archived for alert {alert_id}")
        return cells[f"c:{kind}".encode()]

    def upper_limits(self, object_id: str) -> pa.Table:
        """The object's non-detection upper limits in time order (mjd, band, maglim)."""
        rows = self.backend.scan_prefix(self._table("upperlim"), object_prefix(object_id))
        decoded = [{k.decode()[2:]: json.loads(v) for k, v in cells.items()} for _, cells in rows]
        return pa.Table.from_pylist(decoded, schema=pa.schema(
            [("mjd", pa.float64()), ("band", pa.string()), ("maglim", pa.float64())]))

    def _via_index(self, index: str, start: bytes, stop: bytes | None, limit: int) -> QueryResult:
        hits = list(self.backend.scan(self._table(index), start, stop, limit + 1))
        keys = [cells[b"i:key"] for _, cells in hits[:limit]]
        rows = self.backend.get_many(self._table("alerts"), keys)
        return self._page(rows, hits, limit)

    def _page(self, rows, scanned, limit) -> QueryResult:
        more = len(scanned) > limit
        return QueryResult([c for _, c in rows], self.cursors.encode(scanned[limit - 1][0]) if more else None)


def object_prefix(object_id) -> bytes:
    """The key prefix of one object's rows; QueryError for an id that cannot be one."""
    try:
        return model.object_prefix(str(object_id))
    except ArchiveError as exc:
        raise QueryError(f"invalid object id {echo(object_id)}: use 1-64 letters, "
                         "digits, '.', '+', '-'") from exc


def within(rows, ra: float, dec: float, radius: float, lo, hi) -> list[tuple[int, float]]:
    """(index, separation in arcsec) of the pixel-index rows inside the cone and the dates.

    Vectorised: the positions and dates of all rows are parsed by one JSON call and the
    separations computed in one numpy pass (the per-row cost of a cone search).
    """
    if not rows:
        return []
    text = b",".join(b"[" + c[b"i:ra"] + b"," + c[b"i:dec"] + b"," + c[b"i:mjd"] + b"]" for _, c in rows)
    pra, pdec, mjd = np.asarray(json.loads(b"[" + text + b"]"), dtype=float).T
    sep = separation_deg(ra, dec, pra, pdec) * 3600.0
    keep = sep <= radius
    if lo is not None:
        keep &= mjd >= lo
    if hi is not None:
        keep &= mjd <= hi
    return [(int(i), float(sep[i])) for i in np.flatnonzero(keep)]


def pixel_ranges(ra: float, dec: float, radius_arcsec: float) -> list[tuple[bytes, bytes]]:
    """Key ranges of the pixel index covering the cone: consecutive nested pixels merged."""
    import healpy as hp  # here, not at the top: it costs ~1 s of imports (matplotlib, pandas)

    vec = hp.ang2vec(ra, dec, lonlat=True)
    return index_ranges(np.sort(hp.query_disc(model.NSIDE, vec, math.radians(radius_arcsec / 3600.0),
                                              inclusive=True, nest=True)))


def index_ranges(pixels: np.ndarray) -> list[tuple[bytes, bytes]]:
    """Key ranges of the pixel index for sorted nested pixels, consecutive ones merged."""
    ranges = []
    for run in np.split(pixels, np.flatnonzero(np.diff(pixels) != 1) + 1):
        if len(run):
            ranges.append((model.pixel_prefix(int(run[0])), model.pixel_prefix(int(run[-1]) + 1)))
    return ranges


def check_cone(ra, dec, radius) -> tuple[float, float, float]:
    """Validated (ra, dec, radius): finite numbers, dec in [-90, 90], 0 < radius <= 5 deg."""
    try:
        ra, dec, radius = float(ra), float(dec), float(radius)
    except (TypeError, ValueError) as exc:
        raise QueryError(f"ra, dec and radius must be numbers, got {echo(ra)}, {echo(dec)}, "
                         f"{echo(radius)}") from exc
    if not all(map(math.isfinite, (ra, dec, radius))):
        raise QueryError("ra, dec and radius must be finite numbers")
    if not -90.0 <= dec <= 90.0:
        raise QueryError(f"dec {dec} is outside [-90, 90] degrees")
    if radius <= 0:
        raise QueryError(f"radius {radius} must be positive (arcseconds)")
    if radius > MAX_RADIUS_ARCSEC:
        raise QueryError(f"radius {radius} arcsec is too large: at most {MAX_RADIUS_ARCSEC:.0f} arcsec (5 deg)")
    return ra % 360.0, dec, radius


def check_limit(limit, default: int, maximum: int) -> int:
    """``limit`` or ``default``; an integer in [1, maximum] (``api.max_results``)."""
    if limit is None:
        return min(default, maximum)
    if isinstance(limit, int) and not isinstance(limit, bool):
        value = limit
    else:
        try:
            number = float(limit)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"limit must be an integer, got {echo(limit)}") from exc
        if not number.is_integer():
            raise QueryError(f"limit must be an integer, got {echo(limit)}")
        value = int(number)
    if not 1 <= value <= maximum:
        raise QueryError(f"limit {value} must be between 1 and {maximum} (api.max_results)")
    return value


def check_class(name: str) -> str:
    """The canonical spelling of a class name (case-insensitive), or a QueryError listing them."""
    for label in model.CLASSES:
        if str(name).strip().lower() == label.lower():
            return label
    raise QueryError(f"unknown class {echo(name)}; known classes: {', '.join(model.CLASSES)}")


def parse_time(value) -> float | None:
    """A date as MJD: a number (MJD) or an ISO-8601 string such as ``2025-09-21T03:00:00``."""
    if value is None or value == "":
        return None
    try:
        mjd = float(value)
    except (TypeError, ValueError):
        mjd = _iso_mjd(value)
    try:
        # the dates a row key can hold: (0, MJD_MAX) at micro-day resolution
        model.encode_mjd(mjd)
    except (ArchiveError, ValueError, OverflowError) as exc:
        raise QueryError(f"date {echo(value)} is outside the archive's MJD range "
                         f"(0.000001, {model.MJD_MAX - 1e-6:.6f})") from exc
    return mjd


def _iso_mjd(value) -> float:
    import warnings

    from astropy.time import Time

    text = as_utc(str(value))
    with warnings.catch_warnings():
        # erfa warns of "dubious years" (before 1960, far future): the range check decides
        warnings.simplefilter("ignore")
        for fmt in ("isot", "iso"):
            try:
                return float(Time(text, format=fmt, scale="utc").mjd)
            except ValueError:
                continue
    raise QueryError(f"cannot read date {echo(value)}: give an MJD or ISO-8601 "
                     "(2025-09-21T03:00 in UTC, or with an offset: +02:00, Z)")


def as_utc(text: str) -> str:
    """An ISO date with an offset (``+02:00``, ``Z``) as the UTC time it means; others as given."""
    import datetime

    try:
        parsed = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if parsed.tzinfo is None:
        return text
    return parsed.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()


def check_window(since, until) -> tuple[float | None, float | None]:
    lo, hi = parse_time(since), parse_time(until)
    if lo is not None and hi is not None and lo > hi:
        raise QueryError(f"since ({echo(since)}) is after until ({echo(until)})")
    return lo, hi
