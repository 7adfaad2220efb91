"""Sky localisations of multi-messenger events: a circle, an error ellipse, or a sky map.

Every region answers the same three questions, vectorised over alert positions:

* ``contains(ra, dec)``: inside the region (for a sky map: inside its credible region);
* ``density(ra, dec)``: probability per steradian at the position (sky maps only, else NaN);
* ``index_pixels(nside)``: the nested HEALPix pixels at ``nside`` that cover the region,
  a superset used to read the archive's pixel index before the exact test.

Regions serialise to plain JSON (``to_json`` / :func:`region_from_json`) so the event
store keeps them as they are; a sky map keeps its multi-order cells (``UNIQ`` and
``PROBDENSITY``) and its credible region as a MOC (ASCII serialisation from ``mocpy``).

The geometry is :mod:`fink_like.sky`'s: great-circle distances and covering pixels
(:mod:`~fink_like.sky.cone`), the tangent plane (:mod:`~fink_like.sky.projection`),
probability maps and their credible regions (:mod:`~fink_like.sky.skymap`).

Positions are ICRS degrees; radii and ellipse axes degrees; position angles degrees
east of north.
"""

from __future__ import annotations

import base64
import io
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from fink_like.errors import FinkLikeError
from fink_like.sky.cone import disc_pixels, separation_deg
from fink_like.sky.projection import tangent_plane
from fink_like.sky.skymap import ProbabilityMap


class RegionError(FinkLikeError):
    """A localisation is missing or not valid (the notice is quarantined with this message)."""


def _set_centre(region) -> None:
    """Check a frozen region's ``ra``/``dec`` and store them with RA wrapped into [0, 360)."""
    ra, dec = region.ra, region.dec
    try:
        ra, dec = float(ra), float(dec)
    except (TypeError, ValueError) as exc:
        raise RegionError(f"position ra={ra!r} dec={dec!r} is not numeric") from exc
    if not (math.isfinite(ra) and math.isfinite(dec) and -90.0 <= dec <= 90.0):
        raise RegionError(f"position ra={ra!r} dec={dec!r} is not a sky position")
    object.__setattr__(region, "ra", ra % 360.0)
    object.__setattr__(region, "dec", dec)


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
        _set_centre(self)
        if not (isinstance(self.radius, (int, float)) and 0 < self.radius <= 180):
            raise RegionError(f"error radius {self.radius!r} must be a number in (0, 180] degrees")

    def contains(self, ra, dec) -> np.ndarray:
        return np.asarray(separation_deg(self.ra, self.dec, ra, dec)) <= self.radius

    def index_pixels(self, nside: int) -> np.ndarray:
        return disc_pixels(nside, self.ra, self.dec, self.radius)

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
        _set_centre(self)
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


class SkyMap(ProbabilityMap, Region):
    """A probability sky map as an event's region: its ``credible`` region (default 90%).

    The map, its credible region, densities and covering pixels are
    :class:`fink_like.sky.skymap.ProbabilityMap`'s; this adds the event store's JSON form.
    """

    kind = "skymap"

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
