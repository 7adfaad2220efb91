"""The final report of ``fink-like run``: counts per stage and topic, latency, scores, archive rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fink_like.config import Settings


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


def latency_histogram(latencies: list[float]) -> dict:
    """Alerts per latency bucket, with the bucket bounds of the Prometheus latency histogram.

    ``le`` are upper bounds in seconds (the last is infinity, written ``null``) and
    ``counts`` the alerts in each bucket, not cumulative.
    """
    from fink_like.metrics import LATENCY_BUCKETS

    edges = [0.0, *LATENCY_BUCKETS, np.inf]
    counts, _ = np.histogram(np.asarray(latencies, dtype=float), bins=edges)
    return {"le": [*LATENCY_BUCKETS, None], "counts": counts.tolist()}


def write_report_page(settings: Settings, summary: dict, path: Path) -> Path:
    """``report.html``: the portal's report page, object links pointing at ``api.host:api.port``."""
    from fink_like.api.portal import report
    from fink_like.archive.query import Archive

    archive = Archive(settings)
    try:
        objects = report.notable_objects(archive)
    finally:
        archive.close()
    path.write_text(report.render(summary, objects, base_url=f"http://{settings.api.host}:{settings.api.port}"))
    return path


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
        "latency_histogram": latency_histogram(totals.latencies),
    }
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path = report_dir / "summary.json"
    json_path.write_text(json.dumps(summary, indent=2))
    html_path = write_report_page(settings, summary, report_dir / "report.html")
    return summary, [json_path, html_path]
