"""Sky localisations of multi-messenger events: a circle, an error ellipse, or a sky map.

Every region answers the same three questions, vectorised over alert positions:

* ``contains(ra, dec)``: inside the region (for a sky map: inside its credible region);
* ``density(ra, dec)``: probability per steradian at the position (sky maps only, else NaN);
* ``index_pixels(nside)``: the nested HEALPix pixels at ``nside`` that cover the region,
  a superset used to read the archive's pixel index before the exact test.

Regions serialise to plain JSON (``to_json`` / :func:`region_from_json`) so the event
store keeps them as they are; a sky map keeps its multi-order cells (``UNIQ`` and
``PROBDENSITY``) and its credible region as a MOC (ASCII serialisation from ``mocpy``).

Positions are ICRS degrees; radii and ellipse axes degrees; position angles degrees
east of north.
"""

from __future__ import annotations

import base64
import io
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import healpy as hp
import numpy as np

from fink_like.errors import FinkLikeError, require

MAX_ORDER = 29
"""Deepest HEALPix order of a multi-order map (HEALPix nested indices fit in int64)."""


class RegionError(FinkLikeError):
    """A localisation is missing or not valid (the notice is quarantined with this message)."""


def separation_deg(ra1, dec1, ra2, dec2):
    """Great-circle distance in degrees (Vincenty formula)."""
    from fink_like.archive.query import angular_separation

    return angular_separation(ra1, dec1, ra2, dec2)


def _check_centre(ra, dec) -> tuple[float, float]:
    try:
        ra, dec = float(ra), float(dec)
    except (TypeError, ValueError) as exc:
        raise RegionError(f"position ra={ra!r} dec={dec!r} is not numeric") from exc
    if not (math.isfinite(ra) and math.isfinite(dec) and -90.0 <= dec <= 90.0):
        raise RegionError(f"position ra={ra!r} dec={dec!r} is not a sky position")
    return ra % 360.0, dec


class Region(ABC):
    """A sky region; instances are immutable and picklable."""

    kind: str

    @abstractmethod
    def contains(self, ra, dec) -> np.ndarray:
        """Boolean mask: which positions lie inside the region."""

    def density(self, ra, dec) -> np.ndarray:
        """Probability density (per steradian) at each position; NaN where not defined."""
        return np.full(np.shape(np.atleast_1d(ra)), np.nan)

    @abstractmethod
    def index_pixels(self, nside: int) -> np.ndarray:
        """Sorted nested pixels at ``nside`` covering the region (a superset)."""

    @abstractmethod
    def to_json(self) -> dict:
        """A JSON-ready description, read back by :func:`region_from_json`."""

    @property
    @abstractmethod
    def area_deg2(self) -> float:
        """Area of the region in square degrees."""


@dataclass(frozen=True)
class Circle(Region):
    """All positions within ``radius`` degrees of (ra, dec)."""

    ra: float
    dec: float
    radius: float
    kind = "circle"

    def __post_init__(self):
        ra, dec = _check_centre(self.ra, self.dec)
        object.__setattr__(self, "ra", ra)
        object.__setattr__(self, "dec", dec)
        if not (isinstance(self.radius, (int, float)) and 0 < self.radius <= 180):
            raise RegionError(f"error radius {self.radius!r} must be a number in (0, 180] degrees")

    def contains(self, ra, dec) -> np.ndarray:
        return np.asarray(separation_deg(self.ra, self.dec, ra, dec)) <= self.radius

    def index_pixels(self, nside: int) -> np.ndarray:
        vec = hp.ang2vec(self.ra, self.dec, lonlat=True)
        return np.sort(hp.query_disc(nside, vec, math.radians(self.radius), inclusive=True, nest=True))

    def to_json(self) -> dict:
        return {"kind": self.kind, "ra": self.ra, "dec": self.dec, "radius": self.radius}

    @property
    def area_deg2(self) -> float:
        return 2 * math.pi * (1 - math.cos(math.radians(self.radius))) * (180 / math.pi) ** 2


@dataclass(frozen=True)
class Ellipse(Region):
    """An error ellipse: semi-axes ``a`` >= ``b`` (degrees), major axis at ``pa`` east of north.

    Membership is computed in the gnomonic (tangent-plane) projection at the centre,
    exact for the small ellipses GCN notices carry and conservative up to tens of degrees.
    """

    ra: float
    dec: float
    a: float
    b: float
    pa: float = 0.0
    kind = "ellipse"

    def __post_init__(self):
        ra, dec = _check_centre(self.ra, self.dec)
        object.__setattr__(self, "ra", ra)
        object.__setattr__(self, "dec", dec)
        for name in ("a", "b"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 90):
                raise RegionError(f"ellipse semi-axis {name}={value!r} must be in (0, 90) degrees")
        if self.b > self.a:
            a, b = self.b, self.a
            object.__setattr__(self, "a", a)
            object.__setattr__(self, "b", b)
            object.__setattr__(self, "pa", (self.pa + 90.0) % 180.0)

    def contains(self, ra, dec) -> np.ndarray:
        xi, eta, front = tangent_plane(self.ra, self.dec, ra, dec)
        theta = math.radians(self.pa)
        # major-axis and minor-axis coordinates (eta points north, xi east)
        u = eta * math.cos(theta) + xi * math.sin(theta)
        v = -eta * math.sin(theta) + xi * math.cos(theta)
        ta, tb = math.tan(math.radians(self.a)), math.tan(math.radians(self.b))
        return front & ((u / ta) ** 2 + (v / tb) ** 2 <= 1.0)

    def index_pixels(self, nside: int) -> np.ndarray:
        return Circle(self.ra, self.dec, self.a).index_pixels(nside)

    def to_json(self) -> dict:
        return {"kind": self.kind, "ra": self.ra, "dec": self.dec, "a": self.a, "b": self.b, "pa": self.pa}

    @property
    def area_deg2(self) -> float:
        return math.pi * self.a * self.b


def tangent_plane(ra0: float, dec0: float, ra, dec):
    """Gnomonic coordinates (xi east, eta north, in tangent units) and the front-hemisphere mask."""
    ra_r, dec_r = np.radians(np.asarray(ra, dtype=float)), np.radians(np.asarray(dec, dtype=float))
    a0, d0 = math.radians(ra0), math.radians(dec0)
    cos_c = np.sin(d0) * np.sin(dec_r) + np.cos(d0) * np.cos(dec_r) * np.cos(ra_r - a0)
    front = cos_c > 0
    safe = np.where(front, cos_c, 1.0)
    xi = np.cos(dec_r) * np.sin(ra_r - a0) / safe
    eta = (np.cos(d0) * np.sin(dec_r) - np.sin(d0) * np.cos(dec_r) * np.cos(ra_r - a0)) / safe
    return xi, eta, front


class SkyMap(Region):
    """A multi-order HEALPix probability map and its ``credible`` region (default 90%).

    ``uniq`` are NUNIQ cell ids (``4 * 4**order + ipix``, nested), ``probdensity`` the
    probability per steradian in each cell. The credible region is the smallest set of
    the densest cells whose probability reaches ``credible``.
    """

    kind = "skymap"

    def __init__(self, uniq, probdensity, credible: float = 0.9):
        uniq = np.asarray(uniq, dtype=np.int64)
        density = np.asarray(probdensity, dtype=float)
        if uniq.ndim != 1 or uniq.shape != density.shape or not len(uniq):
            raise RegionError("sky map: UNIQ and PROBDENSITY must be non-empty columns of one length")
        if not np.all(np.isfinite(density)) or np.any(density < 0):
            raise RegionError("sky map: PROBDENSITY has negative or non-finite values")
        if np.any(uniq < 4):
            raise RegionError("sky map: UNIQ values below 4 are not HEALPix cells")
        if not 0 < credible <= 1:
            raise RegionError(f"credible level {credible!r} must be in (0, 1]")
        order, ipix = uniq_to_order_ipix(uniq)
        if order.max() > MAX_ORDER or np.any(ipix >= 12 * 4 ** order):
            raise RegionError("sky map: UNIQ values beyond HEALPix order 29")
        area = hp.nside2pixarea(2 ** order)
        prob = density * area
        total = prob.sum()
        if not total > 0:
            raise RegionError("sky map: total probability is zero")
        sort = np.argsort(uniq)
        self.uniq, self.probdensity, self.order = uniq[sort], density[sort] / total, order[sort]
        self.credible = float(credible)
        # densest first; a cell is in the region if the probability before it is < credible
        by_density = np.argsort(-self.probdensity, kind="stable")
        cell_prob = (self.probdensity * hp.nside2pixarea(2 ** self.order))[by_density]
        before = np.cumsum(cell_prob) - cell_prob
        inside = np.zeros(len(self.uniq), dtype=bool)
        inside[by_density[before < self.credible]] = True
        self.inside = inside
        self._orders = np.unique(self.order)

    def _cells(self, ra, dec) -> np.ndarray:
        """Index into ``self.uniq`` of the cell holding each position (-1: not covered)."""
        ra, dec = np.atleast_1d(np.asarray(ra, dtype=float)), np.atleast_1d(np.asarray(dec, dtype=float))
        found = np.full(ra.shape, -1, dtype=np.int64)
        for order in self._orders:
            ipix = hp.ang2pix(2 ** int(order), ra % 360.0, dec, nest=True, lonlat=True)
            ids = 4 * 4 ** int(order) + ipix.astype(np.int64)
            at = np.searchsorted(self.uniq, ids)
            at = np.minimum(at, len(self.uniq) - 1)
            hit = (self.uniq[at] == ids) & (found < 0)
            found[hit] = at[hit]
        return found

    def contains(self, ra, dec) -> np.ndarray:
        cells = self._cells(ra, dec)
        return (cells >= 0) & self.inside[np.maximum(cells, 0)]

    def density(self, ra, dec) -> np.ndarray:
        cells = self._cells(ra, dec)
        return np.where(cells >= 0, self.probdensity[np.maximum(cells, 0)], 0.0)

    def index_pixels(self, nside: int) -> np.ndarray:
        target = int(math.log2(nside))
        out = []
        for order, ipix in zip(*uniq_to_order_ipix(self.uniq[self.inside])):
            if order >= target:
                out.append(np.array([ipix >> (2 * (order - target))]))
            else:
                shift = 2 * (target - order)
                out.append(np.arange(ipix << shift, (ipix + 1) << shift))
        return np.unique(np.concatenate(out)) if out else np.array([], dtype=np.int64)

    @property
    def area_deg2(self) -> float:
        return float(hp.nside2pixarea(2 ** self.order[self.inside], degrees=True).sum())

    def moc(self):
        """The credible region as a ``mocpy.MOC``."""
        mocpy = require("mocpy", "mocpy")
        order, ipix = uniq_to_order_ipix(self.uniq[self.inside])
        depth = int(order.max())
        return mocpy.MOC.from_healpix_cells(ipix.astype(np.uint64), order.astype(np.uint8), depth)

    def to_json(self) -> dict:
        buf = io.BytesIO()
        np.savez_compressed(buf, uniq=self.uniq, probdensity=self.probdensity)
        return {"kind": self.kind, "credible": self.credible, "area_deg2": self.area_deg2,
                "moc": self.moc().to_string(format="ascii"),
                "cells": base64.b64encode(buf.getvalue()).decode()}

    @classmethod
    def from_cells_json(cls, data: dict) -> "SkyMap":
        with np.load(io.BytesIO(base64.b64decode(data["cells"]))) as arrays:
            return cls(arrays["uniq"], arrays["probdensity"], data.get("credible", 0.9))


def uniq_to_order_ipix(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, ipix)`` of NUNIQ ids: ``order = floor(log2(uniq / 4) / 2)``."""
    uniq = np.asarray(uniq, dtype=np.int64)
    order = (np.floor(np.log2(uniq // 4).astype(float)) // 2).astype(np.int64)
    # guard the float log for large values: fix off-by-one orders exactly
    order = np.where(4 * 4 ** (order + 1) <= uniq, order + 1, order)
    order = np.where(4 * 4 ** order > uniq, order - 1, order)
    return order, uniq - 4 * 4 ** order


def region_from_json(data: dict | None) -> Region | None:
    """The region described by :meth:`Region.to_json` (None stays None)."""
    if data is None:
        return None
    kind = data.get("kind")
    if kind == "circle":
        return Circle(data["ra"], data["dec"], data["radius"])
    if kind == "ellipse":
        return Ellipse(data["ra"], data["dec"], data["a"], data["b"], data.get("pa", 0.0))
    if kind == "skymap":
        return SkyMap.from_cells_json(data)
    raise RegionError(f"unknown region kind {kind!r}")
