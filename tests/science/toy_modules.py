"""Toy science modules for the tests (importable as ``toy_modules:Doubler``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fink_like.science.base import ScienceModule
from fink_like.science.params import ModuleParams


class Doubler(ScienceModule):
    """Toy module: twice the magnitude, and whether it is brighter than ``limit``."""

    name = "doubler"
    version = "1.0"
    inputs = ("mag",)
    outputs = {"twice_mag": pa.float64(), "is_bright": pa.bool_()}
    loads = 0

    class Params(ModuleParams):
        limit: float = 18.0

    def load(self, params: Params) -> None:
        type(self).loads += 1
        self.limit = params.limit

    def process(self, batch: pa.Table) -> dict:
        mag = batch["mag"].to_numpy(zero_copy_only=False)
        return {"twice_mag": 2 * mag, "is_bright": pa.array(mag < self.limit, mask=np.isnan(mag))}


class Raiser(ScienceModule):
    """Toy module that raises on every batch."""

    name = "raiser"
    version = "2.0"
    inputs = ("ra",)
    outputs = {"never": pa.int32()}

    def load(self, params: ModuleParams) -> None:
        pass

    def process(self, batch: pa.Table) -> dict:
        raise ValueError("no luck today")


class BadType(ScienceModule):
    """Toy module returning strings for a float column."""

    name = "bad_type"
    version = "1.0"
    inputs = ("ra",)
    outputs = {"bad_value": pa.float64()}

    def load(self, params: ModuleParams) -> None:
        pass

    def process(self, batch: pa.Table) -> dict:
        return {"bad_value": ["not a number"] * batch.num_rows}


def loaded(cls, params=None):
    instance = cls()
    instance.load(params or {})
    return instance


class Noisy(ScienceModule):
    """Toy module whose output changes from run to run (not deterministic)."""

    name = "noisy"
    version = "1.0"
    inputs = ("ra",)
    outputs = {"noise": pa.float64()}

    def load(self, params: ModuleParams) -> None:
        self.rng = np.random.default_rng()

    def process(self, batch: pa.Table) -> dict:
        return {"noise": self.rng.random(batch.num_rows)}


class NeedsHistory(ScienceModule):
    """Toy module that assumes every alert has upper limits (breaks on first detections)."""

    name = "needs_history"
    version = "1.0"
    inputs = ("ul_maglim",)
    outputs = {"deepest_limit": pa.float64()}

    class Params(ModuleParams):
        fail_with: str | None = None

    def load(self, params: Params) -> None:
        if params.fail_with:
            raise OSError(params.fail_with)

    def process(self, batch: pa.Table) -> dict:
        return {"deepest_limit": [max(v) for v in batch["ul_maglim"].to_pylist()]}


class PickyAboutOneAlert(ScienceModule):
    """Toy module that raises on any batch holding the alert ``params["bad_id"]``."""

    name = "picky"
    version = "1.0"
    inputs = ("alert_id", "mag")
    outputs = {"picky_mag": pa.float64()}
    calls = 0

    class Params(ModuleParams):
        bad_id: int

    def load(self, params: Params) -> None:
        self.bad_id = params.bad_id

    def process(self, batch: pa.Table) -> dict:
        type(self).calls += 1
        ids = batch["alert_id"].to_pylist()
        if self.bad_id in ids:
            raise ValueError(f"cannot score alert {self.bad_id}")
        return {"picky_mag": batch["mag"]}
