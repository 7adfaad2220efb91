"""The light-curve accessor: every science module reads an alert's history through it.

Canonical alerts carry their history as per-alert lists (:mod:`fink_like.surveys.canonical`):
detections ``lc_*``, upper limits ``ul_*`` and forced photometry ``fp_*``. :func:`read_points`
flattens the lists of one kind, for a whole batch at once, into numpy arrays with the
parent row of each point and a band code, so that a module computes per-alert or
per-(alert, band) quantities with ``bincount``/``lexsort`` instead of a loop over alerts.
Sequence models walk the same points one row at a time (:meth:`Points.rows`).

Kinds and fields (``mag``/``magerr`` of forced photometry are derived from the flux):

======  =========================================================
kind    fields
======  =========================================================
``lc``  ``mjd``, ``flux``, ``fluxerr``, ``mag``, ``magerr``
``ul``  ``mjd``, ``maglim``
``fp``  ``mjd``, ``flux``, ``fluxerr``, ``mag``, ``magerr``
======  =========================================================

Every kind also has ``band``, given as a code into :data:`BANDS` (``-1`` for a null band,
or for an unknown one when ``unknown_band="keep"``). Null values inside the lists become
NaN; a null list is an empty history. Lists of one alert that differ in length raise
:class:`~fink_like.errors.AlertError` (``ragged_history``) naming the row and the column.

Examples
--------
>>> import pyarrow as pa
>>> batch = pa.table({"lc_mjd": [[1.0, 2.0, 3.0], [5.0]], "lc_band": [["g", "r", "g"], ["r"]],
...                   "lc_flux": [[10.0, 20.0, None], [7.0]]})
>>> points = read_points(batch, "lc", ("flux",))
>>> points.row.tolist(), [BANDS[b] for b in points.band], points.flux.tolist()
([0, 0, 0, 1], ['g', 'r', 'g', 'r'], [10.0, 20.0, nan, 7.0])
>>> good = points.where(points.usable("mjd", "flux"))
>>> good.counts().tolist()
[2, 1]
>>> [BANDS[b] for b in good.of_row(0).band]
['g', 'r']
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import AlertError, PluginError

BANDS = ("u", "g", "r", "i", "z", "y")
"""Band codes: ``points.band == BANDS.index("g")`` selects g. ZTF uses g, r, i; Rubin all six."""

ZERO_POINT_NJY = 31.4
"""AB magnitude of a flux of 1 nJy: ``mag = 31.4 - 2.5 log10(flux / nJy)``."""

_STORED = {
    "lc": ("mjd", "flux", "fluxerr", "mag", "magerr"),
    "ul": ("mjd", "maglim"),
    "fp": ("mjd", "flux", "fluxerr"),
}
_DERIVED = {"fp": {"mag": ("flux",), "magerr": ("flux", "fluxerr")}}
_BAND_SET = pa.array(BANDS)


@dataclass(frozen=True)
class Points:
    """The points of one kind for a batch: parallel arrays, one value per point.

    Attributes
    ----------
    kind : str
        ``lc``, ``ul`` or ``fp``.
    n_rows : int
        Rows of the batch (alerts without any point count too).
    row : ndarray of int64
        Parent row of each point, in ``[0, n_rows)``.
    band : ndarray of int64
        Index into :data:`BANDS`; ``-1`` when null (or unknown and kept).
    mjd, flux, fluxerr, mag, magerr, maglim : ndarray of float64 or None
        The requested fields (NaN where the value is null); None when not read.

    Points come in list order (time order for canonical alerts) unless re-sorted with
    :meth:`sorted`.
    """

    kind: str
    n_rows: int
    row: np.ndarray
    band: np.ndarray
    mjd: np.ndarray | None = None
    flux: np.ndarray | None = None
    fluxerr: np.ndarray | None = None
    mag: np.ndarray | None = None
    magerr: np.ndarray | None = None
    maglim: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.row)

    def _arrays(self) -> dict[str, np.ndarray]:
        skip = ("kind", "n_rows")
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in skip and getattr(self, f.name) is not None}

    def where(self, mask: np.ndarray) -> "Points":
        """The points where ``mask`` (boolean, or integer positions) holds, in that order."""
        return replace(self, **{k: v[mask] for k, v in self._arrays().items()})

    def usable(self, *names: str, known_band: bool = False) -> np.ndarray:
        """Mask of points whose fields ``names`` are finite, errors (``*err``) positive.

        With ``known_band``, the band must also be known (code >= 0).
        """
        ok = np.ones(len(self), dtype=bool)
        for name in names:
            values = getattr(self, name, None)
            if values is None:
                raise PluginError(f"{self.kind} points were read without field {name!r}")
            ok &= np.isfinite(values)
            if name.endswith("err"):
                ok &= values > 0
        return ok & (self.band >= 0) if known_band else ok

    def sorted(self, *keys: str) -> "Points":
        """Sorted by row, then by ``keys`` (e.g. ``"band", "mjd"``); stable."""
        order = np.lexsort(tuple(getattr(self, k) for k in reversed(keys)) + (self.row,))
        return self.where(order)

    def counts(self) -> np.ndarray:
        """Points per row, ``(n_rows,)``."""
        return np.bincount(self.row, minlength=self.n_rows)

    def starts(self) -> np.ndarray:
        """Index of each row's first point, ``(n_rows + 1,)``; the points must be sorted by row."""
        return np.concatenate([[0], np.cumsum(self.counts())])

    def of_row(self, i: int) -> "Points":
        """The points of row ``i`` (sorted by row first: see :meth:`sorted`)."""
        lo, hi = np.searchsorted(self.row, [i, i + 1])
        return self.where(slice(lo, hi))

    def rows(self) -> Iterator["Points"]:
        """Each row's points, in row order, for sequence models (sorted by row first)."""
        bounds = self.starts()
        for i in range(self.n_rows):
            yield self.where(slice(bounds[i], bounds[i + 1]))

    def in_band(self, band: str) -> "Points":
        """The points of one band (a name from :data:`BANDS`)."""
        return self.where(self.band == _band_code(band))

    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """``(group, group_row)``: a dense id per (row, band) pair, and each group's row.

        The points must be sorted by row then band (``sorted("band", ...)``).
        """
        key = self.row * len(BANDS) + self.band
        if not len(key):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        new = np.r_[True, key[1:] != key[:-1]]
        return np.cumsum(new).astype(np.int64) - 1, self.row[new]


def _band_code(band: str) -> int:
    if band not in BANDS:
        raise PluginError(f"unknown band {band!r}; known bands are {list(BANDS)}")
    return BANDS.index(band)


def columns(kind: str, names: Sequence[str] = (), *, band: bool = True) -> tuple[str, ...]:
    """The canonical columns that :func:`read_points` reads for these fields.

    Use it to declare a module's ``inputs``: ``columns("lc", ("flux", "fluxerr"))`` is
    ``("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")``; ``band=False`` leaves out the band.
    """
    if kind not in _STORED:
        raise PluginError(f"unknown light-curve kind {kind!r}; expected one of {sorted(_STORED)}")
    stored: list[str] = ["mjd", "band"] if band else ["mjd"]
    for name in names:
        for source in _DERIVED.get(kind, {}).get(name, (name,)):
            if source not in _STORED[kind]:
                raise PluginError(f"{kind} points have no field {name!r}; "
                                  f"available: {sorted({*_STORED[kind], *_DERIVED.get(kind, {})})}")
            if source not in stored:
                stored.append(source)
    return tuple(f"{kind}_{name}" for name in stored)


def read_points(table: pa.Table, kind: str = "lc", names: Sequence[str] = (), *,
                unknown_band: str = "raise", band: bool = True) -> Points:
    """Flatten the ``kind`` lists of ``table`` into :class:`Points` (``mjd`` and ``band`` always).

    Parameters
    ----------
    table : pyarrow.Table
        Canonical alerts holding :func:`columns` ``(kind, names)``.
    kind : str
        ``lc`` (detections), ``ul`` (upper limits) or ``fp`` (forced photometry).
    names : sequence of str
        Fields to read besides ``mjd`` and ``band`` (see the module docstring).
    unknown_band : {"raise", "keep"}
        What to do with a band outside :data:`BANDS`: raise, or keep it with code -1.
    band : bool
        False to skip reading ``<kind>_band`` (every code is then -1).

    Raises
    ------
    AlertError
        ``missing_column`` when a column is absent, ``ragged_history`` when an alert's
        lists differ in length (naming the row and the column), ``unknown_band``.
    """
    if unknown_band not in ("raise", "keep"):
        raise PluginError(f"unknown_band must be 'raise' or 'keep', got {unknown_band!r}")
    wanted = columns(kind, names, band=band)
    flat, lengths = {}, None
    for column in wanted:
        flat[column], n = _flatten(table, column)
        if lengths is None:
            lengths = n
        elif not np.array_equal(n, lengths):
            i = int(np.flatnonzero(n != lengths)[0])
            raise AlertError("ragged_history",
                             f"row {i}: {column} has {n[i]} values but {wanted[0]} has {lengths[i]}")
    row = np.repeat(np.arange(table.num_rows, dtype=np.int64), lengths)
    codes = (_band_codes(flat.pop(f"{kind}_band"), f"{kind}_band", unknown_band) if band
             else np.full(len(row), -1, dtype=np.int64))
    values = {c[len(kind) + 1:]: _floats(v) for c, v in flat.items()}
    for name in names:
        if name in _DERIVED.get(kind, {}):
            values[name] = _derive(name, values)
    keep = {"mjd", *names}
    return Points(kind, table.num_rows, row, codes, **{k: v for k, v in values.items() if k in keep})


def _flatten(table: pa.Table, column: str) -> tuple[pa.Array, np.ndarray]:
    if column not in table.column_names:
        raise AlertError("missing_column", f"the batch has no column {column!r}")
    chunked = table.column(column)
    arr = chunked.combine_chunks() if chunked.num_chunks else pa.array([], type=chunked.type)
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
    return pc.list_flatten(arr), lengths.astype(np.int64)


def _floats(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _band_codes(values: pa.Array, column: str, unknown_band: str) -> np.ndarray:
    codes = pc.index_in(values, value_set=_BAND_SET)
    if unknown_band == "raise":
        unknown = pc.and_(pc.is_null(codes), pc.is_valid(values))
        if pc.any(unknown).as_py():
            bad = sorted(set(pc.filter(values, unknown).to_pylist()))
            raise AlertError("unknown_band", f"{column} holds {bad}; known bands are {list(BANDS)}")
    return pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _derive(name: str, values: dict[str, np.ndarray]) -> np.ndarray:
    flux = values["flux"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "mag":
            return np.where(flux > 0, ZERO_POINT_NJY - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)
        return np.where(flux > 0, 2.5 / np.log(10.0) * values["fluxerr"] / flux, np.nan)
