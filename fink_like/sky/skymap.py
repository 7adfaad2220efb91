"""Probability sky maps (HEALPix, multi-order or flat) and their credible regions.

A map is a set of nested HEALPix cells of mixed orders, given by their NUNIQ ids
(``4 * 4**order + ipix``) and the probability per steradian in each, as LVK writes its
``*.multiorder.fits`` files. The ``credible`` region (e.g. 90%) is the smallest set of
the densest cells whose probability reaches that level: cells are ranked by density and
a cell is inside when the probability of the denser cells before it is below the level
(so the region holds at least the level). Watch lists (``moc_probability``) and
multi-messenger events use this one definition.

Files are FITS (gzipped or not) with ``UNIQ`` and ``PROBDENSITY`` columns, or flat maps
(``ORDERING`` ``NESTED`` or ``RING``, first column the probability per pixel), read with
astropy; every problem is a :class:`SkyMapError` naming it.

Examples
--------
>>> import numpy as np
>>> sky = ProbabilityMap(4 * 4**0 + np.arange(12), [6.0] + [1.0] * 11, credible=0.3)
>>> sky.contains([45.0, 200.0], [60.0, 0.0]).tolist(), round(sky.area_deg2)
([True, False], 3438)
"""

from __future__ import annotations

import gzip
import io
import math

import numpy as np

from fink_like.errors import FinkLikeError, require

MAX_ORDER = 29
"""Deepest HEALPix order (nested indices of order 29 fit in int64)."""

_GZIP_MAGIC = b"\x1f\x8b"


class SkyMapError(FinkLikeError):
    """A sky map that cannot be read or is not a probability map."""


def _hp():
    import healpy as hp  # here, not at the top: it costs ~1 s of imports

    return hp


class ProbabilityMap:
    """A multi-order probability map and its ``credible`` region; picklable.

    ``uniq`` are NUNIQ cell ids, ``probdensity`` the probability per steradian of each
    cell (normalised here to a total of 1). Cells are kept sorted by ``uniq``;
    ``inside`` marks those of the credible region.
    """

    def __init__(self, uniq, probdensity, credible: float = 0.9):
        hp = _hp()
        uniq = np.asarray(uniq, dtype=np.int64)
        density = np.asarray(probdensity, dtype=float)
        if uniq.ndim != 1 or uniq.shape != density.shape or not len(uniq):
            raise SkyMapError("sky map: UNIQ and PROBDENSITY must be non-empty columns of one length")
        if not np.all(np.isfinite(density)) or np.any(density < 0):
            raise SkyMapError("sky map: PROBDENSITY has negative or non-finite values")
        if np.any(uniq < 4):
            raise SkyMapError("sky map: UNIQ values below 4 are not HEALPix cells")
        if not 0 < credible <= 1:
            raise SkyMapError(f"credible level {credible!r} must be in (0, 1]")
        order, ipix = uniq_to_order_ipix(uniq)
        if order.max() > MAX_ORDER or np.any(ipix >= 12 * 4 ** order):
            raise SkyMapError("sky map: UNIQ values beyond HEALPix order 29")
        total = (density * hp.nside2pixarea(2 ** order)).sum()
        if not total > 0:
            raise SkyMapError("sky map: total probability is zero")
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

    @classmethod
    def from_fits(cls, raw: bytes, credible: float = 0.9):
        """The map of a FITS file's bytes (gzipped or not), multi-order or flat."""
        if raw[:2] == _GZIP_MAGIC:
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError) as exc:
                raise SkyMapError(f"sky map is not valid gzip: {exc}") from exc
        uniq, density = _fits_cells(raw)
        return cls(uniq, density, credible)

    def _cells(self, ra, dec) -> np.ndarray:
        """Index into ``self.uniq`` of the cell holding each position (-1: not covered)."""
        hp = _hp()
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
        """True for each position (degrees) inside the credible region."""
        cells = self._cells(ra, dec)
        return (cells >= 0) & self.inside[np.maximum(cells, 0)]

    def density(self, ra, dec) -> np.ndarray:
        """Probability per steradian at each position (0 where the map has no cell)."""
        cells = self._cells(ra, dec)
        return np.where(cells >= 0, self.probdensity[np.maximum(cells, 0)], 0.0)

    def index_pixels(self, nside: int) -> np.ndarray:
        """Sorted nested pixels at ``nside`` covering the credible region (a superset)."""
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
        """Area of the credible region in square degrees."""
        return float(_hp().nside2pixarea(2 ** self.order[self.inside], degrees=True).sum())

    def moc(self):
        """The credible region as a ``mocpy.MOC`` (its depth is the map's deepest order)."""
        mocpy = require("mocpy", "mocpy")
        order, ipix = uniq_to_order_ipix(self.uniq[self.inside])
        return mocpy.MOC.from_healpix_cells(ipix.astype(np.uint64), order.astype(np.uint8), int(order.max()))


def uniq_to_order_ipix(uniq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, ipix)`` of NUNIQ ids: ``order = floor(log2(uniq / 4) / 2)``."""
    uniq = np.asarray(uniq, dtype=np.int64)
    order = (np.floor(np.log2(uniq // 4).astype(float)) // 2).astype(np.int64)
    # guard the float log for large values: fix off-by-one orders exactly
    order = np.where(4 * 4 ** (order + 1) <= uniq, order + 1, order)
    order = np.where(4 * 4 ** order > uniq, order - 1, order)
    return order, uniq - 4 * 4 ** order


def _fits_cells(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(uniq, probdensity)`` of a FITS sky map (not gzipped)."""
    from astropy.io import fits

    if not raw.startswith(b"SIMPLE"):
        raise SkyMapError("sky map is not a FITS file (no SIMPLE card)")
    try:
        with fits.open(io.BytesIO(raw), memmap=False) as hdus:
            table = next((h for h in hdus[1:] if isinstance(h, fits.BinTableHDU)), None)
            if table is None:
                raise SkyMapError("sky map FITS has no binary table")
            header, data = table.header, table.data
            names = [n.upper() for n in data.columns.names]
            ordering = str(header.get("ORDERING", "")).upper()
            if "UNIQ" in names and "PROBDENSITY" in names:
                return np.array(data["UNIQ"], dtype=np.int64), np.array(data["PROBDENSITY"], dtype=float)
            if ordering in ("NESTED", "RING") and names:
                return _flat(np.array(data[data.columns.names[0]], dtype=float).ravel(), ordering == "NESTED")
            raise SkyMapError(f"sky map FITS is neither multi-order (UNIQ, PROBDENSITY) nor flat "
                              f"HEALPix (ORDERING={ordering or None})")
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise SkyMapError(f"sky map FITS cannot be read: {exc}") from exc


def _flat(prob: np.ndarray, nested: bool) -> tuple[np.ndarray, np.ndarray]:
    """A flat map of probability per pixel as NUNIQ cells and densities."""
    hp = _hp()
    try:
        nside = hp.npix2nside(len(prob))
    except ValueError as exc:
        raise SkyMapError(f"flat sky map has {len(prob)} pixels, not 12 * nside**2") from exc
    ipix = np.arange(len(prob), dtype=np.int64)
    if not nested:
        prob = prob[hp.nest2ring(nside, ipix)]
    order = int(np.log2(nside))
    return 4 * 4 ** order + ipix, prob / hp.nside2pixarea(nside)


def multiorder_fits(uniq, probdensity) -> bytes:
    """A minimal LVK-style multi-order FITS file (used by tests and the examples)."""
    from astropy.io import fits

    cols = [fits.Column("UNIQ", "K", array=np.asarray(uniq, dtype=np.int64)),
            fits.Column("PROBDENSITY", "D", unit="sr-1", array=np.asarray(probdensity, dtype=float))]
    table = fits.BinTableHDU.from_columns(cols)
    table.header["PIXTYPE"] = "HEALPIX"
    table.header["ORDERING"] = "NUNIQ"
    table.header["COORDSYS"] = "C"
    table.header["MOC"] = True
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buf)
    return buf.getvalue()
