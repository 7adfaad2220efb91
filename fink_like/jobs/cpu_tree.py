"""CPU seconds of a process tree, grouped by what each process (or driver thread) does.

``fink-like bench`` runs everything on one machine: the driver (Python, with the replay
thread and its Kafka producer), the Spark JVM (driver and executor in one process in
local mode), the Python workers the JVM forks (tasks, and the source's planner), and the
embedded broker (tansu). :func:`component_of` names the group of one process from its
command line; :class:`CpuTree` samples cumulative CPU per process (and per thread of the
driver, so the replay producer is told apart from the rest of the driver) and reports
the growth since it was created.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psutil

COMPONENTS = ("driver", "replay", "jvm", "python_workers", "source_planner", "broker", "other")


def component_of(name: str, cmdline: list[str]) -> str:
    """The group of a process from its name and command line (one of :data:`COMPONENTS`)."""
    program = Path(cmdline[0]).name if cmdline else name
    line = " ".join(cmdline)
    if "tansu" in (name, program):
        return "broker"
    if "java" in (name, program):
        return "jvm"
    if "python_streaming_source_runner" in line:
        return "source_planner"
    if "daemon" in line or "pyspark.worker" in line:
        return "python_workers"
    return "other"


def _thread_seconds(tid: int) -> float | None:
    """CPU seconds of this process's thread ``tid`` (None once it has exited)."""
    try:
        fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


class CpuTree:
    """Cumulative CPU seconds per component of this process and its descendants.

    The replay group is the driver's ``replay`` thread and the librdkafka threads it
    starts (``rdk:*``, named by librdkafka) while it runs; whatever else the driver
    process spends is ``driver``. A process that exits between two samples keeps the
    CPU of its last sample (sample often enough for short-lived workers).
    """

    def __init__(self, every: float = 5.0):
        self.every, self.timeline = every, []  # [(seconds since start, CPU by component)], every ``every`` s
        self._started = time.perf_counter()
        self._seconds: dict[int, tuple[str, float]] = {}
        self._replay_tids: set[int] = set()
        self._threads: dict[int, float] = {}  # last CPU seen per replay thread (kept after it exits)
        self.sample()
        self._baseline = self.totals()

    def sample(self) -> None:
        me = psutil.Process()
        for thread in threading.enumerate():
            if thread.name == "replay" and thread.native_id:
                self._replay_tids.add(thread.native_id)
        for task in Path("/proc/self/task").iterdir():
            try:
                if Path(task, "comm").read_text().startswith("rdk:"):
                    self._replay_tids.add(int(task.name))
            except OSError:
                continue
        for tid in self._replay_tids:
            seconds = _thread_seconds(tid)
            if seconds is not None:
                self._threads[tid] = seconds
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
                group = "driver" if proc.pid == me.pid else component_of(proc.name(), proc.cmdline())
            except psutil.Error:
                continue
            self._seconds[proc.pid] = (group, times.user + times.system)
        elapsed = time.perf_counter() - self._started
        if hasattr(self, "_baseline") and (not self.timeline or elapsed - self.timeline[-1][0] >= self.every):
            self.timeline.append((round(elapsed, 1), self.spent()))

    def totals(self) -> dict[str, float]:
        """Cumulative CPU seconds by component (every component present, zero when unused)."""
        out = dict.fromkeys(COMPONENTS, 0.0)
        for group, seconds in self._seconds.values():
            out[group] += seconds
        out["replay"] = sum(self._threads.values())
        out["driver"] -= out["replay"]
        return out

    def spent(self) -> dict[str, float]:
        """CPU seconds by component since this object was created."""
        now = self.totals()
        return {k: round(now[k] - self._baseline.get(k, 0.0), 2) for k in COMPONENTS}
