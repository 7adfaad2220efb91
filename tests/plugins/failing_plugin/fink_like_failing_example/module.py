"""Two modules that honour the declared contract but fail at run time."""

from __future__ import annotations

import pyarrow as pa

from fink_like.science.base import ScienceModule
from fink_like.science.params import ModuleParams


class FailingModule(ScienceModule):
    """Raises on every non-empty batch."""

    name = "example_failing"
    version = "0.1.0"
    inputs = ("mag",)
    outputs = {"ex_fail_score": pa.float64()}

    class Params(ModuleParams):
        message: str = "deliberate failure"

    def load(self, params: Params) -> None:
        self.message = params.message

    def process(self, batch: pa.Table) -> dict:
        if batch.num_rows:
            raise RuntimeError(self.message)
        return {"ex_fail_score": []}


class WrongLengthModule(ScienceModule):
    """Returns one value too few."""

    name = "example_wrong_length"
    version = "0.1.0"
    inputs = ("mag",)
    outputs = {"ex_short": pa.float64()}

    def load(self, params: ModuleParams) -> None:
        pass

    def process(self, batch: pa.Table) -> dict:
        return {"ex_short": batch["mag"].to_pylist()[1:]}
