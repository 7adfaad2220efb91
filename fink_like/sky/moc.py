"""Sky regions as MOCs (multi-order coverage maps, IVOA), read and matched with mocpy.

A region comes from an ASCII MOC (``"8/1234 1235 10/99871"``), its JSON form
(``{"8": [1234, 1235]}``), a list of ``"order/ipix"`` cells, or a file: ``.fits`` (a MOC,
or with ``probability`` the credible region of a probability sky map such as a
gravitational-wave ``*.multiorder.fits``, as :mod:`fink_like.sky.skymap` defines it),
``.json`` or ASCII text. Cells are
checked before mocpy sees them (mocpy reads ``30/1`` without complaint), and an empty
region is an error: a watch list that can never match is a mistake.

Examples
--------
>>> import numpy as np
>>> region = load_moc("0/4")
>>> region.contains(np.array([0.0, 180.0]), np.array([0.0, 0.0])).tolist()
[True, False]
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from fink_like.errors import ConfigError, require
from fink_like.sky.skymap import MAX_ORDER, ProbabilityMap

FILE_SUFFIXES = (".fits", ".fits.gz", ".json", ".txt", ".moc")
_MAX_RANGE = 10_000_000
_ORDER_GROUP = re.compile(r"^(\d+)/(.*)$")


class SkyRegion:
    """A non-empty MOC; picklable (it travels as its ASCII form to executors)."""

    def __init__(self, moc, source: str = "MOC"):
        if moc.empty():
            raise ConfigError(f"{source}: the MOC is empty (it covers no sky)")
        self.moc, self.source = moc, source

    def __getstate__(self):
        return {"text": self.moc.to_string(format="ascii"), "source": self.source}

    def __setstate__(self, state):
        self.moc = _mocpy().MOC.from_str(state["text"])
        self.source = state["source"]

    @classmethod
    def from_cells(cls, cells: dict[int, list[int]], source: str = "MOC") -> "SkyRegion":
        """A region from ``{order: [ipix, ...]}`` (nested HEALPix), each cell checked."""
        MOC = _mocpy().MOC
        parts = []
        for order, ipix in sorted(cells.items()):
            if not 0 <= order <= MAX_ORDER:
                raise ConfigError(f"{source}: order {order} is outside 0..{MAX_ORDER}")
            ipix = list(ipix)
            for edge in (min(ipix), max(ipix)) if ipix else ():
                if not 0 <= edge < 12 * 4**order:
                    raise ConfigError(f"{source}: cell {order}/{edge} does not exist (ipix < 12*4**{order})")
            ipix = np.unique(np.asarray(ipix, dtype=np.int64))
            if len(ipix):
                parts.append(MOC.from_healpix_cells(ipix, np.full(len(ipix), order, dtype=np.uint8), MAX_ORDER))
        if not parts:
            raise ConfigError(f"{source}: the MOC is empty (it covers no sky)")
        moc = parts[0]
        for part in parts[1:]:
            moc = moc.union(part)
        return cls(moc, source)

    @property
    def sky_fraction(self) -> float:
        return float(self.moc.sky_fraction)

    def contains(self, ra, dec) -> np.ndarray:
        """True for each position (degrees) inside the region."""
        import astropy.units as u

        ra, dec = np.asarray(ra, float), np.asarray(dec, float)
        if not len(ra):
            return np.zeros(0, dtype=bool)
        return np.asarray(self.moc.contains_lonlat(ra * u.deg, dec * u.deg), dtype=bool)


def load_moc(source, base_dir: str | Path = ".", probability: float | None = None) -> SkyRegion:
    """A :class:`SkyRegion` from a string, a mapping, a list of cells or a file path.

    Raises
    ------
    ConfigError
        For a file that cannot be read or parsed, a malformed or out-of-range cell, or an
        empty region; the message names the source.
    """
    if isinstance(source, dict):
        return SkyRegion.from_cells(_json_cells(source, "MOC"), "MOC")
    if isinstance(source, (list, tuple)):
        return SkyRegion.from_cells(parse_ascii(" ".join(str(c) for c in source), "MOC"), "MOC")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError("MOC: give an ASCII MOC, {order: [ipix]}, a list of 'order/ipix' or a file")
    path = Path(base_dir) / source
    if source.endswith(FILE_SUFFIXES) or (" " not in source.strip() and path.is_file()):
        return _read_file(path, probability)
    return SkyRegion.from_cells(parse_ascii(source, "MOC"), "MOC")


def parse_ascii(text: str, source: str) -> dict[int, list[int]]:
    """``"8/1 3-5 10/7"`` -> ``{8: [1, 3, 4, 5], 10: [7]}``; malformed text is a ConfigError."""
    cells: dict[int, list[int]] = {}
    order = None
    for token in text.replace(",", " ").split():
        match = _ORDER_GROUP.match(token)
        if match:
            order, token = int(match.group(1)), match.group(2)
            cells.setdefault(order, [])
            if not token:
                continue
        if order is None:
            raise ConfigError(f"{source}: {token!r} comes before any 'order/' (write e.g. '8/1234 1235'; "
                              f"a file needs one of the suffixes {', '.join(FILE_SUFFIXES)})")
        try:
            low, _, high = token.partition("-")
            low, high = int(low), int(high or low)
        except ValueError:
            raise ConfigError(f"{source}: {token!r} is not a cell number or range (write e.g. '8/1234-1240')") from None
        if not 0 <= high - low < _MAX_RANGE:
            raise ConfigError(f"{source}: range {token!r} is reversed or longer than {_MAX_RANGE} cells (use a lower order)")
        cells[order].extend(range(low, high + 1))
    return cells


def _json_cells(data: dict, source: str) -> dict[int, list[int]]:
    try:
        return {int(order): [int(i) for i in ipix] for order, ipix in data.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: expected {{order: [ipix, ...]}} ({exc})") from exc


def _read_file(path: Path, probability: float | None) -> SkyRegion:
    source = f"MOC file {path}"
    if not path.is_file():
        raise ConfigError(f"{source} does not exist")
    try:
        if path.name.endswith((".fits", ".fits.gz")):
            if probability is None:
                return SkyRegion(_mocpy().MOC.load(str(path), format="fits"), source)
            if not 0 < probability <= 1:
                raise ConfigError(f"{source}: probability must be in (0, 1], not {probability}")
            return SkyRegion(ProbabilityMap.from_fits(path.read_bytes(), probability).moc(), source)
        text = path.read_text()
        if path.suffix == ".json":
            return SkyRegion.from_cells(_json_cells(json.loads(text), source), source)
        return SkyRegion.from_cells(parse_ascii(text, source), source)
    except ConfigError:
        raise
    except Exception as exc:  # mocpy/astropy raise many kinds for a bad file
        raise ConfigError(f"{source} is not a valid MOC: {exc}") from exc


def _mocpy():
    return require("mocpy")
