"""``example_colour``: latest g-r colour and rise rate of each alert's light curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from fink_like.science.base import ScienceModule
from fink_like.science.lightcurve import BANDS, columns, read_points
from fink_like.science.params import Field, ModuleParams


def light_curves(batch: pa.Table) -> pd.DataFrame:
    """One row per detection with a time, a magnitude and a band: alert (row number), mjd, band, mag."""
    lc = read_points(batch, "lc", ("mag",))            # the broker's light-curve accessor
    lc = lc.where(lc.usable("mjd", "mag", known_band=True))
    return pd.DataFrame({"alert": lc.row, "mjd": lc.mjd, "band": np.asarray(BANDS)[lc.band], "mag": lc.mag})


class ColourModule(ScienceModule):
    """g-r from each band's latest detection; rise rate (mag/day, negative = brightening)
    between the first and the last detection in the band of the latest one.

    Parameters: ``min_days`` (default 0.5): shorter baselines give a null rise rate.
    """

    name = "example_colour"
    version = "0.1.0"
    inputs = columns("lc", ("mag",))                   # lc_mjd, lc_band, lc_mag
    outputs = {"ex_g_minus_r": pa.float64(), "ex_rise_rate": pa.float64()}

    class Params(ModuleParams):
        min_days: float = Field(0.5, ge=0)

    def load(self, params: Params) -> None:
        self.min_days = params.min_days

    def process(self, batch: pa.Table) -> dict:
        n = batch.num_rows
        colour = np.full(n, np.nan)
        rate = np.full(n, np.nan)
        lc = light_curves(batch).sort_values(["alert", "mjd"], kind="stable")
        if lc.empty:
            return {"ex_g_minus_r": colour, "ex_rise_rate": rate}
        last = lc.groupby(["alert", "band"])["mag"].last().unstack()
        if {"g", "r"} <= set(last.columns):
            diff = (last["g"] - last["r"]).dropna()
            colour[diff.index.to_numpy()] = diff.to_numpy()
        latest_band = lc.groupby("alert")["band"].last()
        same = lc[lc["band"].to_numpy() == latest_band.loc[lc["alert"]].to_numpy()]
        ends = same.groupby("alert").agg(t0=("mjd", "first"), t1=("mjd", "last"),
                                          m0=("mag", "first"), m1=("mag", "last"))
        ends = ends[ends["t1"] - ends["t0"] >= self.min_days]
        rate[ends.index.to_numpy()] = ((ends["m1"] - ends["m0"]) / (ends["t1"] - ends["t0"])).to_numpy()
        return {"ex_g_minus_r": colour, "ex_rise_rate": rate}
