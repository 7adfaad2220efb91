"""Fluxes, magnitudes and the noise model shared by every light-curve model.

Fluxes are in nJy: an AB magnitude ``m`` is ``10**(-0.4 * (m - 31.4))`` nJy.

Noise: a single epoch with 5-sigma depth ``maglim`` has background noise
``sigma_sky = F(maglim) / 5``. The source adds Poisson-like variance in proportion to its
total (not difference) flux, ``sigma_sky * F_total / 25``, and calibration/subtraction
residuals add a 0.5 % floor of the total flux. This keeps faint sources sky-limited and
makes bright variable stars noisier than their difference flux alone would suggest.
"""

from __future__ import annotations

import numpy as np

AB_ZP_NJY = 31.4
DETECTION_SNR = 5.0
CALIBRATION_FLOOR = 0.005
_POGSON = 2.5 / np.log(10.0)


def mag_to_flux(mag):
    """AB magnitude -> flux in nJy."""
    return 10.0 ** (-0.4 * (np.asarray(mag, dtype=float) - AB_ZP_NJY))


def flux_to_mag(flux):
    """|flux| in nJy -> AB magnitude (NaN for zero flux)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = AB_ZP_NJY - 2.5 * np.log10(np.abs(np.asarray(flux, dtype=float)))
    return np.where(np.isfinite(out), out, np.nan)


def magerr_from_snr(flux, fluxerr):
    """Magnitude error 1.0857 * sigma / |flux|."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _POGSON * np.asarray(fluxerr) / np.abs(np.asarray(flux))


def star_mags(mag_r, colour, wavelength):
    """Per-epoch magnitudes of a star with r magnitude ``mag_r`` and ``g - r = colour``.

    A linear colour in wavelength: each 140 nm bluer than r adds ``colour`` magnitudes.
    """
    return mag_r + colour * (620.0 - wavelength) / 140.0


def observe(rng: np.random.Generator, diff, total, maglim):
    """Add noise to true difference fluxes and decide detections.

    Parameters
    ----------
    diff
        True difference flux (source minus reference image), nJy.
    total
        True total flux of the source at the epoch, nJy (drives the source noise).
    maglim
        5-sigma limiting magnitude of each epoch.

    Returns
    -------
    flux, fluxerr, detected
        Observed difference flux, its 1-sigma error, and ``|flux| / fluxerr >= 5``.
    """
    sigma_sky = mag_to_flux(maglim) / DETECTION_SNR
    total = np.abs(np.asarray(total, dtype=float))
    var = sigma_sky**2 + sigma_sky * total / 25.0 + (CALIBRATION_FLOOR * total) ** 2
    fluxerr = np.sqrt(var)
    flux = np.asarray(diff, dtype=float) + fluxerr * rng.standard_normal(fluxerr.size)
    detected = np.abs(flux) >= DETECTION_SNR * fluxerr
    return flux, fluxerr, detected
