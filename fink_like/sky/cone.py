"""Exact great-circle distances and cone matching (no flat-sky approximation).

A point is inside a cone when the dot product of their unit vectors is at least the
cosine of the radius, which holds across RA = 0 and at the poles alike. Separations
are measured by one formula, :func:`separation_deg` (Vincenty's, stable at all
distances), and :func:`disc_pixels` gives the HEALPix pixels that cover a cone.

Examples
--------
>>> import numpy as np
>>> in_any_cone(np.array([359.9999, 10.0]), np.array([0.0, 0.0]), np.array([[0.0001, 0.0, 1.0]])).tolist()
[True, False]
"""

from __future__ import annotations

import numpy as np

_CHUNK = 1024  # cones compared at once: bounded memory for long lists


def unit_vectors(ra, dec) -> np.ndarray:
    """``(n, 3)`` unit vectors of RA/Dec in degrees."""
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def separation_deg(ra1, dec1, ra2, dec2):
    """Great-circle distance in degrees (Vincenty formula, stable at all separations); broadcasts."""
    l1, b1, l2, b2 = (np.radians(np.asarray(x, dtype=float)) for x in (ra1, dec1, ra2, dec2))
    dl = l2 - l1
    num = np.hypot(np.cos(b2) * np.sin(dl), np.cos(b1) * np.sin(b2) - np.sin(b1) * np.cos(b2) * np.cos(dl))
    den = np.sin(b1) * np.sin(b2) + np.cos(b1) * np.cos(b2) * np.cos(dl)
    return np.degrees(np.arctan2(num, den))


def disc_pixels(nside: int, ra: float, dec: float, radius_deg: float) -> np.ndarray:
    """Sorted nested HEALPix pixels at ``nside`` that touch the cone (a superset of it)."""
    import healpy as hp  # here, not at the top: it costs ~1 s of imports

    vec = hp.ang2vec(ra, dec, lonlat=True)
    return np.sort(hp.query_disc(nside, vec, np.radians(radius_deg), inclusive=True, nest=True))


def in_any_cone(ra, dec, cones: np.ndarray) -> np.ndarray:
    """True for each point within any cone; ``cones`` rows are ``(ra, dec, radius_arcsec)``."""
    cones = np.asarray(cones, float).reshape(-1, 3)
    out = np.zeros(len(ra), dtype=bool)
    if not len(cones) or not len(out):
        return out
    points = unit_vectors(ra, dec)
    centres = unit_vectors(cones[:, 0], cones[:, 1])
    cos_radius = np.cos(np.radians(cones[:, 2] / 3600.0))
    for start in range(0, len(centres), _CHUNK):
        dots = points @ centres[start:start + _CHUNK].T
        out |= (dots >= cos_radius[start:start + _CHUNK]).any(axis=1)
    return out


def pairs_within(ra1, dec1, ra2, dec2, radius_arcsec: float) -> list[tuple[int, int, float]]:
    """Every ``(i, j, separation_arcsec)`` with point i of set 1 within the radius of point j of set 2."""
    if not len(ra1) or not len(ra2):
        return []
    ra1, dec1, ra2, dec2 = (np.asarray(x, dtype=float) for x in (ra1, dec1, ra2, dec2))
    a, b = unit_vectors(ra1, dec1), unit_vectors(ra2, dec2)
    cos_radius = np.cos(np.radians(radius_arcsec / 3600.0))
    out = []
    for start in range(0, len(b), _CHUNK):
        i, j = np.nonzero(a @ b[start:start + _CHUNK].T >= cos_radius)
        j = j + start
        sep = separation_deg(ra1[i], dec1[i], ra2[j], dec2[j]) * 3600.0
        out.extend((int(x), int(y), float(z)) for x, y, z in zip(i, j, sep))
    return out
