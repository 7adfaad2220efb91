"""Turn the canonical ``lc_*`` lists of a batch into one padded array of per-step features.

Each detection becomes one step of :data:`N_FEATURES` values:

* ``log1p(Δt)`` since the previous detection and ``log1p(t - t_first)`` (days, / 5);
* the band, one-hot over u g r i z y (ZTF fills g r i, Rubin all six);
* the flux and its error divided by the alert's largest |flux| (shape), then
  ``asinh(flux / err) / 5`` (signal-to-noise) and ``asinh(flux / 1000 nJy) / 10``
  (brightness: distant supernovae are faint), both compressed.

Only the last :data:`MAX_STEPS` valid detections are kept. Everything is vectorised
over the whole batch; there is no loop over alerts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import AlertError

BANDS = ("u", "g", "r", "i", "z", "y")
INPUTS = ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")
MAX_STEPS = 64
N_FEATURES = 2 + len(BANDS) + 4


def _list_column(table: pa.Table, name: str) -> tuple[pa.Array, np.ndarray]:
    if name not in table.column_names:
        raise AlertError("missing_column", f"the batch has no column {name!r}")
    column = table.column(name).combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(column), 0).to_numpy(zero_copy_only=False)
    return pc.list_flatten(column), lengths


def _as_float(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False)


def _points(table: pa.Table):
    """Flat (row, time, band code, flux, err) of the valid detections, in list order."""
    flat, lengths = {}, None
    for name in INPUTS:
        flat[name], n = _list_column(table, name)
        if lengths is None:
            lengths = n
        elif not np.array_equal(n, lengths):
            row = int(np.flatnonzero(n != lengths)[0])
            raise AlertError("ragged_history", f"row {row}: {name} has {n[row]} values, lc_mjd has {lengths[row]}")
    codes = pc.index_in(flat["lc_band"], value_set=pa.array(BANDS))
    unknown = pc.and_(pc.is_null(codes), pc.is_valid(flat["lc_band"]))
    if pc.any(unknown).as_py():
        bad = sorted(set(pc.filter(flat["lc_band"], unknown).to_pylist()))
        raise AlertError("unknown_band", f"lc_band holds {bad}; known bands are {list(BANDS)}")
    band = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    row = np.repeat(np.arange(table.num_rows, dtype=np.int64), lengths)
    t, flux, err = (_as_float(flat[k]) for k in ("lc_mjd", "lc_flux", "lc_fluxerr"))
    keep = np.isfinite(t) & np.isfinite(flux) & np.isfinite(err) & (err > 0) & (band >= 0)
    row, t, band, flux, err = row[keep], t[keep], band[keep], flux[keep], err[keep]
    order = np.lexsort((t, row))  # lists are time-ordered; this makes sure of it
    return row[order], t[order], band[order], flux[order], err[order]


def encode(table: pa.Table, max_steps: int = MAX_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Padded step features and lengths of every alert.

    Returns
    -------
    steps : ndarray, float32, shape ``(num_rows, L, N_FEATURES)``
        ``L`` is the longest kept sequence of the batch (at least 1); padding is zeros.
    lengths : ndarray, int64, shape ``(num_rows,)``
        Valid steps per alert; 0 for an alert without any valid detection.

    Raises
    ------
    AlertError
        ``missing_column``, ``ragged_history`` or ``unknown_band``, naming the problem.
    """
    n_rows = table.num_rows
    row, t, band, flux, err = _points(table)
    counts = np.bincount(row, minlength=n_rows)
    first = np.cumsum(counts) - counts
    pos = np.arange(len(row)) - first[row]
    skip = np.maximum(counts - max_steps, 0)
    keep = pos >= skip[row]
    row, t, band, flux, err, pos = row[keep], t[keep], band[keep], flux[keep], err[keep], (pos - skip[row])[keep]
    lengths = np.minimum(counts, max_steps).astype(np.int64)
    width = max(int(lengths.max()) if n_rows else 1, 1)
    steps = np.zeros((n_rows, width, N_FEATURES), dtype=np.float32)
    if len(row) == 0:
        return steps, lengths
    t_first = np.full(n_rows, np.inf)
    np.minimum.at(t_first, row, t)
    scale = np.zeros(n_rows)
    np.maximum.at(scale, row, np.abs(flux))
    scale = np.where(scale > 0, scale, 1.0)[row]
    prev = np.r_[t[0], t[:-1]]
    dt = np.where(pos > 0, t - prev, 0.0)
    steps[row, pos, 0] = np.log1p(np.maximum(dt, 0.0)) / 5.0
    steps[row, pos, 1] = np.log1p(t - t_first[row]) / 5.0
    steps[row, pos, 2 + band] = 1.0
    base = 2 + len(BANDS)
    steps[row, pos, base] = flux / scale
    steps[row, pos, base + 1] = err / scale
    steps[row, pos, base + 2] = np.arcsinh(flux / err) / 5.0
    steps[row, pos, base + 3] = np.arcsinh(flux / 1000.0) / 10.0
    return steps, lengths
