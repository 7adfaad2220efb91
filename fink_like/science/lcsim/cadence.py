"""Survey cadences: when, in which band and how deep each object is observed.

A cadence is drawn on a night grid (objects x nights x bands): bad weather follows a
two-state Markov chain per object, and on a clear night each band is visited with a
survey-specific probability. The result is a flat, object-major, time-sorted table of
epochs, which every light-curve model evaluates in one vectorised pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fink_like.errors import FinkLikeError


class SimulationError(FinkLikeError):
    """The light-curve simulator was asked something it cannot do (bad survey, class, count)."""


@dataclass(frozen=True)
class SurveyCadence:
    """How one survey observes.

    ``maglim`` are median single-visit 5-sigma AB depths; ``maglim_scatter`` is the
    epoch-to-epoch scatter (seeing, Moon, airmass). ``p_visit`` is the probability that a
    band is observed on a clear night. ``weather`` is (P(clear -> bad), P(bad -> clear)).
    """

    survey: str                   # canonical survey tag: "ztf" | "lsst"
    bands: tuple[str, ...]
    wavelength_nm: tuple[float, ...]
    maglim: tuple[float, ...]
    maglim_scatter: float
    p_visit: tuple[float, ...]
    n_nights: int
    first_mjd: float
    weather: tuple[float, float]
    dec_range: tuple[float, float]


ZTF = SurveyCadence(
    survey="ztf",
    bands=("g", "r", "i"),
    wavelength_nm=(480.0, 620.0, 760.0),
    maglim=(20.8, 20.6, 20.2),
    maglim_scatter=0.35,
    p_visit=(0.38, 0.45, 0.06),
    n_nights=180,
    first_mjd=59800.0,
    weather=(0.12, 0.40),
    dec_range=(-30.0, 90.0),
)

RUBIN = SurveyCadence(
    survey="lsst",
    bands=("u", "g", "r", "i", "z", "y"),
    wavelength_nm=(367.0, 482.0, 622.0, 754.0, 869.0, 971.0),
    maglim=(23.7, 24.8, 24.3, 23.7, 23.1, 22.3),
    maglim_scatter=0.30,
    p_visit=(0.03, 0.07, 0.15, 0.15, 0.12, 0.10),
    n_nights=200,
    first_mjd=60950.0,
    weather=(0.15, 0.45),
    dec_range=(-90.0, 30.0),
)

SURVEYS = {"ztf": ZTF, "rubin": RUBIN, "lsst": RUBIN}


def get_cadence(survey: str) -> SurveyCadence:
    """The cadence of ``survey`` ("ztf", "rubin" or its canonical tag "lsst")."""
    try:
        return SURVEYS[survey.lower()]
    except (KeyError, AttributeError) as exc:
        raise SimulationError(
            f"unknown survey {survey!r}: choose one of {sorted(SURVEYS)}"
        ) from exc


@dataclass(frozen=True)
class Epochs:
    """Flat epochs of ``n_objects`` objects, sorted by object then time.

    ``obj`` indexes the object, ``band`` indexes ``cadence.bands``; ``start`` is each
    object's first night (MJD), so models can place events inside the observed season.
    """

    cadence: SurveyCadence
    n_objects: int
    obj: np.ndarray
    mjd: np.ndarray
    band: np.ndarray
    maglim: np.ndarray
    start: np.ndarray

    @property
    def wavelength(self) -> np.ndarray:
        """Effective wavelength (nm) of each epoch's band."""
        return np.asarray(self.cadence.wavelength_nm)[self.band]

    @property
    def offsets(self) -> np.ndarray:
        """Start of each object's epochs in the flat arrays (length n_objects + 1)."""
        counts = np.bincount(self.obj, minlength=self.n_objects)
        return np.concatenate([[0], np.cumsum(counts)])


def _clear_nights(rng: np.random.Generator, n: int, cad: SurveyCadence) -> np.ndarray:
    p_bad, p_clear = cad.weather
    clear = np.empty((n, cad.n_nights), dtype=bool)
    state = rng.random(n) < p_clear / (p_bad + p_clear)  # stationary start
    draws = rng.random((n, cad.n_nights))
    for night in range(cad.n_nights):
        clear[:, night] = state
        state = np.where(state, draws[:, night] >= p_bad, draws[:, night] < p_clear)
    return clear


def draw_epochs(rng: np.random.Generator, n: int, cad: SurveyCadence) -> Epochs:
    """Draw the observing epochs of ``n`` objects.

    Each object gets its own season start within a year of ``cad.first_mjd``. Within a
    night, bands are observed in order, 0.05 d apart plus jitter, so epochs stay sorted.
    """
    start = np.floor(cad.first_mjd + rng.uniform(0.0, 365.0, n))
    clear = _clear_nights(rng, n, cad)
    visits = clear[:, :, None] & (rng.random((n, cad.n_nights, len(cad.bands))) < np.asarray(cad.p_visit))
    obj, night, band = np.nonzero(visits)
    frac = 0.12 + 0.05 * band + 0.04 * rng.random(obj.size)
    mjd = start[obj] + night + frac
    maglim = np.asarray(cad.maglim)[band] + cad.maglim_scatter * rng.standard_normal(obj.size)
    return Epochs(cad, n, obj.astype(np.int64), mjd, band.astype(np.int64), maglim, start)
