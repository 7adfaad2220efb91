"""Watch lists: alerts of listed objects, or inside listed sky regions.

A watch list is given inline in the configuration or in files (paths relative to the
configuration's ``base_dir``)::

    watchlist:
      objects: [ZTF18abcdefg, "1234567890"]     # or objects_file: ids.csv (column object_id) / .yaml list
      cones:                                     # or cones_file: cones.csv (ra,dec,radius_arcsec)
        - {ra: 150.1, dec: 2.2, radius_arcsec: 5}
      pixels: ["8/1234", "10/99871"]             # nested HEALPix order/ipix (MOC-style), or pixels_file
                                                 # (one order/ipix per line, or YAML {order: [ipix, ...]})
      moc: "8/1234-1240 10/99871"                # or {8: [1234]}; or moc_file: region.fits|.json|.txt
      moc_probability: 0.9                       # with a multi-order sky map FITS: its 90% region

An alert matches when any part matches (object id, any cone, any pixel or MOC cell).
Cones and regions are matched by :mod:`fink_like.sky`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import ConfigError
from fink_like.sky import SkyRegion, in_any_cone, load_moc
from fink_like.sky.moc import MAX_ORDER

KEYS = {"objects", "objects_file", "cones", "cones_file", "pixels", "pixels_file", "moc", "moc_file",
        "moc_probability"}


class WatchList:
    """Object ids, cones ``(ra, dec, radius_arcsec)`` and sky regions (pixels, MOCs)."""

    required_columns = ("object_id", "ra", "dec")

    def __init__(self, objects=(), cones=(), pixels=(), regions: tuple[SkyRegion, ...] = ()):
        self.objects = sorted({str(o) for o in objects})
        self.cones = np.array([_cone(c) for c in cones], dtype=float).reshape(-1, 3)
        cells: dict[int, list[int]] = {}
        for item in pixels:
            order, ipix = _pixel(item)
            cells.setdefault(order, []).append(ipix)
        self.regions = list(regions) + ([SkyRegion.from_cells(cells, "watch-list pixels")] if cells else [])
        if not (self.objects or len(self.cones) or self.regions):
            raise ConfigError("watch list is empty: give objects, cones, pixels or a MOC")

    @classmethod
    def from_spec(cls, spec: dict, base_dir: str | Path = ".") -> "WatchList":
        """Build from a configuration mapping; files are read now, so errors show at load."""
        if not isinstance(spec, dict):
            raise ConfigError(f"watch list must be a mapping, not {type(spec).__name__}")
        unknown = set(spec) - KEYS
        if unknown:
            raise ConfigError(f"watch list: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
        _check_types(spec)
        base = Path(base_dir)
        objects = list(spec.get("objects") or [])
        cones = list(spec.get("cones") or [])
        pixels = list(spec.get("pixels") or [])
        if spec.get("objects_file"):
            objects += _read_objects(base / spec["objects_file"])
        if spec.get("cones_file"):
            cones += _read_rows(base / spec["cones_file"], ("ra", "dec", "radius_arcsec"))
        if spec.get("pixels_file"):
            pixels += _read_pixels(base / spec["pixels_file"])
        regions = [load_moc(spec[key], base, spec.get("moc_probability")) for key in ("moc", "moc_file")
                   if spec.get(key) is not None]
        return cls(objects, cones, pixels, tuple(regions))

    def mask(self, table: pa.Table) -> pa.BooleanArray:
        """True for alerts of a listed object or inside a cone or pixel."""
        selected = np.zeros(table.num_rows, dtype=bool)
        if self.objects:
            ids = pc.fill_null(pc.is_in(table.column("object_id"), value_set=pa.array(self.objects)), False)
            selected |= ids.to_numpy(zero_copy_only=False)
        if len(self.cones) or self.regions:
            ra = table.column("ra").to_numpy(zero_copy_only=False).astype(float)
            dec = table.column("dec").to_numpy(zero_copy_only=False).astype(float)
            selected |= in_any_cone(ra, dec, self.cones)
            for region in self.regions:
                selected |= region.contains(ra, dec)
        return pa.array(selected, type=pa.bool_())


_TYPES = {"objects": (list,), "cones": (list,), "pixels": (list,), "objects_file": (str,), "cones_file": (str,),
          "pixels_file": (str,), "moc": (str, dict, list), "moc_file": (str,), "moc_probability": (int, float)}


def _check_types(spec: dict) -> None:
    for key, kinds in _TYPES.items():
        value = spec.get(key)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            names = " or ".join({list: "a list", str: "a string", dict: "a mapping", int: "a number",
                                 float: "a number"}[k] for k in kinds)
            raise ConfigError(f"watch list: {key} must be {names}, not {type(value).__name__}")
    for item in spec.get("objects") or []:
        if not isinstance(item, (str, int)) or isinstance(item, bool):
            raise ConfigError(f"watch list: object id {item!r} must be a string or a number")


def _cone(item) -> tuple[float, float, float]:
    try:
        if isinstance(item, dict):
            ra, dec, radius = float(item["ra"]), float(item["dec"]), float(item["radius_arcsec"])
        else:
            ra, dec, radius = (float(v) for v in item)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"watch-list cone {item!r}: give ra, dec (degrees) and radius_arcsec") from exc
    if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0 and radius > 0):
        raise ConfigError(f"watch-list cone {item!r}: need 0 <= ra < 360, -90 <= dec <= 90, radius_arcsec > 0")
    return ra, dec, radius


def _pixel(item) -> tuple[int, int]:
    try:
        order_text, ipix_text = str(item).strip().split("/")
        order, ipix = int(order_text), int(ipix_text)
    except ValueError as exc:
        raise ConfigError(f"watch-list pixel {item!r}: write it as 'order/ipix', e.g. '8/1234'") from exc
    if not 0 <= order <= MAX_ORDER or not 0 <= ipix < 12 * 4**order:
        raise ConfigError(f"watch-list pixel {item!r}: order must be 0..{MAX_ORDER} and ipix < 12*4**order")
    return order, ipix


def _read_objects(path: Path) -> list[str]:
    if path.suffix in (".yaml", ".yml"):
        data = _yaml_any(path)
        if not isinstance(data, list):
            raise ConfigError(f"watch-list file {path}: expected a YAML list of object ids")
        return [str(x) for x in data]
    return [row["object_id"] for row in _read_rows(path, ("object_id",))]


def _read_pixels(path: Path) -> list[str]:
    if path.suffix in (".yaml", ".yml"):
        data = _yaml_any(path)
        if isinstance(data, dict):  # MOC-style {order: [ipix, ...]}
            return [f"{order}/{ipix}" for order, ipixs in data.items() for ipix in ipixs]
        if isinstance(data, list):
            return [str(x) for x in data]
        raise ConfigError(f"watch-list file {path}: expected {{order: [ipix, ...]}} or a list of 'order/ipix'")
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise ConfigError(f"watch-list file {path} cannot be read: {exc}") from exc


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[dict]:
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            header = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in columns if c not in header]
            if missing:
                raise ConfigError(f"watch-list file {path}: missing column(s) {', '.join(missing)} (has {header})")
            return [{k.strip(): v.strip() for k, v in row.items()} for row in reader]
    except OSError as exc:
        raise ConfigError(f"watch-list file {path} cannot be read: {exc}") from exc


def _yaml_any(path: Path):
    import yaml

    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"watch-list file {path} cannot be read as YAML: {exc}") from exc
