"""A small HTML report of a run: counts, latencies, score histograms and a few light curves."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fink_like.jobs.report import SCORE_COLUMNS

BAND_COLOURS = {"u": "#7b2cbf", "g": "#2a9d8f", "r": "#e63946", "i": "#f4a261",
                "z": "#6d597a", "y": "#264653"}


def select_objects(science: pa.Table, per_score: int = 2) -> list[tuple[str, int]]:
    """(score column, row) of the highest-scoring alerts, distinct objects, for light-curve plots."""
    chosen, seen = [], set()
    for column in SCORE_COLUMNS:
        if column not in science.column_names:
            continue
        values = pc.fill_null(science[column], -1.0).to_numpy(zero_copy_only=False)
        for row in np.argsort(-values):
            obj = science["object_id"][int(row)].as_py()
            if values[row] < 0 or obj in seen:
                continue
            chosen.append((column, int(row)))
            seen.add(obj)
            if sum(1 for c, _ in chosen if c == column) >= per_score:
                break
    return chosen


def light_curve_png(row: dict, title: str) -> str:
    """Base64 PNG of one alert's detections and upper limits, magnitude versus MJD."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.2), dpi=90)
    for band in sorted(set(row["lc_band"] or [])):
        idx = [i for i, b in enumerate(row["lc_band"]) if b == band]
        mjd = [row["lc_mjd"][i] for i in idx]
        mag = [row["lc_mag"][i] for i in idx]
        err = [row["lc_magerr"][i] or 0.0 for i in idx]
        ax.errorbar(mjd, mag, yerr=err, fmt="o", ms=4, color=BAND_COLOURS.get(band, "k"), label=band)
    for mjd, band, lim in zip(row.get("ul_mjd") or [], row.get("ul_band") or [], row.get("ul_maglim") or []):
        ax.scatter([mjd], [lim], marker="v", color=BAND_COLOURS.get(band, "k"), alpha=0.4, s=14)
    ax.invert_yaxis()
    ax.set_xlabel("MJD")
    ax.set_ylabel("mag")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def score_histogram_png(values: list[float], column: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.6), dpi=90)
    ax.hist(values, bins=20, range=(0, 1), color="#457b9d")
    ax.set_xlabel(column)
    ax.set_ylabel("alerts")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_report(path: Path, summary: dict, science: pa.Table | None) -> Path:
    """Write ``path`` (HTML, images inline) from the run summary and the science lake."""
    parts = ["<html><head><meta charset='utf-8'><title>fink-like run</title></head><body>",
             "<h1>fink-like run report</h1>",
             f"<pre>{html.escape(json.dumps(summary, indent=2))}</pre>"]
    if science is not None and science.num_rows:
        for column in SCORE_COLUMNS:
            if column in science.column_names:
                values = [v for v in science[column].to_pylist() if v is not None]
                if values:
                    parts.append(f"<h3>{column}</h3><img src='data:image/png;base64,"
                                 f"{score_histogram_png(values, column)}'/>")
        parts.append("<h2>Selected light curves</h2>")
        for column, row_index in select_objects(science):
            row = science.slice(row_index, 1).to_pylist()[0]
            scores = ", ".join(f"{c}={row[c]:.3f}" for c in SCORE_COLUMNS if row.get(c) is not None)
            title = f"{row['object_id']} ({row['survey']}) {scores}"
            parts.append(f"<div><img src='data:image/png;base64,{light_curve_png(row, title)}'/></div>")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts))
    return path
