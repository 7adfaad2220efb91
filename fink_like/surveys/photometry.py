"""Magnitudes, fluxes and dates shared by the survey adapters.

Fluxes are in nanojansky: an AB magnitude ``m`` is ``10**(-0.4 * (m - 31.4))`` nJy.

Examples
--------
>>> round(mag_to_njy(31.4), 6)
1.0
>>> njy_to_mag(-1.0)
31.4
>>> utc_night(60000.2)
'20230225'
"""

from __future__ import annotations

import datetime as dt
import math

NJY_ZERO_POINT = 31.4
JD_MJD_OFFSET = 2400000.5
MJD_UNIX_EPOCH = 40587.0           # 1970-01-01T00:00 UTC
TAI_MINUS_UTC_DAYS = 37.0 / 86400  # TAI - UTC since 2017
MJD_MIN, MJD_MAX = 33282.0, 88069.0  # 1950-01-01 .. 2100-01-01: anything else is not a real alert
_MAG_ERR = 2.5 / math.log(10.0)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def mag_to_njy(mag: float) -> float:
    """Flux in nJy of an AB magnitude."""
    return 10.0 ** (-0.4 * (mag - NJY_ZERO_POINT))


def njy_to_mag(flux: float | None) -> float | None:
    """AB magnitude of ``|flux|`` (nJy); ``None`` for a missing or zero flux."""
    if flux is None or flux == 0 or not math.isfinite(flux):
        return None
    return NJY_ZERO_POINT - 2.5 * math.log10(abs(flux))


def magerr_from_flux(flux: float | None, fluxerr: float | None) -> float | None:
    """Magnitude error from a flux and its error (first order)."""
    if flux is None or fluxerr is None or flux == 0:
        return None
    return _MAG_ERR * fluxerr / abs(flux)


def fluxerr_from_mag(flux: float, magerr: float | None) -> float | None:
    """Flux error from a flux and its magnitude error (first order)."""
    if magerr is None:
        return None
    return abs(flux) * magerr / _MAG_ERR


def dn_to_njy(flux_dn: float, magzp: float) -> float:
    """A flux in detector counts with zero point ``magzp`` expressed in nJy."""
    return flux_dn * 10.0 ** (-0.4 * (magzp - NJY_ZERO_POINT))


def valid_mjd(mjd) -> bool:
    """Whether ``mjd`` is a finite date between 1950 and 2100."""
    return isinstance(mjd, (int, float)) and math.isfinite(mjd) and MJD_MIN <= mjd <= MJD_MAX


def _night(days_since_epoch: float) -> str:
    return dt.date.fromordinal(_EPOCH_ORDINAL + math.floor(days_since_epoch)).strftime("%Y%m%d")


def utc_night(mjd_utc: float) -> str:
    """``YYYYMMDD``: the UTC calendar date of an MJD (ZTF's convention); ``""`` if invalid."""
    if not valid_mjd(mjd_utc):
        return ""
    return _night(mjd_utc - MJD_UNIX_EPOCH)


def day_obs(mjd_tai: float) -> str:
    """``YYYYMMDD``: Rubin's dayObs, the date in UTC-12h of a TAI MJD; ``""`` if invalid."""
    if not valid_mjd(mjd_tai):
        return ""
    return _night(mjd_tai - TAI_MINUS_UTC_DAYS - 0.5 - MJD_UNIX_EPOCH)
