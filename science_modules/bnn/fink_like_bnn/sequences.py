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

from fink_like.science.lightcurve import BANDS, columns, read_points

INPUTS = columns("lc", ("flux", "fluxerr"))
MAX_STEPS = 64
N_FEATURES = 2 + len(BANDS) + 4


def _points(table: pa.Table):
    """Flat (row, time, band code, flux, err) of the valid detections, sorted by row then time."""
    points = read_points(table, "lc", ("flux", "fluxerr"))
    points = points.where(points.usable("mjd", "flux", "fluxerr", known_band=True)).sorted("mjd")
    return points.row, points.mjd, points.band, points.flux, points.fluxerr


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
