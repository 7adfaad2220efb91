"""LIA-style light-curve features, vectorised over a whole batch.

Statistics are computed per (alert, band) on the difference flux, then averaged over
the bands of an alert, weighted by their number of points; bands with fewer than
:data:`MIN_BAND_POINTS` points do not contribute. Alert-wide features (size, span,
Paczyński fit) are added. Every feature is scale-free, so ZTF and Rubin fluxes mix.

The shape features are also blind to a constant offset of the difference flux: it
depends on when the survey took its reference image, not on the source (a variable
star imaged at minimum in the reference has only positive difference fluxes).

Examples
--------
>>> import pyarrow as pa
>>> t = pa.table({"lc_mjd": [[1.0, 2.0, 3.0, 4.0]], "lc_band": [["g"] * 4],
...               "lc_flux": [[10.0, 30.0, 12.0, 11.0]], "lc_fluxerr": [[1.0] * 4]})
>>> X = extract(t)
>>> X.shape == (1, len(FEATURES))
True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fink_like_microlensing import paczynski
from fink_like_microlensing.lightcurves import Points, flatten

MIN_BAND_POINTS = 3

BAND_FEATURES = (
    "skew", "kurtosis", "von_neumann", "beyond_1std", "stetson_j", "log_redchi2",
    "log_amp_snr", "geary", "peak_phase", "rel_amp", "log_fall_rise", "half_width",
)
ALERT_FEATURES = ("log_n", "log_span", "n_bands", "n_valid_bands")
FEATURES = BAND_FEATURES + ALERT_FEATURES + paczynski.FEATURES
"""Column names of the feature matrix, in order."""


def _pairs(p: Points) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first point of each consecutive pair inside one group, and its group."""
    same = np.flatnonzero(p.group[1:] == p.group[:-1])
    return same, p.group[same]


def band_features(p: Points) -> tuple[np.ndarray, np.ndarray]:
    """Per-group statistics, shape ``(n_groups, len(BAND_FEATURES))``, and each group's size."""
    G, g = p.n_groups, p.group
    def gsum(v):
        return np.bincount(g, weights=v, minlength=G)
    n = np.bincount(g, minlength=G).astype(float)
    nn = np.maximum(n, 1.0)
    mean = gsum(p.flux) / nn
    d = p.flux - mean[g]
    m2 = gsum(d * d) / nn
    sd_pop = np.sqrt(m2)
    sd = np.sqrt(m2 * nn / np.maximum(n - 1, 1))
    safe_sd = np.where(sd_pop > 0, sd_pop, 1.0)
    skew = gsum(d ** 3) / nn / safe_sd ** 3
    kurt = gsum(d ** 4) / nn / safe_sd ** 4 - 3.0
    i, gi = _pairs(p)
    step = p.flux[i + 1] - p.flux[i]
    eta = np.bincount(gi, weights=step * step, minlength=G) / np.maximum(n - 1, 1) / np.where(sd > 0, sd * sd, 1.0)
    beyond = gsum((np.abs(d) > sd[g]).astype(float)) / nn
    delta = np.sqrt(nn / np.maximum(n - 1, 1))[g] * d / p.err
    prod = delta[i] * delta[i + 1]
    stetson = np.bincount(gi, weights=np.sign(prod) * np.sqrt(np.abs(prod)), minlength=G) / np.maximum(n - 1, 1)
    w = 1.0 / (p.err * p.err)
    wmean = gsum(w * p.flux) / gsum(w)
    redchi2 = gsum(w * (p.flux - wmean[g]) ** 2) / np.maximum(n - 1, 1)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, np.int64)
    fmax = np.maximum.reduceat(p.flux, starts) if len(g) else np.zeros(0)
    fmin = np.minimum.reduceat(p.flux, starts) if len(g) else np.zeros(0)
    mean_err = gsum(p.err) / nn
    amp_snr = np.log10(1.0 + (fmax - fmin) / mean_err)
    geary = gsum(np.abs(d)) / nn / safe_sd
    t_first = np.minimum.reduceat(p.t, starts) if len(g) else np.zeros(0)
    t_last = np.maximum.reduceat(p.t, starts) if len(g) else np.zeros(0)
    t_peak = np.full(G, np.inf)
    at_max = p.flux == fmax[g]
    np.minimum.at(t_peak, g[at_max], p.t[at_max])
    span = t_last - t_first
    phase = np.where(span > 0, (t_peak - t_first) / np.where(span > 0, span, 1.0), 0.5)
    rel_amp = (fmax - fmin) / (sd + mean_err)
    # A lensing event is symmetric about its peak; a supernova rises in days, fades in weeks.
    fall_rise = np.log10((t_last - t_peak + 1.0) / np.maximum(t_peak - t_first + 1.0, 1.0))
    feats = np.column_stack([skew, kurt, eta, beyond, stetson, np.log10(1.0 + redchi2),
                             amp_snr, geary, phase, rel_amp, fall_rise, _half_width(p, fmin, fmax, span)])
    return feats, n


def _half_width(p: Points, fmin: np.ndarray, fmax: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Time spent above half the amplitude, as a fraction of the span (0.5 without a span)."""
    g = p.group
    above = p.flux >= (0.5 * (fmin + fmax))[g]
    t_on = np.full(p.n_groups, np.inf)
    t_off = np.full(p.n_groups, -np.inf)
    np.minimum.at(t_on, g[above], p.t[above])
    np.maximum.at(t_off, g[above], p.t[above])
    return np.where(span > 0, (t_off - t_on) / np.where(span > 0, span, 1.0), 0.5)


def alert_features(p: Points) -> np.ndarray:
    """Alert-wide features, shape ``(n_alerts, len(ALERT_FEATURES))``."""
    A = p.n_alerts
    n = np.bincount(p.alert, minlength=A).astype(float)
    t_min = np.full(A, np.inf)
    t_max = np.full(A, -np.inf)
    np.minimum.at(t_min, p.alert, p.t)
    np.maximum.at(t_max, p.alert, p.t)
    span = np.where(n > 0, t_max - t_min, 0.0)
    group_n = np.bincount(p.group, minlength=p.n_groups)
    n_bands = np.bincount(p.group_alert, minlength=A)
    n_valid = np.bincount(p.group_alert, weights=(group_n >= MIN_BAND_POINTS).astype(float), minlength=A)
    return np.column_stack([np.log10(1.0 + n), np.log10(1.0 + span), n_bands, n_valid])


def extract(table: pa.Table) -> np.ndarray:
    """The feature matrix of a canonical batch, shape ``(num_rows, len(FEATURES))``, all finite.

    Alerts without a band of :data:`MIN_BAND_POINTS` points get 0 for the band features
    (``n_valid_bands`` tells the model so).
    """
    return extract_with_counts(table)[0]


def extract_with_counts(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """:func:`extract` and the number of valid detections of each alert."""
    p = flatten(table)
    per_group, n = band_features(p)
    weight = np.where(n >= MIN_BAND_POINTS, n, 0.0)
    total = np.bincount(p.group_alert, weights=weight, minlength=p.n_alerts)
    banded = np.zeros((p.n_alerts, len(BAND_FEATURES)))
    for k in range(len(BAND_FEATURES)):
        col = np.where(weight > 0, per_group[:, k], 0.0)
        banded[:, k] = np.bincount(p.group_alert, weights=col * weight, minlength=p.n_alerts)
    banded /= np.where(total > 0, total, 1.0)[:, None]
    X = np.column_stack([banded, alert_features(p), paczynski.fit(p)])
    return np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0), np.bincount(p.alert, minlength=p.n_alerts)
