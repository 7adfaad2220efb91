"""The final report of ``fink-like run``: counts per stage and topic, latency, scores, archive rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fink_like.config import Settings
from fink_like.jobs import lake


def score_summary(scores: dict[str, list]) -> dict:
    """Quantiles and a 10-bin histogram per score column."""
    out = {}
    for column, values in scores.items():
        if not values:
            continue
        v = np.asarray(values, dtype=float)
        counts, _ = np.histogram(v, bins=10, range=(0.0, 1.0))
        out[column] = {
            "n": int(v.size),
            "mean": round(float(v.mean()), 4),
            "quantiles": {q: round(float(np.quantile(v, float(q))), 4) for q in ("0.5", "0.9", "0.99")},
            "histogram_0_to_1": counts.tolist(),
        }
    return out


def topic_counts(settings: Settings, bootstrap_conf: dict) -> dict[str, int]:
    """Messages in each distribution topic (high minus low watermark, all partitions)."""
    from fink_like.kafka.admin import watermarks

    counts = {}
    for spec in settings.distribution.filters:
        if spec.enabled:
            marks = watermarks(bootstrap_conf, spec.topic)
            counts[spec.topic] = sum(high - low for low, high in marks.values())
    return counts


def archive_rows(settings: Settings) -> int:
    """Rows of the archive's main table (one per alert), counted by a key scan."""
    from fink_like.archive import model
    from fink_like.archive.query import Archive

    archive = Archive(settings)
    try:
        table = model.table_name(settings.archive.table_prefix, "alerts")
        return sum(1 for _ in archive.backend.scan(table))
    finally:
        archive.close()


def summarise(settings: Settings, result, report_dir: Path) -> tuple[dict, list[Path]]:
    """The summary dict printed at the end of a run, and the files written beside it."""
    from fink_like.jobs.driver import bootstrap_for
    from fink_like.jobs.html_report import write_report
    from fink_like.kafka.conf import client_conf

    totals = result.totals
    conf = client_conf(settings.kafka, bootstrap_for(settings))
    summary = {
        "alerts_replayed": result.produced,
        "replay_rate_per_s": round(result.produced / result.replay_seconds, 1) if result.replay_seconds else None,
        "stages": totals.as_dict(),
        "topics": topic_counts(settings, conf),
        "archive_rows": archive_rows(settings),
        "scores": score_summary(totals.scores),
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / "summary.json"
    json_path.write_text(json.dumps(summary, indent=2))
    science = None
    if totals.science:
        science = lake.read_lake(settings.lake_path("science"), s3=settings.lake)
    html_path = write_report(report_dir / "report.html", summary, science)
    return summary, [json_path, html_path]
