"""The main job (``fink-like run``): replay, the whole pipeline, the final report."""

from pathlib import Path

import pytest

from fink_like.config import load_settings
from fink_like.jobs.main_job import RunOptions, pipeline_stages, run_broker
from fink_like.jobs.run_report import summarise

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

ROOT = Path(__file__).resolve().parents[2]


def test_run_replays_and_reports(spark, job_settings, fresh_topic, shared_data, tmp_path):
    local = load_settings(ROOT / "conf" / "local.yaml", env={})
    prefix = fresh_topic("main")
    filters = [{**f.model_dump(), "topic": f"{prefix}.{f.name}"} for f in local.distribution.filters]
    settings = job_settings(
        f"{prefix}.ztf",
        science=local.science.model_dump(),
        distribution={"filters": filters, "schema_topic": f"{prefix}.schemas"},
        simulator={"ztf_topic": f"{prefix}.ztf", "lsst_topic": f"{prefix}.lsst"},
        input={"topics": [f"{prefix}.ztf", f"{prefix}.lsst"]},
        metrics={"enabled": False},
    )
    assert pipeline_stages(settings) == ("raw", "science", "archive", "distribute")
    result = run_broker(settings, RunOptions(data_dir=str(shared_data), rate=200.0, limit=40,
                                             progress=False, timeout=600))
    assert result.produced == 80  # 40 per survey
    totals = result.totals
    assert totals.consumed == totals.raw == totals.science == totals.archived == 80
    summary, files = summarise(settings, result, tmp_path / "report")
    assert summary["archive_rows"] == 80
    assert summary["topics"] == {t: n for t, n in totals.published.items()}
    assert set(summary["stages"]["latency_seconds"]) == {"p50", "p95", "p99"}
    assert {"snia_prob", "mulens_prob", "bnn_snia_mean"} <= set(summary["scores"])
    assert sum(summary["latency_histogram"]["counts"]) == len(totals.latencies)
    html = (tmp_path / "report" / "report.html").read_text()
    assert "<h1>Run report</h1>" in html and html.count('class="bar"') >= 6 + len(summary["topics"])
    assert all(f"<td data-v='{t}'>{t}</td><td data-v='{n}'>{n}</td>" in html for t, n in summary["topics"].items())
    base = f"http://{settings.api.host}:{settings.api.port}/portal/objects/"
    assert html.count(f"href='{base}") >= 1  # links to the newest objects of each class
    assert all(f.exists() for f in files)
