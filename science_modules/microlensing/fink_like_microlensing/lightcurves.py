"""Flatten the canonical ``lc_*`` list columns into one point table for segment arithmetic.

Every feature in this package is computed with ``np.bincount`` over *groups*: one group
per (alert, band). This module turns an Arrow batch into flat numpy arrays sorted by
group then time, so that no Python loop over alerts is ever needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import AlertError

BANDS = ("u", "g", "r", "i", "z", "y")
"""Band codes used for grouping; ZTF uses g, r, i and Rubin all six."""

INPUTS = ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")
"""Canonical columns this package reads."""


@dataclass(frozen=True)
class Points:
    """Valid detections of a batch, sorted by (alert, band, time).

    Attributes
    ----------
    n_alerts
        Rows in the batch (alerts without a valid point still count).
    alert, band
        Row index and band code (index into :data:`BANDS`) of each point.
    t, flux, err
        MJD, difference flux (nJy) and its error.
    group
        Dense group id of each point: one group per (alert, band) pair.
    group_alert
        Alert row of each group.
    """

    n_alerts: int
    alert: np.ndarray
    band: np.ndarray
    t: np.ndarray
    flux: np.ndarray
    err: np.ndarray
    group: np.ndarray
    group_alert: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.group_alert)


def _flat(table: pa.Table, name: str) -> tuple[pa.Array, np.ndarray]:
    if name not in table.column_names:
        raise AlertError("missing_column", f"the batch has no column {name!r}")
    column = table.column(name).combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    return pc.list_flatten(column), lengths


def _floats(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _band_codes(values: pa.Array) -> np.ndarray:
    codes = pc.index_in(values, value_set=pa.array(BANDS))
    unknown = pc.and_(pc.is_null(codes), pc.is_valid(values))
    if pc.any(unknown).as_py():
        bad = sorted(set(pc.filter(values, unknown).to_pylist()))
        raise AlertError("unknown_band", f"lc_band holds {bad}; known bands are {list(BANDS)}")
    return pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def flatten(table: pa.Table) -> Points:
    """Valid detections of ``table`` as a :class:`Points`.

    A point is kept when its time, flux and band are present and finite and its error
    is finite and positive; the others carry no usable measurement.

    Raises
    ------
    AlertError
        ``missing_column`` when a ``lc_*`` column is absent, ``ragged_history`` when the
        four lists of an alert differ in length, ``unknown_band`` for a band outside
        :data:`BANDS`.
    """
    mjd, lengths = _flat(table, "lc_mjd")
    parts = {"lc_mjd": mjd}
    for name in INPUTS[1:]:
        values, other = _flat(table, name)
        if not np.array_equal(other, lengths):
            row = int(np.flatnonzero(other != lengths)[0])
            raise AlertError(
                "ragged_history", f"row {row}: {name} has {other[row]} values but lc_mjd has {lengths[row]}"
            )
        parts[name] = values
    alert = np.repeat(np.arange(table.num_rows, dtype=np.int64), lengths)
    t, flux, err = _floats(parts["lc_mjd"]), _floats(parts["lc_flux"]), _floats(parts["lc_fluxerr"])
    band = _band_codes(parts["lc_band"])
    keep = np.isfinite(t) & np.isfinite(flux) & np.isfinite(err) & (err > 0) & (band >= 0)
    alert, band, t, flux, err = alert[keep], band[keep], t[keep], flux[keep], err[keep]
    order = np.lexsort((t, band, alert))
    alert, band, t, flux, err = alert[order], band[order], t[order], flux[order], err[order]
    key = alert * len(BANDS) + band
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    group = np.cumsum(np.r_[False, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    return Points(table.num_rows, alert, band, t, flux, err, group.astype(np.int64), alert[starts])
