"""Light-curve features for SN Ia classification, vectorised over a batch of alerts.

Per band group (all detections, g, r), from the detections (``lc_*``) up to the alert:
number of points, peak magnitude, rise and fall rates (mag/day between the first, the
brightest and the last detection), time to and since the peak, reduced chi2 of a
constant flux, fraction of negative differences. Then colours at the peak and at the
last detection (g - r), the duration, and two features from the upper limits: the time
between the last non-detection and the first detection, and the detected fraction.

No fitting: every feature is a few ``bincount``/``lexsort`` passes over the flattened
lists, so a batch of thousands of alerts costs milliseconds. A single detection gives
well-defined values (zero rates, NaN colours) that the forest handles through a sentinel.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.lightcurve import Points, columns, read_points

GROUPS = ("all", "g", "r")
PER_GROUP = ("n", "peak_mag", "rise", "fall", "to_peak", "since_peak", "log_chi2", "neg_frac")
GLOBAL = ("colour_peak", "colour_last", "duration", "dt_nondet", "det_frac")
FEATURES = tuple(f"{name}_{g}" for g in GROUPS for name in PER_GROUP) + GLOBAL
"""Feature names, in the column order of :func:`extract`."""

INPUTS = columns("lc", ("flux", "fluxerr")) + columns("ul", band=False)
MISSING = -999.0
_ZP = 31.4


def _points(table: pa.Table) -> Points:
    """Detections with a finite time, flux and positive error; any band (unknown ones: -1)."""
    points = read_points(table, "lc", ("flux", "fluxerr"), unknown_band="keep")
    return points.where(points.usable("mjd", "flux", "fluxerr"))


def _mag(flux):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(flux > 0, _ZP - 2.5 * np.log10(np.where(flux > 0, flux, 1.0)), np.nan)


def group_stats(gid: np.ndarray, ng: int, t, f, e) -> dict[str, np.ndarray]:
    """Per-group summary of points ``(t, f, e)`` labelled ``gid`` in ``[0, ng)``."""
    n = np.bincount(gid, minlength=ng)
    out = {"n": n.astype(float)}
    if gid.size == 0:
        nan = np.full(ng, np.nan)
        return out | {k: nan for k in PER_GROUP[1:]} | {"t_first": nan, "t_last": nan, "mag_last": nan}
    ids = np.arange(ng)
    by_time = np.lexsort((t, gid))
    lo = np.minimum(np.searchsorted(gid[by_time], ids, "left"), gid.size - 1)
    hi = np.maximum(np.searchsorted(gid[by_time], ids, "right") - 1, 0)
    first, last = by_time[lo], by_time[hi]
    by_flux = np.lexsort((f, gid))
    peak = by_flux[np.maximum(np.searchsorted(gid[by_flux], ids, "right") - 1, 0)]
    t_first, t_last, t_peak = t[first], t[last], t[peak]
    m_first, m_last, m_peak = _mag(f[first]), _mag(f[last]), _mag(f[peak])
    w = 1.0 / e**2
    mean = np.bincount(gid, w * f, ng) / np.maximum(np.bincount(gid, w, ng), 1e-300)
    chi2 = np.bincount(gid, w * (f - mean[gid]) ** 2, ng) / np.maximum(n - 1, 1)
    empty = n == 0
    stats = {
        "peak_mag": m_peak,
        "rise": (m_first - m_peak) / (t_peak - t_first + 1.0),
        "fall": (m_last - m_peak) / (t_last - t_peak + 1.0),
        "to_peak": t_peak - t_first,
        "since_peak": t_last - t_peak,
        "log_chi2": np.log10(1.0 + chi2),
        "neg_frac": np.bincount(gid, f < 0, ng) / np.maximum(n, 1),
        "t_first": t_first, "t_last": t_last, "mag_last": m_last,
    }
    return out | {k: np.where(empty, np.nan, v) for k, v in stats.items()}


def extract(table: pa.Table) -> np.ndarray:
    """Feature matrix ``(num_rows, len(FEATURES))``; missing values are ``MISSING``.

    Raises
    ------
    PluginError
        When an input column is missing.
    AlertError
        When an alert's lc_* or ul_* lists disagree in length (``ragged_history``).
    """
    missing = [c for c in INPUTS if c not in table.column_names]
    if missing:
        raise PluginError(f"snia: input columns {missing} are missing from the batch")
    rows = table.num_rows
    det = _points(table)
    stats = {"all": group_stats(det.row, rows, det.mjd, det.flux, det.fluxerr)}
    for name in GROUPS[1:]:
        band = det.in_band(name)
        stats[name] = group_stats(band.row, rows, band.mjd, band.flux, band.fluxerr)
    cols = [stats[g][name] for g in GROUPS for name in PER_GROUP]
    every = stats["all"]
    ul = read_points(table, "ul", band=False)
    ul_parent, ul_t = ul.row, ul.mjd
    before = np.isfinite(ul_t) & (ul_t < every["t_first"][ul_parent] if ul_t.size else np.zeros(0, bool))
    last_ul = np.full(rows, -np.inf)
    np.maximum.at(last_ul, ul_parent[before], ul_t[before])
    n_ul = np.bincount(ul_parent[np.isfinite(ul_t)], minlength=rows) if ul_t.size else np.zeros(rows)
    cols += [
        stats["g"]["peak_mag"] - stats["r"]["peak_mag"],
        stats["g"]["mag_last"] - stats["r"]["mag_last"],
        every["t_last"] - every["t_first"],
        np.where(np.isfinite(last_ul), every["t_first"] - last_ul, np.nan),
        every["n"] / np.maximum(every["n"] + n_ul, 1),
    ]
    matrix = np.column_stack(cols) if rows else np.zeros((0, len(FEATURES)))
    return np.where(np.isfinite(matrix), matrix, MISSING)
