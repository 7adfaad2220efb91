"""Supernova light curves: SN Ia, SN II (plateau) and SN Ibc.

Every model returns ``(diff, total, truth)`` for the flat epochs of ``Epochs``: the true
difference flux (the reference image holds the host only, so difference = SN flux),
the total flux driving the noise, and per-object truth arrays.

Rest-frame physics, observed through redshift:

* distance modulus from astropy's Planck18 cosmology, interpolated on a grid;
* time dilation: every rest-frame timescale is multiplied by ``1 + z``;
* a crude K-correction: the peak magnitude in an observed band is the rest-frame peak
  at ``lambda / (1 + z)`` (a per-class peak SED table) minus ``2.5 log10(1 + z)``
  (AB bandwidth term). No filter integration, no host extinction beyond SN Ia colour.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fink_like.science.lcsim.cadence import Epochs
from fink_like.science.lcsim.photometry import mag_to_flux

# Rest-frame peak magnitude relative to the class's reference peak, by wavelength (nm).
_SED_WAVE = np.array([300.0, 365.0, 440.0, 550.0, 650.0, 800.0, 900.0, 1000.0])
_SED = {
    "SN Ia": np.array([1.0, -0.2, 0.0, 0.0, 0.05, 0.3, 0.4, 0.5]),
    "SN II": np.array([0.5, 0.0, 0.0, 0.0, -0.1, -0.2, -0.2, -0.2]),
    "SN Ibc": np.array([1.5, 0.9, 0.5, 0.2, 0.0, -0.1, -0.1, -0.1]),
}
# Redshift ranges (volume-weighted draws) per survey: chosen so most events are detectable.
_Z_RANGE = {
    ("SN Ia", "ztf"): (0.01, 0.13), ("SN Ia", "lsst"): (0.03, 0.7),
    ("SN II", "ztf"): (0.003, 0.05), ("SN II", "lsst"): (0.01, 0.3),
    ("SN Ibc", "ztf"): (0.003, 0.06), ("SN Ibc", "lsst"): (0.01, 0.35),
}
SNIA_M_B = -19.3
SNIA_SIGMA_INT = 0.15
TRIPP_ALPHA = 0.14
TRIPP_BETA = 3.1


@lru_cache(maxsize=1)
def _distmod_grid() -> tuple[np.ndarray, np.ndarray]:
    from astropy.cosmology import Planck18

    z = np.geomspace(1e-3, 3.0, 400)
    return z, np.asarray(Planck18.distmod(z).value)


def distance_modulus(z) -> np.ndarray:
    """Planck18 distance modulus, interpolated (better than 1e-3 mag on 0.001 <= z <= 3)."""
    grid_z, grid_mu = _distmod_grid()
    return np.interp(np.log(z), np.log(grid_z), grid_mu)


def _draw_z(rng, n, label, survey):
    lo, hi = _Z_RANGE[(label, survey)]
    return (lo**3 + rng.random(n) * (hi**3 - lo**3)) ** (1.0 / 3.0)


def _peak_mag(label, m_ref, z, ep: Epochs):
    """Observed peak magnitude per epoch for rest-frame reference peak ``m_ref`` per object."""
    o = ep.obj
    lam_rest = ep.wavelength / (1.0 + z[o])
    sed = np.interp(lam_rest, _SED_WAVE, _SED[label])
    return m_ref[o] + sed + distance_modulus(z)[o] - 2.5 * np.log10(1.0 + z[o]), lam_rest


def bazin(t, t_peak, tau_rise, tau_fall):
    """Bazin (2009) shape normalised to 1 at ``t_peak`` (requires tau_fall > tau_rise)."""
    t0 = t_peak - tau_rise * np.log(tau_fall / tau_rise - 1.0)

    def raw(x):
        arg = np.clip(-(x - t0) / tau_rise, -700, 700)
        return np.exp(np.clip(-(x - t0) / tau_fall, -700, 700)) / (1.0 + np.exp(arg))

    return raw(t) / raw(t_peak)


def _peak_times(rng, n, ep: Epochs, before=15.0, after=10.0):
    return ep.start + rng.uniform(-before, ep.cadence.n_nights + after, n)


def sn_ia(rng: np.random.Generator, ep: Epochs):
    """SN Ia: Tripp-standardised peak, stretch and colour, Bazin per band, i-band bump.

    ``M_B = -19.3 + N(0, 0.15) - 0.14 x1 + 3.1 c`` with ``x1 ~ N(0, 1)``, ``c ~ N(0, 0.1)``;
    the colour term scales as ``440 nm / lambda_rest`` (redder bands dim less). Stretch
    ``s = 1 + 0.1 x1`` scales rise (3.2 d) and fall (20 d at 440 nm, +2.5 d per 100 nm)
    times. Redward of 650 nm rest a secondary maximum (+25 d * s, width 6 d) up to 35 %.
    """
    n = ep.n_objects
    z = _draw_z(rng, n, "SN Ia", ep.cadence.survey)
    x1 = np.clip(rng.standard_normal(n), -3, 3)
    c = np.clip(0.1 * rng.standard_normal(n), -0.3, 0.4)
    m_b = SNIA_M_B + SNIA_SIGMA_INT * rng.standard_normal(n) - TRIPP_ALPHA * x1
    t_peak = _peak_times(rng, n, ep)
    peak, lam = _peak_mag("SN Ia", m_b, z, ep)
    o = ep.obj
    peak = peak + TRIPP_BETA * c[o] * 440.0 / lam
    dil = (1.0 + z[o]) * (1.0 + 0.1 * x1[o])
    tau_fall = (20.0 + 0.025 * np.clip(lam - 440.0, 0.0, None)) * dil
    shape = bazin(ep.mjd, t_peak[o], 3.2 * dil, tau_fall)
    bump_amp = 0.35 * np.clip((lam - 650.0) / 150.0, 0.0, 1.0)
    bump = bump_amp * np.exp(-0.5 * ((ep.mjd - t_peak[o] - 25.0 * dil) / (6.0 * dil)) ** 2)
    diff = mag_to_flux(peak) * (shape + bump)
    truth = {"truth_z": z, "truth_t0": t_peak, "truth_x1": x1, "truth_c": c, "truth_abs_mag": m_b}
    return diff, diff, truth


def sn_ii(rng: np.random.Generator, ep: Epochs):
    """SN II-P: fast rise (1.5 d), plateau of N(100, 15) d, drop, then a 56Co tail.

    Peak ``M ~ N(-16.8, 0.8)``. The plateau fades with timescale
    ``150 d * (lambda_rest / 620 nm)**2``, so the colour reddens with time.
    """
    n = ep.n_objects
    z = _draw_z(rng, n, "SN II", ep.cadence.survey)
    m_peak = rng.normal(-16.8, 0.8, n)
    length = np.clip(rng.normal(100.0, 15.0, n), 50.0, 160.0)
    t_exp = ep.start + rng.uniform(-60.0, ep.cadence.n_nights + 5.0, n)
    peak, lam = _peak_mag("SN II", m_peak, z, ep)
    o = ep.obj
    dil = 1.0 + z[o]
    age = (ep.mjd - t_exp[o]) / dil
    rise = 1.0 / (1.0 + np.exp(np.clip(-(age - 4.0) / 1.5, -700, 700)))
    plateau = np.exp(-np.clip(age, 0.0, None) / (150.0 * (lam / 620.0) ** 2))
    drop = 1.0 / (1.0 + np.exp(np.clip((age - length[o]) / 3.0, -700, 700)))
    tail = 0.08 * np.exp(-np.clip(age - length[o], 0.0, None) / 111.0) * (1.0 - drop) * rise
    diff = mag_to_flux(peak) * (rise * plateau * drop + tail)
    truth = {"truth_z": z, "truth_t0": t_exp + 10.0 * (1.0 + z), "truth_abs_mag": m_peak}
    return diff, diff, truth


def sn_ibc(rng: np.random.Generator, ep: Epochs):
    """SN Ibc: faster and redder than Ia; ``M_r ~ N(-17.5, 0.7)``, rise 2.5 d, fall 12 d
    at 440 nm (+2 d per 100 nm), times ``1 + z``; no secondary maximum."""
    n = ep.n_objects
    z = _draw_z(rng, n, "SN Ibc", ep.cadence.survey)
    m_peak = rng.normal(-17.5, 0.7, n)
    t_peak = _peak_times(rng, n, ep)
    peak, lam = _peak_mag("SN Ibc", m_peak, z, ep)
    o = ep.obj
    dil = 1.0 + z[o]
    tau_fall = (12.0 + 0.02 * np.clip(lam - 440.0, 0.0, None)) * dil
    diff = mag_to_flux(peak) * bazin(ep.mjd, t_peak[o], 2.5 * dil, tau_fall)
    truth = {"truth_z": z, "truth_t0": t_peak, "truth_abs_mag": m_peak}
    return diff, diff, truth
