"""The broker as one service: embedded Kafka, a replayed night, and the whole pipeline.

``fink-like run`` (``make run``) calls :func:`run_broker`: it starts the embedded Kafka
(or uses the configured cluster), replays real alerts at a realistic rate into the
survey topics, runs ingestion -> science -> filters and topics -> archive as one
streaming query, and stops once every replayed alert has been processed. Stages whose
configuration is empty (no modules, no filters) are left out, so the job runs whatever
the pipeline holds.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from fink_like.config import Settings
from fink_like.errors import FinkLikeError
from fink_like.jobs.report import Totals

log = logging.getLogger("fink_like.run")


@dataclass(frozen=True)
class RunOptions:
    """What ``fink-like run`` replays and how long it may take."""

    data_dir: str
    rate: float | None             # alerts/s; None sends as fast as the producer can (a burst)
    clone_factor: int = 1
    limit: int | None = None
    messages: list | None = None   # (topic, (key, value) sequence) to replay instead of data_dir;
    #                                a sequence may be a spool on disk (len() and iteration only)
    timeout: float = 1800.0
    report_dir: str | None = None
    progress: bool = True


@dataclass
class RunResult:
    totals: Totals
    produced: int
    replay_seconds: float
    wall_seconds: float = 0.0     # replay start -> every alert processed
    topic_counts: dict = field(default_factory=dict)
    archive_rows: int | None = None
    run_dir: str = ""
    report_files: list = field(default_factory=list)


def pipeline_stages(settings: Settings) -> tuple[str, ...]:
    """raw always; science with modules; archive; distribute with filters or live filters."""
    stages = ["raw"]
    if any(m.enabled for m in settings.science.modules):
        stages.append("science")
    stages.append("archive")
    if settings.distribution.live_filters or any(f.enabled for f in settings.distribution.filters):
        stages.append("distribute")
    return tuple(stages)


class Replay(threading.Thread):
    """Replays messages into the survey topics at ``rate`` alerts/s, in a background thread."""

    def __init__(self, batches: list[tuple[str, list]], conf: dict, rate: float | None,
                 finished: threading.Condition, roll: int = 0):
        super().__init__(name="replay", daemon=True)
        self.batches, self.conf, self.rate, self.finished = batches, conf, rate, finished
        self.roll = roll
        self.sent = 0
        self.seconds = 0.0
        self.error: BaseException | None = None

    @property
    def total(self) -> int:
        return sum(len(messages) for _topic, messages in self.batches)

    def run(self) -> None:
        from fink_like.simulator import replay_many

        t0 = time.perf_counter()
        try:
            report = replay_many(self.batches, self.conf, rate=self.rate, roll=self.roll)
            self.sent = report.sent
        except BaseException as exc:  # reported by the waiting driver
            self.error = exc
        self.seconds = time.perf_counter() - t0
        with self.finished:
            self.finished.notify_all()


class Progress:
    """A one-line progress bar on the driver, redrawn after each batch."""

    def __init__(self, total: int, enabled: bool = True, width: int = 30):
        self.total, self.enabled, self.width = max(total, 1), enabled, width
        self.done = threading.Condition()

    def __call__(self, batch_id, parts, totals: Totals) -> None:
        if self.enabled:
            frac = min(totals.consumed / self.total, 1.0)
            bar = "#" * int(frac * self.width)
            lat = totals.latency_percentiles().get("p95")
            print(f"\r[{bar:<{self.width}}] {totals.consumed}/{self.total} alerts | "
                  f"quarantined {totals.quarantined} | published {sum(totals.published.values())} | "
                  f"p95 {lat if lat is None else round(lat, 1)} s | batch {batch_id}",
                  end="", flush=True)
        with self.done:
            self.done.notify_all()


def run_broker(settings: Settings, options: RunOptions) -> RunResult:
    """Run the whole broker on a replayed night; returns once every alert went through."""
    from fink_like.jobs.driver import bootstrap_for, detach, pruning, supervise
    from fink_like.jobs.spark import get_spark
    from fink_like.jobs.stream import start
    from fink_like.kafka.admin import ensure_topics
    from fink_like.kafka.conf import client_conf
    from fink_like.metrics import job_metrics

    from fink_like.jobs.preflight import preflight

    stages = pipeline_stages(settings)
    preflight(settings)  # fail fast: modules, quality cuts, filters
    bootstrap = bootstrap_for(settings)
    conf = client_conf(settings.kafka, bootstrap)
    batches = options.messages or replay_batches(settings, options)
    topics = [t for t, _ in batches] + [f.topic for f in settings.distribution.filters if f.enabled]
    ensure_topics(conf, sorted(set(topics)))
    metrics = job_metrics(settings, "run")
    spark = get_spark(settings)
    ready = threading.Event()
    listeners = [metrics.listener(ready), *pruning(settings, bootstrap)]
    for listener in listeners:
        spark.streams.addListener(listener)
    progress = Progress(sum(len(m) for _t, m in batches), options.progress)
    replay = Replay(batches, conf, options.rate, progress.done, settings.kafka.roll_messages)
    totals = Totals()

    def on_batch(batch_id, parts, running):
        metrics.observe_batch(parts)
        progress(batch_id, parts, running)

    def launch():
        return start(spark, settings, source="kafka", stages=stages, name="run", bootstrap=bootstrap,
                     on_batch=on_batch, warm=True, totals=totals)[0]

    supervisor = supervise(launch, "run", settings, metrics, totals)
    try:
        # A broker is up before the night starts: replay once the query has run its first
        # (empty) trigger, so latencies measure the pipeline, not the JVM's start-up.
        _wait_ready(supervisor, ready, options.timeout)
        t0 = time.perf_counter()
        replay.start()
        _wait_until_drained(supervisor, replay, totals, progress, options.timeout)
        wall = time.perf_counter() - t0
        supervisor.query.processAllAvailable()  # the last batch's commit is written before stopping
    finally:
        supervisor.stop()
        detach(spark, listeners)
        if "archive" in stages:
            from fink_like.archive.backends import close_archive

            close_archive(settings)  # the .sqlite file alone holds the run's archive
        if options.progress:
            print()
    return RunResult(totals=totals, produced=replay.sent, replay_seconds=replay.seconds,
                     wall_seconds=wall)


def _wait_ready(supervisor, ready: threading.Event, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready.wait(min(1.0, max(0.0, deadline - time.monotonic()))):
        if not supervisor.alive():
            raise FinkLikeError("the streaming query stopped before its first trigger")
        if time.monotonic() > deadline:
            raise FinkLikeError(f"the streaming query did not start within {timeout:.0f} s")


def _wait_until_drained(supervisor, replay: Replay, totals: Totals, progress: Progress,
                        timeout: float, step: float = 1.0) -> None:
    """Until every replayed alert is processed; a dead query is noticed within ``step`` s."""
    deadline = time.monotonic() + timeout
    with progress.done:
        while True:
            if replay.error is not None:
                raise FinkLikeError(f"the alert replay failed: {replay.error}") from replay.error
            if not supervisor.alive():  # restarts a failed query, raises once restarts are spent
                raise FinkLikeError("the streaming query stopped before every alert was processed")
            if not replay.is_alive() and totals.consumed + totals.lost >= replay.sent:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FinkLikeError(f"timed out after {timeout:.0f} s with {totals.consumed} of "
                                    f"{replay.total} alerts processed")
            # Woken by every finished batch and by the end of the replay; at the latest
            # after ``step`` s, to look at the query itself.
            progress.done.wait(min(step, remaining))


def replay_batches(settings: Settings, options: RunOptions) -> list[tuple[str, list]]:
    """(topic, messages) per survey from ``options.data_dir`` (``ztf/`` and ``lsst/`` folders).

    Without either folder, a synthetic night from the light-curve simulator is replayed
    instead: ``options.limit`` alerts (default 2,000), split between ZTF and Rubin.
    """
    from fink_like.simulator import load_messages, synthetic_night

    sim = settings.simulator
    root = Path(options.data_dir)
    out = []
    for folder, topic in (("ztf", sim.ztf_topic), ("lsst", sim.lsst_topic)):
        if (root / folder).is_dir():
            skipped: list[tuple[str, str]] = []
            messages = load_messages(root / folder, clone_factor=options.clone_factor, skipped=skipped)
            for path, reason in skipped:
                log.warning("alert file skipped", extra={"file": path, "reason": reason})
            out.append((topic, messages[: options.limit] if options.limit else messages))
    if not out:
        count = options.limit or 2000  # the documented default of a synthetic night
        log.info("no ztf/ or lsst/ alert folder: replaying a synthetic night",
                 extra={"data_dir": str(root), "alerts": count})
        night = synthetic_night(count)
        topics = {"ztf": sim.ztf_topic, "lsst": sim.lsst_topic}
        for survey in ("ztf", "lsst"):
            messages = [(m.key, m.value) for m in night if m.survey == survey]
            if messages:
                out.append((topics[survey], messages))
    return out
