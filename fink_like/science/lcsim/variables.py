"""Variable and constant stars, and AGN: sources already present in the reference image.

The reference flux is the source's time-averaged flux (the reference is a coadd of many
epochs), so difference fluxes are both positive and negative.
"""

from __future__ import annotations

import numpy as np

from fink_like.science.lcsim.cadence import Epochs
from fink_like.science.lcsim.photometry import mag_to_flux, star_mags

_STAR_MAG = {
    "RR Lyrae": {"ztf": (14.0, 19.5), "lsst": (16.0, 22.0)},
    "Cepheid": {"ztf": (12.5, 17.5), "lsst": (15.0, 20.5)},
    "eclipsing binary": {"ztf": (13.0, 18.5), "lsst": (16.0, 22.0)},
    "constant": {"ztf": (13.0, 18.0), "lsst": (16.0, 21.0)},
    "AGN": {"ztf": (17.5, 20.3), "lsst": (19.0, 23.5)},
}
_PHASE_GRID = np.linspace(0.0, 1.0, 256, endpoint=False)


def pulsation_shape(phase, rise_fraction, exponent):
    """Brightness in [0, 1]: linear rise over ``rise_fraction``, convex decline after."""
    rising = phase / rise_fraction
    falling = ((1.0 - phase) / (1.0 - rise_fraction)) ** exponent
    return np.where(phase < rise_fraction, rising, falling)


def _periodic_star(rng, ep: Epochs, label, mag_delta, truth):
    """Shared tail of periodic models; ``mag_delta(phase, obj, band)`` is in magnitudes."""
    n = ep.n_objects
    lo, hi = _STAR_MAG[label][ep.cadence.survey]
    m_r = rng.uniform(lo, hi, n)
    colour = rng.uniform(0.1, 0.9, n)
    o = ep.obj
    mean_mag = star_mags(m_r[o], colour[o], ep.wavelength)
    dm = mag_delta(truth["phase"], o, ep.band)
    # Reference = phase-averaged flux per object and band (the reference is a deep coadd).
    grid_o = np.arange(n)[:, None, None]
    grid_b = np.arange(len(ep.cadence.bands))[None, :, None]
    factor = np.mean(10.0 ** (-0.4 * mag_delta(_PHASE_GRID[None, None, :], grid_o, grid_b)), axis=-1)
    ref = mag_to_flux(mean_mag) * factor[o, ep.band]
    total = mag_to_flux(mean_mag + dm)
    out = {k: v for k, v in truth.items() if k != "phase"}
    out["truth_mag0"] = m_r
    return total - ref, total, out


def _phases(rng, ep: Epochs, period):
    t0 = ep.start + rng.uniform(0.0, 1.0, ep.n_objects) * period
    return t0, np.mod((ep.mjd - t0[ep.obj]) / period[ep.obj], 1.0)


def _pulsator(rng, ep, label, period, amp_g, rise_fraction, exponent):
    t0, phase = _phases(rng, ep, period)
    scale = (480.0 / np.asarray(ep.cadence.wavelength_nm)) ** 0.9

    def delta(ph, o, b):
        return -amp_g[o] * scale[b] * (pulsation_shape(ph, rise_fraction, exponent) - 0.5)

    truth = {"phase": phase, "truth_t0": t0, "truth_period": period, "truth_amplitude": amp_g}
    return _periodic_star(rng, ep, label, delta, truth)


def rr_lyrae(rng: np.random.Generator, ep: Epochs):
    """RRab: period U(0.45, 0.75) d, g amplitude U(0.5, 1.1) mag, rise in 15 % of the cycle.

    Band amplitudes scale as ``(480 nm / lambda)**0.9``.
    """
    n = ep.n_objects
    return _pulsator(rng, ep, "RR Lyrae", rng.uniform(0.45, 0.75, n), rng.uniform(0.5, 1.1, n), 0.15, 1.5)


def cepheid(rng: np.random.Generator, ep: Epochs):
    """Classical Cepheid: period lognormal (median 8 d) in [2, 60] d, g amplitude
    U(0.4, 1.0) mag, rise in 30 % of the cycle."""
    n = ep.n_objects
    period = np.clip(np.exp(rng.normal(np.log(8.0), 0.6, n)), 2.0, 60.0)
    return _pulsator(rng, ep, "Cepheid", period, rng.uniform(0.4, 1.0, n), 0.30, 1.2)


def eclipsing_binary(rng: np.random.Generator, ep: Epochs):
    """Detached binary: Gaussian eclipses of width U(0.02, 0.1) in phase.

    Primary depth U(0.1, 0.9) mag; secondary at phase U(0.45, 0.55), depth a fraction
    U(0.05, 0.9) of the primary, deeper in red bands (``(lambda / 620 nm)**0.5``).
    Period lognormal (median 1.5 d) in [0.25, 20] d.
    """
    n = ep.n_objects
    period = np.clip(np.exp(rng.normal(np.log(1.5), 0.8, n)), 0.25, 20.0)
    depth1 = rng.uniform(0.1, 0.9, n)
    depth2 = depth1 * rng.uniform(0.05, 0.9, n)
    width = rng.uniform(0.02, 0.1, n)
    phase2 = rng.uniform(0.45, 0.55, n)
    t0, phase = _phases(rng, ep, period)
    red = (np.asarray(ep.cadence.wavelength_nm) / 620.0) ** 0.5

    def delta(ph, o, b):
        d1 = np.minimum(ph, 1.0 - ph)
        d2 = np.abs(ph - phase2[o])
        return depth1[o] * np.exp(-0.5 * (d1 / width[o]) ** 2) + depth2[o] * red[b] * np.exp(
            -0.5 * (d2 / width[o]) ** 2
        )

    truth = {"phase": phase, "truth_t0": t0, "truth_period": period, "truth_amplitude": depth1}
    return _periodic_star(rng, ep, "eclipsing binary", delta, truth)


def agn(rng: np.random.Generator, ep: Epochs):
    """AGN: damped random walk (Ornstein-Uhlenbeck) in magnitude, shared by all bands.

    Rest-frame damping time lognormal (median 200 d), ``z ~ U(0.1, 2.5)`` dilates it;
    asymptotic structure function SF U(0.1, 0.35) mag (so sigma = SF / sqrt 2), bluer
    bands vary more (``(480 nm / lambda)**0.5``). Reference = flux at the mean magnitude.
    """
    n = ep.n_objects
    lo, hi = _STAR_MAG["AGN"][ep.cadence.survey]
    m_r = rng.uniform(lo, hi, n)
    colour = rng.uniform(0.0, 0.4, n)
    z = rng.uniform(0.1, 2.5, n)
    tau = np.exp(rng.normal(np.log(200.0), 0.5, n)) * (1.0 + z)
    sigma = rng.uniform(0.1, 0.35, n) / np.sqrt(2.0)
    x = _ou_process(rng, ep, tau, sigma)
    o = ep.obj
    mean_mag = star_mags(m_r[o], colour[o], ep.wavelength)
    dm = x * (480.0 / ep.wavelength) ** 0.5
    total = mag_to_flux(mean_mag + dm)
    truth = {"truth_z": z, "truth_period": tau, "truth_amplitude": sigma * np.sqrt(2.0), "truth_mag0": m_r}
    return total - mag_to_flux(mean_mag), total, truth


def _ou_process(rng, ep: Epochs, tau, sigma):
    """Exact OU updates along each object's epochs, vectorised across objects."""
    offsets = ep.offsets
    counts = np.diff(offsets)
    x = np.empty(ep.mjd.size)
    noise = rng.standard_normal(ep.mjd.size)
    for j in range(int(counts.max(initial=0))):
        alive = np.nonzero(counts > j)[0]
        idx = offsets[alive] + j
        if j == 0:
            x[idx] = sigma[alive] * noise[idx]
            continue
        decay = np.exp(-(ep.mjd[idx] - ep.mjd[idx - 1]) / tau[alive])
        x[idx] = x[idx - 1] * decay + sigma[alive] * np.sqrt(1.0 - decay**2) * noise[idx]
    return x


def constant(rng: np.random.Generator, ep: Epochs):
    """Constant star whose reference flux is mis-calibrated by +-U(2, 8) %.

    The difference flux is that constant residual (the usual source of alerts from
    non-varying stars), the same sign in every band.
    """
    n = ep.n_objects
    lo, hi = _STAR_MAG["constant"][ep.cadence.survey]
    m_r = rng.uniform(lo, hi, n)
    colour = rng.uniform(0.1, 1.2, n)
    mismatch = rng.choice([-1.0, 1.0], n) * rng.uniform(0.02, 0.08, n)
    o = ep.obj
    total = mag_to_flux(star_mags(m_r[o], colour[o], ep.wavelength))
    truth = {"truth_amplitude": mismatch, "truth_mag0": m_r}
    return total * mismatch[o], total, truth
