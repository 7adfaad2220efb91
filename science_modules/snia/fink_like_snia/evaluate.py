"""Evaluate a SN Ia model version: held-out real test objects and scores on real alerts.

Run ``python -m fink_like_snia.evaluate [--model-version v1] [--output FILE]``; prints
JSON: AUC, ECE, purity and completeness per age on the test objects of the labelled set, and
for each folder of real alerts in the shared data the quantiles of P(SN Ia), the
fraction above 0.5, and the same for single-detection alerts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from fink_like_snia import train
from fink_like_snia.module import DEFAULTS, SniaModule

REAL_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


def real_distribution(module: SniaModule, data_dir: Path) -> dict:
    from fink_like.surveys import read_alert_files

    out = {}
    for folder in REAL_FOLDERS:
        table = read_alert_files(data_dir / folder)
        p = np.asarray(module.process(table)["snia_prob"])
        single = np.array([len(x) == 1 for x in table["lc_mjd"].to_pylist()])
        out[folder] = {
            "alerts": table.num_rows,
            "nan": int(np.isnan(p).sum()),
            "quantiles_0_25_50_75_100": [round(float(q), 3) for q in np.nanquantile(p, [0, .25, .5, .75, 1])],
            "frac_above_0.5": round(float(np.mean(p > 0.5)), 3),
            "single_detection": int(single.sum()),
            "single_frac_above_0.5": round(float(np.mean(p[single] > 0.5)), 3) if single.any() else None,
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-version", default="v1")
    parser.add_argument("--model-dir", default=DEFAULTS["model_dir"])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3].parent / "shared" / "data")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    module = SniaModule()
    module.params = {"model_version": args.model_version, "model_dir": args.model_dir}
    module.load(module.params)
    report = {
        "version": module.model_version,
        "model_hash": module.model_hash,
        "held_out": train.held_out_metrics(module.artifact),
        "real_alerts": real_distribution(module, args.data_dir),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
