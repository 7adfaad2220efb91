"""Best Paczyński (point-source point-lens) fit over a template grid, for all alerts at once.

The difference flux of a microlensing event in band ``b`` is ``F_b(t) = f_b (A(t) - 1) + c_b``
with the magnification ``A(u) = (u² + 2) / (u sqrt(u² + 4))`` and
``u(t)² = u0² + ((t - t0) / tE)²``. The shape parameters (t0, tE, u0) are shared by
all bands (microlensing is achromatic); for a fixed shape the model is linear in
(f_b, c_b), so each template is a weighted least-squares fit solved in closed form
with segment sums. The best template per alert gives the fit-quality features.
"""

from __future__ import annotations

import numpy as np

from fink_like_microlensing.lightcurves import Points

TE_GRID = np.geomspace(3.0, 300.0, 9)
"""Einstein crossing times tried, days."""

U0_GRID = np.array([0.05, 0.2, 0.5, 1.0])
"""Impact parameters tried."""

T0_SHIFTS = np.array([-0.5, 0.0, 0.5])
"""Peak time offsets from the brightest point, in units of tE (the peak may lie between points)."""

FEATURES = ("pac_logchi2", "pac_gain", "pac_logte", "pac_u0")


def magnification(u: np.ndarray) -> np.ndarray:
    """Paczyński magnification A(u) for impact parameter(s) ``u`` > 0."""
    u2 = u * u
    return (u2 + 2.0) / np.sqrt(u2 * (u2 + 4.0))


def _peak_times(p: Points) -> np.ndarray:
    """Time of the highest signal-to-noise point of each alert (NaN when it has none)."""
    snr = p.flux / p.err
    best = np.full(p.n_alerts, -np.inf)
    np.maximum.at(best, p.alert, snr)
    is_best = snr == best[p.alert]
    t0 = np.full(p.n_alerts, np.inf)
    np.minimum.at(t0, p.alert[is_best], p.t[is_best])
    t0[~np.isfinite(t0)] = np.nan
    return t0


def fit(p: Points) -> np.ndarray:
    """Fit-quality features of the best template per alert, shape ``(n_alerts, 4)``.

    Columns (:data:`FEATURES`): log10 of 1 + reduced chi² of the best fit, the fraction
    of the constant-model chi² it removes, log10 tE and u0 of the best template. Alerts
    with fewer points than free parameters get chi² 0, gain 0, and the grid's middle.
    """
    g, G = p.group, p.n_groups
    w = 1.0 / (p.err * p.err)
    y = p.flux
    sw, sy, syy = (np.bincount(g, weights=v, minlength=G) for v in (w, w * y, w * y * y))
    chi2_const_g = np.maximum(syy - sy * sy / np.where(sw > 0, sw, 1.0), 0.0)
    chi2_const = np.bincount(p.group_alert, weights=chi2_const_g, minlength=p.n_alerts)
    t0 = _peak_times(p)[p.alert]
    best = chi2_const.copy()
    best_te = np.full(p.n_alerts, TE_GRID[len(TE_GRID) // 2])
    best_u0 = np.full(p.n_alerts, U0_GRID[len(U0_GRID) // 2])
    for te in TE_GRID:
        for shift in T0_SHIFTS:
            tau2 = ((p.t - t0 - shift * te) / te) ** 2
            for u0 in U0_GRID:
                x = magnification(np.sqrt(u0 * u0 + tau2)) - 1.0
                chi2 = _template_chi2(g, G, w, x, y, sw, sy, syy, chi2_const_g, p)
                better = chi2 < best
                best[better], best_te[better], best_u0[better] = chi2[better], te, u0
    n = np.bincount(p.alert, minlength=p.n_alerts)
    n_groups = np.bincount(p.group_alert, minlength=p.n_alerts)
    dof = n - 2 * n_groups - 3
    ok = dof > 0
    red = np.where(ok, best / np.maximum(dof, 1), 0.0)
    gain = np.where(ok & (chi2_const > 0), 1.0 - best / np.where(chi2_const > 0, chi2_const, 1.0), 0.0)
    return np.column_stack([np.log10(1.0 + red), gain, np.log10(best_te), best_u0])


def _template_chi2(g, G, w, x, y, sw, sy, syy, chi2_const_g, p: Points) -> np.ndarray:
    sx, sxx, sxy = (np.bincount(g, weights=v, minlength=G) for v in (w * x, w * x * x, w * x * y))
    det = sw * sxx - sx * sx
    safe = det > 1e-12 * np.maximum(sw * sxx, 1e-300)
    det = np.where(safe, det, 1.0)
    a = (sw * sxy - sx * sy) / det
    c = (sy - a * sx) / np.where(sw > 0, sw, 1.0)
    chi2_g = np.maximum(syy - a * sxy - c * sy, 0.0)
    # A dimming "event" is not microlensing: fall back to the constant model.
    chi2_g = np.where(safe & (a > 0), chi2_g, chi2_const_g)
    return np.bincount(p.group_alert, weights=chi2_g, minlength=p.n_alerts)
