"""Evaluate the packaged microlensing model: simulated hold-out, real alerts, VSX stars.

Three checks, written to ``data/evaluation.json`` and printed:

1. accuracy and ROC AUC on a simulation drawn with a seed the model never saw;
2. the ``mulens_prob`` distribution of the real ZTF and Rubin alerts in ``--data``;
3. the real alerts within ``--radius`` arcsec of a VSX variable star: known variables
   must not be flagged as microlensing (the fraction above 0.5 is reported).

Usage::

    python -m fink_like_microlensing.evaluate [--data ../shared/data] [--seed 11]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa

from fink_like_microlensing.module import ARTIFACT, MicrolensingModule

ALERT_FOLDERS = ("ztf/alerts-3.3", "ztf/alerts-4.02", "lsst/alerts-7.4", "lsst/alerts-9.0")


def vsx_matches(alerts: pa.Table, vsx_path: Path, radius_arcsec: float = 1.5) -> tuple[np.ndarray, list[str]]:
    """Rows of ``alerts`` within ``radius_arcsec`` of a VSX star, and that star's type.

    VSX is first cut to a declination band around the alerts (cheap), then matched
    with astropy's nearest-neighbour search on the sky.
    """
    import astropy.units as u
    import pyarrow.parquet as pq
    from astropy.coordinates import SkyCoord

    vsx = pq.read_table(vsx_path, columns=["RAJ2000", "DEJ2000", "VType"])
    vdec = vsx.column("DEJ2000").to_numpy()
    dec = np.sort(alerts.column("dec").to_numpy())
    pad = radius_arcsec / 3600.0 * 2
    where = np.clip(np.searchsorted(dec, vdec), 1, len(dec) - 1) if len(dec) > 1 else np.zeros(len(vdec), int)
    near = np.flatnonzero(np.minimum(np.abs(vdec - dec[where]), np.abs(vdec - dec[where - 1])) < pad)
    if len(near) == 0 or alerts.num_rows == 0:
        return np.zeros(0, np.int64), []
    stars = SkyCoord(vsx.column("RAJ2000").to_numpy()[near] * u.deg, vdec[near] * u.deg)
    points = SkyCoord(alerts.column("ra").to_numpy() * u.deg, alerts.column("dec").to_numpy() * u.deg)
    idx, sep, _ = points.match_to_catalog_sky(stars)
    rows = np.flatnonzero(sep.arcsec < radius_arcsec)
    types = vsx.column("VType").take(pa.array(near[idx[rows]])).to_pylist()
    return rows, [str(t).strip() for t in types]


def distribution(prob: np.ndarray) -> dict:
    """Quantiles of the scores and how many exceed 0.5."""
    if len(prob) == 0:
        return {"n": 0}
    q = np.percentile(prob, [50, 90, 99])
    return {"n": int(len(prob)), "median": round(float(q[0]), 4), "p90": round(float(q[1]), 4),
            "p99": round(float(q[2]), 4), "n_above_0.5": int((prob > 0.5).sum())}


def evaluate(data: Path, seed: int, n_per_class: int, radius: float) -> dict:
    """Run the three checks with the packaged model and return the report."""
    from fink_like.surveys import read_alert_files
    from fink_like_microlensing.module import load_model
    from fink_like_microlensing.train import build_dataset, score

    module = MicrolensingModule()
    module.load({})
    X, y, labels = build_dataset(n_per_class, seed)
    report = {"artifact_sha256": module.model_hash, "held_out": score(load_model(ARTIFACT), X, y, labels)}
    alerts = read_alert_files([data / folder for folder in ALERT_FOLDERS])
    prob = np.asarray(module.process(alerts.select(list(module.inputs)))["mulens_prob"])
    survey = np.asarray(alerts.column("survey").to_pylist())
    report["real_alerts"] = {s: distribution(prob[survey == s]) for s in sorted(set(survey))}
    rows, types = vsx_matches(alerts, data / "catalogs" / "vsx.parquet", radius)
    report["vsx_variables"] = {
        "radius_arcsec": radius, **distribution(prob[rows]),
        "flagged": [{"object_id": alerts.column("object_id")[int(r)].as_py(), "vsx_type": t,
                     "mulens_prob": round(float(prob[r]), 4)} for r, t in zip(rows, types) if prob[r] > 0.5],
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fink_like_microlensing.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared real-data folder")
    parser.add_argument("--seed", type=int, default=11, help="seed of the held-out simulation (training uses 0, 1)")
    parser.add_argument("--n-per-class", type=int, default=500, help="held-out curves per class and survey")
    parser.add_argument("--radius", type=float, default=1.5, help="VSX match radius, arcsec")
    parser.add_argument("--out", type=Path, default=ARTIFACT.with_name("evaluation.json"), help="report file")
    args = parser.parse_args(argv)
    if not (args.data / "catalogs" / "vsx.parquet").is_file():
        parser.error(f"--data {args.data}: no catalogs/vsx.parquet there")
    report = evaluate(args.data, args.seed, args.n_per_class, args.radius)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
