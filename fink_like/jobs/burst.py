"""``fink-like bench --burst N``: one Rubin visit's alerts at once into the running main job.

A Rubin visit releases up to ~10,000 alerts within seconds. The burst trial writes N real
alerts (ZTF and Rubin mixed, cloned as needed) to a spool first, starts the main job
(all modules, topics, archive) and waits for its first (empty) trigger, then produces
all N as fast as the producer can and measures:

* ``produce_seconds``: from the first message sent to the last one acknowledged;
* ``processed_seconds``: from the first message sent until the last alert's micro-batch
  is done (topics delivered and the archive written: a batch ends after every sink);
* latency percentiles (each alert's Kafka timestamp to its partition's topic delivery)
  and the maximum;
* ``met_target``: everything processed within ``target`` seconds (30 s by default) with no
  query restart and no sink error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from fink_like.config import Settings


@dataclass
class Burst:
    alerts: int
    produce_seconds: float
    produce_rate: float          # alerts/s the producer achieved
    processed_seconds: float
    latency: dict                # p50, p95, p99, max (s)
    target_seconds: float
    met_target: bool
    cpu_seconds: float
    peak_rss_mb: float
    peak_rss_by_component_mb: dict = field(default_factory=dict)
    spool: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)
    batches: int = 0
    restarts: int = 0
    lost_offsets: int = 0
    sink_errors: dict = field(default_factory=dict)
    published: dict = field(default_factory=dict)  # messages per distribution topic
    settled_memory: dict = field(default_factory=dict)  # --settle-memory (fink_like.jobs.bench.settled_memory)


def run_burst(settings: Settings, root: Path, count: int, target: float = 30.0,
              keep_data: bool = False, seed: int = 0) -> Burst:
    """Send ``count`` alerts at once into the running main job and measure until all are processed."""
    from fink_like.jobs.bench import spooled_run

    run = spooled_run(settings, root, 0, count, None, max(600.0, 20 * target), keep_data, seed)
    result = run.result
    totals = result.totals
    latency = {k: round(v, 2) for k, v in totals.latency_percentiles().items()}
    if totals.latencies:
        latency["max"] = round(max(totals.latencies), 2)
    met = (result.wall_seconds <= target and totals.consumed >= count and totals.restarts == 0
           and not totals.sink_errors and latency.get("max", math.inf) <= target)
    return Burst(alerts=totals.consumed, produce_seconds=round(result.replay_seconds, 2),
                 produce_rate=round(result.produced / result.replay_seconds, 1) if result.replay_seconds else 0.0,
                 processed_seconds=round(result.wall_seconds, 2), latency=latency, target_seconds=target,
                 met_target=met, cpu_seconds=round(run.cpu_seconds, 1), peak_rss_mb=round(run.peak_rss_mb, 1),
                 peak_rss_by_component_mb=run.peaks_mb, spool=run.spool,
                 stages={k: round(v, 2) for k, v in totals.stage_seconds.items()}, batches=totals.batches,
                 restarts=totals.restarts, lost_offsets=totals.lost, sink_errors=dict(totals.sink_errors),
                 published=dict(totals.published))
