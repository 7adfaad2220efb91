"""Throughput of the microlensing module on simulated and real alerts (prints and writes JSON).

The reference ceiling is the cheapest light-curve statistic there is, on the same
batches: flatten the four ``lc_*`` lists to numpy and take one weighted mean flux per
alert (``np.bincount``). Ratios to it survive a noisy machine.

Usage::

    python -m fink_like_microlensing.bench [--alerts 8000] [--batch 2000] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def best_rate(func, batches: list[pa.Table], repeats: int = 3) -> float:
    """Alerts per second of ``func`` over all ``batches``, best of ``repeats`` runs."""
    rows = sum(b.num_rows for b in batches)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            func(batch)
        best = min(best, time.perf_counter() - start)
    return rows / best


def weighted_mean_reference(batch: pa.Table) -> np.ndarray:
    """Weighted mean flux of every alert: the floor of any light-curve module."""
    flat = {name: pc.list_flatten(batch.column(name)) for name in ("lc_mjd", "lc_band", "lc_flux", "lc_fluxerr")}
    flux = flat["lc_flux"].to_numpy(zero_copy_only=False)
    w = 1.0 / flat["lc_fluxerr"].to_numpy(zero_copy_only=False) ** 2
    row = pc.list_parent_indices(batch.column("lc_flux")).to_numpy(zero_copy_only=False)
    return np.bincount(row, weights=w * flux, minlength=batch.num_rows) / np.bincount(
        row, weights=w, minlength=batch.num_rows)


def batches_of(alerts: int, batch: int, data: Path | None) -> dict[str, list[pa.Table]]:
    """Simulated alerts of both cadences, and the real alerts repeated, cut into batches."""
    from fink_like.science.lcsim import simulate

    sets = {"simulated": pa.concat_tables([simulate(alerts // 2, survey=s, seed=41) for s in ("ztf", "rubin")])}
    if data is not None:
        from fink_like.surveys import read_alert_files

        real = read_alert_files([data / "ztf", data / "lsst"])
        sets["real"] = pa.concat_tables([real] * max(alerts // max(real.num_rows, 1), 1))
    return {k: [t.slice(i, batch) for i in range(0, t.num_rows, batch)] for k, t in sets.items()}


def run(module, alerts: int, batch: int, data: Path | None) -> dict:
    """Rates of ``module.process`` and of the flatten reference on each alert set."""
    report = {"module": module.name, "version": module.version, "batch": batch}
    for name, parts in batches_of(alerts, batch, data).items():
        parts = [p.select(list(module.inputs)) for p in parts]
        module.process(parts[0])  # warm-up
        rate, ref = best_rate(module.process, parts), best_rate(weighted_mean_reference, parts)
        report[name] = {"alerts": sum(p.num_rows for p in parts), "alerts_per_s": round(rate),
                        "reference_weighted_mean_alerts_per_s": round(ref), "ratio_to_reference": round(rate / ref, 4)}
    return report


def main(argv: list[str] | None = None, module=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=8000, help="simulated alerts (half ZTF, half Rubin)")
    parser.add_argument("--batch", type=int, default=2000, help="rows per Arrow batch (spark.arrow_batch_size)")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="real alerts; 'none' skips them")
    parser.add_argument("--out", type=Path, default=Path("bench-microlensing.json"), help="JSON result file")
    args = parser.parse_args(argv)
    if args.alerts < 2 or args.batch < 1:
        parser.error("--alerts must be >= 2 and --batch >= 1")
    if module is None:
        from fink_like_microlensing.module import MicrolensingModule

        module = MicrolensingModule()
        module.load({})
    data = None if str(args.data) == "none" else args.data
    report = {"date": time.strftime("%Y-%m-%d"), **run(module, args.alerts, args.batch, data)}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
