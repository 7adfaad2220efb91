"""``fink-like bench``: the whole pipeline at target rates, and the highest sustainable rate.

Each trial replays real alerts (cloned with new ids to fill ``duration`` seconds at
``rate`` alerts/s) through the main job on the embedded Kafka, and measures the
sustained rate, end-to-end latency percentiles, CPU and peak memory of the whole
process tree (driver, JVM, Python workers). A trial is *sustainable* when the broker
kept up (sustained rate at least 90 % of the target) and the p95 latency is within the
target. The reference ceiling, raw fastavro decode of the same alerts on one core, is
measured in the same run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from fink_like.config import Settings
from fink_like.errors import FinkLikeError
from fink_like.jobs.cpu_tree import CpuTree

log = logging.getLogger(__name__)
RETENTION = 120.0
"""distribution.retention_seconds of a trial when the configuration sets none."""


@dataclass
class Trial:
    rate: float
    alerts: int
    sustained_rate: float
    latency: dict
    cpu_seconds: float
    cpu_percent: float
    peak_rss_mb: float
    sustainable: bool
    peak_broker_rss_mb: float = 0.0  # the embedded broker's share of peak_rss_mb
    stages: dict = field(default_factory=dict)
    restarts: int = 0            # query restarts by the supervisor (a sustainable trial has none)
    lost_offsets: int = 0
    sink_errors: dict = field(default_factory=dict)
    peak_rss_by_component_mb: dict = field(default_factory=dict)  # see ResourceMonitor.COMPONENTS
    spool: dict = field(default_factory=dict)  # the load on disk: alerts, disk_mb, prepare_seconds (not in the trial)
    published: dict = field(default_factory=dict)  # messages per distribution topic (held by the broker)
    cpu_by_component: dict = field(default_factory=dict)  # CPU seconds per group (jobs/cpu_tree.py)
    cpu_timeline: list = field(default_factory=list)      # [(s since start, cpu_by_component so far)]
    settled_memory: dict = field(default_factory=dict)    # --settle-memory: bytes held as page cache, seconds


class ResourceMonitor(threading.Thread):
    """Samples CPU time and resident memory of this process and all its children.

    Peak memory is kept for the whole tree and per component (:data:`COMPONENTS`): this
    process (the bench, which is also the Spark driver and the replay's producer), the
    embedded broker (``tansu``), and the rest: Spark's JVM and its Python workers.
    """

    COMPONENTS = ("bench_driver", "spark_jvm_and_workers", "broker")

    def __init__(self, period: float = 0.5):
        super().__init__(name="resource-monitor", daemon=True)
        self.period, self._halt = period, threading.Event()
        self.tree = CpuTree()  # CPU by component (driver, replay, JVM, workers, planner, broker)
        self._cpu: dict[int, float] = {}
        self.peaks = dict.fromkeys(self.COMPONENTS, 0)
        self._sample()
        self._baseline = dict(self._cpu)  # CPU already spent before the trial is not counted
        self.peak_rss = 0
        self.peaks = dict.fromkeys(self.COMPONENTS, 0)
        self.started = time.perf_counter()

    @property
    def peak_broker_rss(self) -> int:
        return self.peaks["broker"]

    def _sample(self) -> None:
        self.tree.sample()
        me = psutil.Process()
        used = dict.fromkeys(self.COMPONENTS, 0)
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                self._cpu[proc.pid] = times.user + times.system
                rss = proc.memory_info().rss
                part = ("bench_driver" if proc.pid == me.pid
                        else "broker" if proc.name() == "tansu" else "spark_jvm_and_workers")
                used[part] += rss
            except psutil.Error:
                continue
        self.peak_rss = max(getattr(self, "peak_rss", 0), sum(used.values()))
        self.peaks = {k: max(self.peaks[k], used[k]) for k in self.COMPONENTS}

    def run(self) -> None:
        while not self._halt.wait(self.period):
            self._sample()

    def stop(self) -> tuple[float, float, float]:
        """(cpu seconds, wall seconds, peak RSS MB) since start."""
        self._halt.set()
        self._sample()
        spent = sum(cpu - self._baseline.get(pid, 0.0) for pid, cpu in self._cpu.items())
        return spent, time.perf_counter() - self.started, self.peak_rss / 2**20

    def peaks_mb(self) -> dict:
        return {k: round(v / 2**20, 1) for k, v in self.peaks.items()}


def decode_ceiling(messages: list[bytes], seconds: float = 3.0) -> float:
    """Raw fastavro decode alerts/s (one core), the reference for every ratio."""
    from fink_like.surveys import decode_packet

    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for value in messages:
            decode_packet(value)
        n += len(messages)
    return n / (time.perf_counter() - t0)


@contextlib.contextmanager
def settled_memory(folder: Path, reserve: int = 2 << 30, size: int | None = None, chunk: int = 64 << 20):
    """Hold the machine's free memory as page cache while the benchmark runs; yields a summary.

    A broker that has run for a while has its memory in use, most of it page cache of
    the lake and archive files it wrote, which the kernel recycles for new writes. A
    freshly started machine instead has gigabytes of free memory, and a virtual machine
    with *free page reporting* (Firecracker's ``page_reporting``, the sandbox of
    ``docs/benchmarks.md``) has handed those pages back to its host: the first write
    into each of them costs a host fault (``bin/bench_first_touch`` measures it against
    a write over recycled page cache). Until the trial's own writes have filled the
    memory once, the pipeline pays that on every page it touches.

    This writes a file of ``size`` bytes (default: free memory less ``reserve``) under
    ``folder`` and keeps it, clean and cached, until the ``with`` block ends, when it is
    deleted. The kernel then reclaims its pages for the trial, as it would on a broker
    that has been running. Disk: ``size`` bytes more for the duration.
    """
    import psutil

    from fink_like.simulator.spool import check_disk

    size = max(0, psutil.virtual_memory().free - reserve) if size is None else size
    size -= size % chunk
    path = folder / "settled-memory.fill"
    summary = {"bytes": size, "seconds": 0.0}
    if size <= 0:
        yield summary
        return
    check_disk(folder, size, "--settle-memory")
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        write_zeros(path, size, chunk)
        summary["seconds"] = round(time.perf_counter() - t0, 1)
        log.info("memory settled", extra={"gb": round(size / 1e9, 1), "seconds": summary["seconds"]})
        yield summary
    finally:
        path.unlink(missing_ok=True)


def write_zeros(path: Path, size: int, chunk: int = 64 << 20) -> None:
    """Write ``size`` zero bytes (whole chunks) to ``path`` and fsync them: clean page cache,
    which the kernel reclaims without writing it back first."""
    block = bytes(chunk)
    with open(path, "wb") as out:
        for _ in range(size // chunk):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


def trial_settings(settings: Settings, root: Path, index: int) -> Settings:
    from fink_like.jobs.runs import relocated

    data = relocated(settings, root / f"trial-{index}", root / "kafka")
    data["metrics"]["enabled"] = False
    data["simulator"]["ztf_topic"] = f"bench-{index}-ztf"
    data["simulator"]["lsst_topic"] = f"bench-{index}-lsst"
    data["input"]["topics"] = [data["simulator"]["ztf_topic"], data["simulator"]["lsst_topic"]]
    data["input"]["topic_pattern"] = None
    for spec in data["distribution"]["filters"]:
        spec["topic"] = f"bench-{index}-{spec['topic']}"
    # Nobody reads a trial's topics: keep the embedded broker's memory bounded in long trials.
    data["distribution"]["retention_seconds"] = data["distribution"].get("retention_seconds") or RETENTION
    return Settings.model_validate(data)


@dataclass
class Measured:
    """One spooled run of the main job and what it cost (:func:`spooled_run`)."""

    result: object            # fink_like.jobs.main_job.RunResult
    cpu_seconds: float
    wall_seconds: float
    peak_rss_mb: float
    peaks_mb: dict            # ResourceMonitor.peaks_mb()
    spool: dict               # Spool.summary()
    cpu_by_component: dict = field(default_factory=dict)  # CpuTree.spent()
    cpu_timeline: list = field(default_factory=list)      # CpuTree.timeline


def spooled_run(settings: Settings, root: Path, index: int, count: int, rate: float | None,
                timeout: float, keep_data: bool = False, seed: int = 0) -> Measured:
    """Spool ``count`` alerts, then replay them at ``rate`` (None: at once) through the main
    job, under a :class:`ResourceMonitor`; the spool is deleted after unless ``keep_data``."""
    from fink_like.jobs.main_job import RunOptions, run_broker

    s = trial_settings(settings, root, index)
    spool = trial_spool(settings, root / f"trial-{index}", count, seed)
    try:
        monitor = ResourceMonitor()
        monitor.start()
        result = run_broker(s, RunOptions(data_dir="", rate=rate, messages=spool_batches(s, spool),
                                          progress=False, timeout=timeout))
        cpu, wall, peak = monitor.stop()
    finally:
        if not keep_data:
            spool.delete()
    return Measured(result, cpu, wall, peak, monitor.peaks_mb(), spool.summary(),
                    monitor.tree.spent(), monitor.tree.timeline)


def run_trial(settings: Settings, root: Path, index: int, rate: float, duration: float,
              p95_target: float, keep_data: bool = False, seed: int = 0) -> Trial:
    """Replay ``rate * duration`` alerts at ``rate`` from a spool written first, and measure."""
    run = spooled_run(settings, root, index, max(int(rate * duration), 1), rate,
                      max(600.0, 10 * duration), keep_data, seed)
    result, cpu, wall = run.result, run.cpu_seconds, run.wall_seconds
    sustained = result.totals.consumed / result.wall_seconds if result.wall_seconds else 0.0
    latency = {k: round(v, 2) for k, v in result.totals.latency_percentiles().items()}
    totals = result.totals
    ok = (sustained >= 0.9 * rate and latency.get("p95", math.inf) <= p95_target
          and totals.restarts == 0 and not totals.sink_errors)
    return Trial(rate=rate, alerts=result.totals.consumed, sustained_rate=round(sustained, 1),
                 latency=latency, cpu_seconds=round(cpu, 1), cpu_percent=round(100 * cpu / wall, 1),
                 peak_rss_mb=round(run.peak_rss_mb, 1), sustainable=ok,
                 peak_broker_rss_mb=run.peaks_mb["broker"],
                 stages={k: round(v, 2) for k, v in result.totals.stage_seconds.items()},
                 restarts=totals.restarts, lost_offsets=totals.lost, sink_errors=dict(totals.sink_errors),
                 peak_rss_by_component_mb=run.peaks_mb, spool=run.spool,
                 published=dict(totals.published),
                 cpu_by_component=run.cpu_by_component, cpu_timeline=run.cpu_timeline)


def trial_spool(settings: Settings, folder: Path, count: int, seed: int = 0):
    """``count`` real alerts (ZTF and Rubin mixed, cloned as needed) on disk under ``folder``."""
    from fink_like.simulator.spool import build_spool

    # Each alert is written again to the raw lake, the science lake and the archive.
    spool = build_spool(alert_folders(settings.simulator.data_dir), count, folder / "spool", seed, outputs=3)
    log.info("load spooled", extra=spool.summary())
    return spool


def spool_batches(settings: Settings, spool) -> list:
    """``(topic, stream)`` per survey, the streams read from disk as the replay sends them."""
    topics = {"ztf": settings.simulator.ztf_topic, "lsst": settings.simulator.lsst_topic}
    return [(topics[survey], stream) for survey, stream in spool.streams.items()]


def alert_folders(data_dir: str) -> list[Path]:
    folders = [p for p in (Path(data_dir) / "ztf", Path(data_dir) / "lsst") if p.is_dir()]
    if not folders:
        raise FinkLikeError(f"no ztf/ or lsst/ alert folder under {data_dir} (simulator.data_dir)")
    return folders


def drop_trial(settings: Settings, bootstrap: str, folder: Path) -> None:
    """Free what a finished trial holds: its topics on the embedded broker (memory) and its files."""
    import shutil

    from fink_like.kafka.admin import delete_topics
    from fink_like.kafka.conf import client_conf

    from fink_like.kafka.admin import list_topics
    from fink_like.kafka.retention import split_segment

    conf = client_conf(settings.kafka, bootstrap)
    bases = {*settings.input.topics, *(f.topic for f in settings.distribution.filters)}
    topics = list(bases)
    try:
        topics += [t for t in list_topics(conf) if (split_segment(t) or ("",))[0] in bases]
        delete_topics(conf, topics)
    except FinkLikeError as exc:  # the next trial uses new topics anyway
        log.warning("could not delete the trial's topics: %s", exc)
    shutil.rmtree(folder, ignore_errors=True)


def ceiling_messages(data_dir: str, count: int = 400, seed: int = 0) -> list[bytes]:
    """The first ``count`` real alerts in the benchmark's mixed order, for :func:`decode_ceiling`."""
    from fink_like.simulator import load_alerts

    alerts = load_alerts(alert_folders(data_dir))
    # Interleaved like the replay, so that the prefix mixes both surveys like a real night.
    alerts.sort(key=lambda m: zlib.crc32(m.key) ^ seed)
    return [m.value for m in alerts[:count]]
