"""Catalogue configuration and reading: Parquet, FITS or CSV into ra, dec and labels.

A catalogue entry in the module's parameters::

    name: vsx                         # [a-z0-9]+ -> columns xm_vsx_name, xm_vsx_class, xm_vsx_sep
    path: ../shared/data/catalogs/vsx.parquet   # or a list of files of the same layout
    ra_col: RAJ2000
    dec_col: DEJ2000
    radius_arcsec: 1.5
    name_col: null                    # a column, a list (first non-empty wins) or null
    class_col: VType                  # optional
    extra: {lum_dist: float64}        # optional: more columns -> xm_<name>_<col>
    ra_unit: deg                      # "hourangle" for sexagesimal RA strings (3HSP)

Without a ``name_col`` a match is named ``<name>#<row>``: its row number in the file(s).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.errors import PluginError

CATALOG_NAME_RE = re.compile(r"^[a-z0-9]+$")
NULL_STRINGS = ("", "None", "nan")


@dataclass(frozen=True)
class CatalogSpec:
    """One catalogue to match against, validated from the module's parameters."""

    name: str
    paths: tuple[str, ...]
    ra_col: str
    dec_col: str
    radius_arcsec: float
    name_col: tuple[str, ...] = ()
    class_col: str | None = None
    extra: dict[str, pa.DataType] = field(default_factory=dict)
    ra_unit: str = "deg"

    @classmethod
    def from_params(cls, raw: Mapping[str, Any]) -> "CatalogSpec":
        """Validate one ``catalogs`` entry; PluginError names the catalogue and the key."""
        if not isinstance(raw, Mapping):
            raise PluginError(f"xmatch: each catalogs entry must be a mapping, got {raw!r}")
        name = raw.get("name")
        label = f"xmatch catalogue {name!r}"
        if not isinstance(name, str) or not CATALOG_NAME_RE.match(name):
            raise PluginError(f"{label}: name must match [a-z0-9]+")
        missing = [k for k in ("path", "ra_col", "dec_col", "radius_arcsec") if raw.get(k) is None]
        if missing:
            raise PluginError(f"{label}: missing {', '.join(missing)}")
        unknown = set(raw) - {"name", "path", "ra_col", "dec_col", "radius_arcsec", "name_col",
                              "class_col", "extra", "ra_unit"}
        if unknown:
            raise PluginError(f"{label}: unknown keys {sorted(unknown)}")
        try:
            radius = float(raw["radius_arcsec"])
        except (TypeError, ValueError) as exc:
            raise PluginError(f"{label}: radius_arcsec must be a number") from exc
        if not 0 < radius <= 3600:
            raise PluginError(f"{label}: radius_arcsec must be in (0, 3600], got {radius}")
        if raw.get("ra_unit", "deg") not in ("deg", "hourangle"):
            raise PluginError(f"{label}: ra_unit must be deg or hourangle")
        paths = raw["path"] if isinstance(raw["path"], (list, tuple)) else [raw["path"]]
        names = raw.get("name_col") or ()
        names = (names,) if isinstance(names, str) else tuple(names)
        extra = {}
        for col, type_name in (raw.get("extra") or {}).items():
            try:
                extra[col] = pa.type_for_alias(str(type_name))
            except ValueError as exc:
                raise PluginError(f"{label}: extra column {col!r} has unknown type {type_name!r}") from exc
            if not CATALOG_NAME_RE.match(col.replace("_", "")) or col != col.lower():
                raise PluginError(f"{label}: extra column {col!r} must be lower-case [a-z0-9_]")
        return cls(name=name, paths=tuple(str(p) for p in paths), ra_col=str(raw["ra_col"]),
                   dec_col=str(raw["dec_col"]), radius_arcsec=radius, name_col=names,
                   class_col=raw.get("class_col"), extra=extra, ra_unit=raw.get("ra_unit", "deg"))

    def output_types(self) -> dict[str, pa.DataType]:
        """The module's columns for this catalogue."""
        out = {f"xm_{self.name}_name": pa.string(), f"xm_{self.name}_class": pa.string(),
               f"xm_{self.name}_sep": pa.float64()}
        out.update({f"xm_{self.name}_{col}": dtype for col, dtype in self.extra.items()})
        return out

    def columns(self) -> list[str]:
        """The file columns this catalogue needs."""
        cols = [self.ra_col, self.dec_col, *self.name_col]
        cols += [self.class_col] if self.class_col else []
        return list(dict.fromkeys(cols + list(self.extra)))


def read_catalog(spec: CatalogSpec) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """(ra, dec) in float64 degrees and the label table (``row``, ``name``, ``class``, extras).

    Raises
    ------
    PluginError
        Missing file, unsupported format, missing column or unparseable coordinates.
    """
    tables = [_read_file(spec, path) for path in spec.paths]
    table = pa.concat_tables(tables, promote_options="permissive")
    ra, dec = _coordinates(spec, table)
    labels = {"row": pa.array(np.arange(table.num_rows, dtype=np.int64))}
    labels["name"] = _first_non_empty([table[c] for c in spec.name_col]) if spec.name_col else None
    labels["class"] = _clean_strings(table[spec.class_col]) if spec.class_col else None
    for col, dtype in spec.extra.items():
        try:
            labels[col] = table[col].cast(dtype)
        except pa.ArrowException as exc:
            raise PluginError(f"xmatch catalogue {spec.name!r}: column {col!r} is not {dtype}: {exc}") from exc
    labels = {k: v for k, v in labels.items() if v is not None}
    return ra, dec, pa.table(labels)


def _read_file(spec: CatalogSpec, path: str) -> pa.Table:
    label = f"xmatch catalogue {spec.name!r}"
    if not Path(path).is_file():
        raise PluginError(f"{label}: file not found: {path}")
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        elif suffix in (".fits", ".fit", ".fz"):
            table = _read_fits(path, spec.columns())
        elif suffix == ".csv":
            import pandas as pd

            frame = pd.read_csv(path, skipinitialspace=True, dtype=str, keep_default_na=False)
            frame.columns = [c.strip() for c in frame.columns]
            table = pa.Table.from_pandas(frame, preserve_index=False)
        else:
            raise PluginError(f"{label}: {path}: unsupported format {suffix!r} (Parquet, FITS or CSV)")
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"{label}: cannot read {path}: {exc}") from exc
    missing = [c for c in spec.columns() if c not in table.column_names]
    if missing:
        raise PluginError(f"{label}: {path} has no column(s) {missing}; it has {table.column_names}")
    return table.select(spec.columns())


def _read_fits(path: str, columns: list[str]) -> pa.Table:
    from astropy.table import Table

    data = Table.read(path, format="fits")
    out = {}
    for col in columns:
        if col not in data.colnames:
            continue
        values = np.asarray(data[col])
        if values.dtype.kind == "S":
            values = np.char.decode(values, "utf-8")
        out[col] = pa.array(values.tolist() if values.dtype.kind == "U" else values.astype(values.dtype.newbyteorder("=")))
    return pa.table(out)


def _coordinates(spec: CatalogSpec, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    ra_raw, dec_raw = table[spec.ra_col], table[spec.dec_col]
    try:
        if pa.types.is_string(ra_raw.type) or pa.types.is_large_string(ra_raw.type):
            from astropy.coordinates import SkyCoord

            coords = SkyCoord(ra_raw.to_pylist(), dec_raw.to_pylist(), unit=(spec.ra_unit, "deg"))
            return coords.ra.deg.astype(np.float64), coords.dec.deg.astype(np.float64)
        ra = ra_raw.cast(pa.float64()).to_numpy(zero_copy_only=False)
        dec = dec_raw.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except Exception as exc:
        raise PluginError(f"xmatch catalogue {spec.name!r}: cannot read coordinates "
                          f"{spec.ra_col}/{spec.dec_col}: {exc}") from exc
    if spec.ra_unit == "hourangle":
        ra = ra * 15.0
    return ra, dec


def _clean_strings(column) -> pa.Array:
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    empty = pc.is_in(text, value_set=pa.array(NULL_STRINGS))
    return pc.if_else(empty, pa.scalar(None, pa.string()), text)


def _first_non_empty(columns) -> pa.Array:
    cleaned = [_clean_strings(c) for c in columns]
    return cleaned[0] if len(cleaned) == 1 else pc.coalesce(*cleaned)
