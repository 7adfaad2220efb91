"""The ``xmatch`` science module: nearest catalogue source within a radius, per catalogue."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pydantic import field_validator

from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule
from fink_like.science.params import ModuleParams, not_in_hash
from fink_like_xmatch import __version__
from fink_like_xmatch.catalogs import CatalogSpec
from fink_like_xmatch.index import HealpixIndex

DEFAULT_CACHE_DIR = "var/xmatch-cache"


def catalog_specs(raw: list) -> list[CatalogSpec]:
    """The validated ``catalogs`` parameter; PluginError names what is wrong."""
    if not isinstance(raw, list) or not raw:
        raise PluginError("xmatch: params.catalogs must be a non-empty list of catalogues")
    specs = [CatalogSpec.from_params(entry) for entry in raw]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise PluginError(f"xmatch: catalogue names must be unique, got {names}")
    return specs


class XmatchParams(ModuleParams):
    """Parameters of :class:`XmatchModule` (see its docstring).

    Neither enters ``model_hash`` as such: what of ``catalogs`` changes outputs (file
    contents, columns read, radius) is hashed by :meth:`XmatchModule.artifact_hash`,
    without the machine-specific paths.
    """

    catalogs: list[dict[str, Any]] = not_in_hash([])
    cache_dir: str = not_in_hash(DEFAULT_CACHE_DIR)

    @field_validator("catalogs")
    @classmethod
    def _entries(cls, value: list) -> list:
        if value:
            catalog_specs(value)  # PluginError names the catalogue and the key
        return value


class XmatchModule(ScienceModule):
    """Cross-match each alert's position with the configured catalogues.

    Parameters (``science.modules[].params``)
    -----------------------------------------
    catalogs : list of mapping
        See :mod:`fink_like_xmatch.catalogs` for the keys of one catalogue.
    cache_dir : str, default ``var/xmatch-cache``
        Where the HEALPix indexes are built (once per catalogue file content).

    Outputs per catalogue ``<c>``: ``xm_<c>_name``, ``xm_<c>_class`` (strings, null when
    nothing is within the radius), ``xm_<c>_sep`` (arcsec) and ``xm_<c>_<extra>``.
    """

    name = "xmatch"
    version = __version__
    inputs = ("ra", "dec")
    outputs: dict = {}  # depends on the configured catalogues: see output_types
    Params = XmatchParams

    @classmethod
    def output_types(cls, params: XmatchParams) -> dict[str, pa.DataType]:
        if not params.catalogs:  # listing installed modules: no catalogues configured yet
            return {}
        out: dict[str, pa.DataType] = {}
        for spec in catalog_specs(params.catalogs):
            out.update(spec.output_types())
        return out

    def load(self, params: XmatchParams) -> None:
        self._specs = catalog_specs(params.catalogs)
        cache_dir = Path(params.cache_dir)
        self._indexes = [HealpixIndex.open(spec, cache_dir) for spec in self._specs]
        self._hash = hashlib.sha256("".join(
            f"{s.name}:{ix.key}:{s.radius_arcsec};" for s, ix in zip(self._specs, self._indexes)
        ).encode()).hexdigest()

    def process(self, batch: pa.Table) -> dict[str, pa.Array]:
        ra = batch["ra"].to_numpy()
        dec = batch["dec"].to_numpy()
        out: dict[str, pa.Array] = {}
        for spec, index in zip(self._specs, self._indexes):
            positions, seps = index.match(ra, dec, spec.radius_arcsec)
            found = positions >= 0
            take = pa.array(np.where(found, positions, 0), mask=~found)
            labels = index.labels.take(take)  # only the matched rows are read
            prefix = f"xm_{spec.name}_"
            if "name" in labels.column_names:
                out[prefix + "name"] = labels["name"].combine_chunks()
            else:
                rows = labels["row"].to_pylist()
                out[prefix + "name"] = pa.array([None if r is None else f"{spec.name}#{r}" for r in rows],
                                                pa.string())
            out[prefix + "class"] = (labels["class"].combine_chunks() if "class" in labels.column_names
                                     else pa.nulls(len(ra), pa.string()))
            out[prefix + "sep"] = pa.array(seps, mask=~found)
            for col in spec.extra:
                out[prefix + col] = labels[col].combine_chunks()
        return out

    def artifact_hash(self) -> str:
        """sha256 over each catalogue's content hash (files and columns read) and radius."""
        return self._hash

    def __getstate__(self):
        # Memory maps do not travel: ship the parameters and reopen the cached indexes.
        return {"params": getattr(self, "params", None)}

    def __setstate__(self, state):
        if state.get("params") is not None:
            self.load(state["params"])

