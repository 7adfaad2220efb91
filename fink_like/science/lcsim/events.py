"""Galactic events: microlensing (Paczynski) and cataclysmic variables (dwarf novae).

Both are stars with a quiescent flux in the reference image, so the difference flux is
the excess over the baseline (always positive), while the noise follows the total flux.
"""

from __future__ import annotations

import numpy as np

from fink_like.science.lcsim.cadence import Epochs
from fink_like.science.lcsim.photometry import mag_to_flux, star_mags

_BASELINE_MAG = {"ztf": (15.5, 20.0), "lsst": (17.0, 23.5)}
_CV_QUIESCENT_MAG = {"ztf": (18.0, 21.5), "lsst": (20.0, 24.5)}


def paczynski(t, t0, u0, t_e):
    """Point-source point-lens magnification ``A(u) = (u^2 + 2) / (u sqrt(u^2 + 4))``."""
    u = np.sqrt(u0**2 + ((t - t0) / t_e) ** 2)
    return (u**2 + 2.0) / (u * np.sqrt(u**2 + 4.0))


def microlensing(rng: np.random.Generator, ep: Epochs):
    """Paczynski event with blending: ``F = F_base * (f_s * A + 1 - f_s)``.

    ``u0 ~ U(0.01, 1)``, ``tE ~ lognormal(median 25 d, sigma 0.7)`` clipped to [3, 300] d,
    source fraction ``f_s ~ U(0.05, 1)`` (achromatic: same in every band), peak time
    inside the season. Difference flux ``F_base * f_s * (A - 1)``.
    """
    n = ep.n_objects
    lo, hi = _BASELINE_MAG[ep.cadence.survey]
    m_r = rng.uniform(lo, hi, n)
    colour = rng.uniform(0.3, 1.2, n)
    u0 = rng.uniform(0.01, 1.0, n)
    t_e = np.clip(np.exp(rng.normal(np.log(25.0), 0.7, n)), 3.0, 300.0)
    f_s = rng.uniform(0.05, 1.0, n)
    t0 = ep.start + rng.uniform(0.0, ep.cadence.n_nights, n)
    o = ep.obj
    base = mag_to_flux(star_mags(m_r[o], colour[o], ep.wavelength))
    amp = paczynski(ep.mjd, t0[o], u0[o], t_e[o])
    diff = base * f_s[o] * (amp - 1.0)
    truth = {"truth_t0": t0, "truth_u0": u0, "truth_te": t_e, "truth_blend": f_s, "truth_mag0": m_r}
    return diff, base + diff, truth


def _outburst_profile(dt, duration):
    """Dwarf-nova outburst in units of its peak: 0.7 d rise, plateau fading 3 %/d, 2.5 d decay."""
    rise = np.exp(np.clip(dt / 0.7, -700, 0.0))
    top = 1.0 - 0.03 * np.clip(dt, 0.0, duration)
    decay = np.exp(-np.clip(dt - duration, 0.0, None) / 2.5)
    return np.where(dt < 0, rise, top * decay)


def cataclysmic_variable(rng: np.random.Generator, ep: Epochs):
    """Dwarf nova: outbursts of 2.5-5 mag (r) every U(15, 120) d lasting U(3, 14) d.

    Outburst k starts at ``t_first + k T + 0.15 T sin(a k + b)`` (a deterministic,
    per-object irregularity). Outbursts are bluer: amplitude scales as
    ``(620 nm / lambda)**0.3``.
    """
    n = ep.n_objects
    lo, hi = _CV_QUIESCENT_MAG[ep.cadence.survey]
    m_q = rng.uniform(lo, hi, n)
    colour = rng.uniform(0.0, 0.6, n)
    amp_r = rng.uniform(2.5, 5.0, n)
    period = rng.uniform(15.0, 120.0, n)
    duration = rng.uniform(3.0, 14.0, n)
    t_first = ep.start + rng.uniform(-period / 2.0, period, n)
    phase_a, phase_b = rng.uniform(0.5, 2.5, n), rng.uniform(0.0, 2 * np.pi, n)
    o = ep.obj
    k0 = np.floor((ep.mjd - t_first[o]) / period[o])
    profile = np.zeros(ep.mjd.size)
    for shift in (-1.0, 0.0, 1.0):
        k = k0 + shift
        start = t_first[o] + k * period[o] + 0.15 * period[o] * np.sin(phase_a[o] * k + phase_b[o])
        profile = profile + _outburst_profile(ep.mjd - start, duration[o])
    quiescent = mag_to_flux(star_mags(m_q[o], colour[o], ep.wavelength))
    amp = amp_r[o] * (620.0 / ep.wavelength) ** 0.3
    diff = quiescent * (10.0 ** (0.4 * amp) - 1.0) * np.clip(profile, 0.0, 1.0)
    truth = {"truth_t0": t_first, "truth_period": period, "truth_amplitude": amp_r, "truth_mag0": m_q}
    return diff, quiescent + diff, truth
