"""Prometheus metrics: batch counts feed counters and the latency histogram, served over HTTP."""

import urllib.request

from fink_like.jobs.stages import PartitionStats
from fink_like.metrics import BrokerMetrics, serve


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{") and line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


def test_batch_counts_are_exposed_on_the_endpoint():
    metrics = BrokerMetrics()
    parts = [
        PartitionStats(consumed=10, raw=9, quarantined=1, quarantine_reasons={"truncated": 1},
                       science=9, archived=9, published={"t.sn": 3}, module_errors={"bnn": 1},
                       stage_seconds={"decode": 0.5}, module_seconds={"snia": 0.25},
                       latencies=[1.0, 3.0, 40.0]),
        PartitionStats(consumed=5, raw=5, science=5, archived=5, published={"t.sn": 1, "t.mu": 2},
                       latencies=[2.0]),
    ]
    metrics.observe_batch(parts)
    port = serve(metrics, 0)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert _sample(text, 'fink_like_alerts_total{stage="consumed"}') == 15
    assert _sample(text, 'fink_like_alerts_total{stage="published"}') == 6
    assert _sample(text, 'fink_like_quarantined_total{reason="truncated"}') == 1
    assert _sample(text, 'fink_like_module_errors_total{module="bnn"}') == 1
    assert _sample(text, 'fink_like_published_total{topic="t.sn"}') == 4
    assert _sample(text, 'fink_like_stage_seconds_total{stage="snia"}') == 0.25
    assert _sample(text, "fink_like_end_to_end_latency_seconds_count") == 4
    assert _sample(text, 'fink_like_end_to_end_latency_seconds_bucket{le="30.0"}') == 3
