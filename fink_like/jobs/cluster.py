"""A real Spark standalone cluster on one machine: a master and N workers on loopback.

Started from the pyspark installation's own ``bin/spark-class`` (no separate Spark
download). Each process runs detached, in its own session, with its pid, port and log
files in ``cluster.state_dir``, so a later command finds it again (as the embedded
Kafka does). Workers run executors with the project's interpreter (``PYSPARK_PYTHON``),
and the jobs' Spark configuration forks their Python workers from the preloading
daemon (``spark.preload_workers``).

Examples
--------
>>> cluster = LocalCluster(settings.cluster)          # doctest: +SKIP
>>> cluster.start(workers=2)                           # doctest: +SKIP
'spark://127.0.0.1:38211'
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fink_like.errors import ConfigError, FinkLikeError
from fink_like.kafka.embedded import free_port

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
MASTER_ATTEMPTS = 3
"""A master that cannot bind its free port (taken between choice and bind) is retried this often."""
_BOUND = {"master": re.compile(r"Successfully started service 'sparkMaster' on port (\d+)"),
          "webui": re.compile(r"Successfully started service 'MasterUI' on port (\d+)")}
_BIND_FAILED = re.compile(r"BindException|Address already in use|could not bind|Failed to bind")

log = logging.getLogger(__name__)


class ClusterError(FinkLikeError):
    """The local Spark cluster could not be started, reached or stopped."""


def spark_home() -> Path:
    """pyspark's own Spark distribution (``bin/spark-class`` and ``jars/``)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    if not os.access(home / "bin" / "spark-class", os.X_OK):
        raise ClusterError(f"{home}/bin/spark-class is missing or not executable: reinstall pyspark")
    return home


def _stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks)`` of ``pid`` from ``/proc``, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def _alive(pid: int, started: str | None) -> bool:
    """True while ``pid`` runs and is the process started at ``started`` (a recycled pid is not).

    The start time, not the command line, identifies the process: ``/proc/PID/cmdline``
    reads empty for an instant while ``spark-class`` execs the JVM, which once made a
    healthy master look dead.
    """
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and (started is None or stat[1] == started)


class LocalCluster:
    """Master and workers described by ``settings`` (a :class:`fink_like.config.ClusterSettings`)."""

    def __init__(self, settings):
        self.settings = settings
        self.state = Path(settings.state_dir)
        self._procs: dict[str, subprocess.Popen] = {}  # the processes this object started

    # -- files ----------------------------------------------------------------------------

    def _file(self, role: str, kind: str) -> Path:
        return self.state / f"{role}.{kind}"

    def _records(self) -> dict[str, tuple[int, str | None]]:
        """``role -> (pid, start time)`` from the pid files (``PID START`` per file)."""
        out = {}
        for path in sorted(self.state.glob("*.pid")):
            fields = path.read_text().split()
            try:
                out[path.stem] = (int(fields[0]), fields[1] if len(fields) > 1 else None)
            except (ValueError, IndexError):
                continue
        return out

    def _pids(self) -> dict[str, int]:
        return {role: pid for role, (pid, _) in self._records().items()}

    def _running(self) -> dict[str, bool]:
        return {role: _alive(pid, started) for role, (pid, started) in self._records().items()}

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, workers: int | None = None, timeout: float = 120.0) -> str:
        """Start the master and ``workers`` workers (default ``cluster.workers``); return its URL.

        A running cluster is reused. Raises ClusterError, quoting the log, when a process
        exits or the workers do not register within ``timeout`` seconds.
        """
        workers = self.settings.workers if workers is None else workers
        if workers < 1:
            raise ConfigError(f"cluster.workers: at least 1 worker is needed, got {workers}")
        info = self.status()
        if info is not None:
            return info["master"]
        self.state.mkdir(parents=True, exist_ok=True)
        url = self._start_master(timeout)
        for i in range(workers):
            self._spawn(f"worker-{i}", [WORKER_CLASS, "--host", "127.0.0.1", "--cores",
                                        str(self.settings.worker_cores), "--memory", self.settings.worker_memory,
                                        "--work-dir", str(self.state / f"work-{i}"),
                                        "--webui-port", str(free_port()), url])
        self._wait_workers(workers, timeout)
        return url

    def _start_master(self, timeout: float) -> str:
        """Start the master; return its URL once its log names the ports it bound.

        Spark moves to the next port when one is taken; the URL and web UI port are
        read from the log, so workers always join this master. A master that dies
        on a taken port (chosen free, taken before it bound) is restarted on new free
        ports, at most :data:`MASTER_ATTEMPTS` times; with ``cluster.master_port`` set
        the port is the user's choice and is not changed.
        """
        for attempt in range(1, MASTER_ATTEMPTS + 1):
            port, webui = self.settings.master_port or free_port(), free_port()
            start = self._spawn("master", [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port),
                                           "--webui-port", str(webui)])
            bound, why = self._wait_master(start, timeout)
            if bound is not None:
                url = f"spark://127.0.0.1:{bound[0]}"
                if self.settings.master_port and bound[0] != self.settings.master_port:
                    self.stop()
                    raise ClusterError(f"cluster.master_port {port} is taken: the master bound {bound[0]}")
                self._file("master", "port").write_text(f"{url}\n{bound[1]}\n")
                return url
            self.stop()
            if self.settings.master_port or not _BIND_FAILED.search(why):
                raise ClusterError(f"spark master exited: {why}")
            if attempt < MASTER_ATTEMPTS:
                log.warning("spark master could not bind port %d or %d (%s); retrying on new free ports "
                            "(attempt %d of %d)", port, webui, why, attempt + 1, MASTER_ATTEMPTS)
        raise ClusterError(f"spark master could not bind free ports in {MASTER_ATTEMPTS} attempts: {why}")

    def _wait_master(self, log_start: int, timeout: float) -> tuple[tuple[int, int] | None, str]:
        """``((port, web UI port), "")`` once the master's log names both, else ``(None, why it exited)``."""
        deadline = time.monotonic() + timeout
        while True:
            text = self._log_since("master", log_start)
            found = [pattern.search(text) for pattern in _BOUND.values()]
            if all(found):
                return (int(found[0].group(1)), int(found[1].group(1))), ""
            if not self._running().get("master"):
                return None, self._exit_reason("master")
            if time.monotonic() > deadline:
                self.stop()
                raise ClusterError(f"the Spark master did not start within {timeout:.0f} s (logs in {self.state})")
            time.sleep(0.2)  # polling interval of the readiness loop

    def _log_since(self, role: str, offset: int) -> str:
        try:
            with open(self._file(role, "log"), "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def _spawn(self, role: str, args: list[str]) -> int:
        """Start one process detached; return the size its log had before (where its output starts)."""
        # The REST submission server would take the fixed port 6066: nothing here uses it.
        master_opts = f"{os.environ.get('SPARK_MASTER_OPTS', '')} -Dspark.master.rest.enabled=false".strip()
        env = {**os.environ, "SPARK_HOME": str(spark_home()), "PYSPARK_PYTHON": sys.executable,
               "SPARK_LOG_DIR": str(self.state), "SPARK_NO_DAEMONIZE": "1", "SPARK_MASTER_OPTS": master_opts}
        cmd = [str(spark_home() / "bin" / "spark-class"), *args]
        with open(self._file(role, "log"), "ab") as out:
            start = out.tell()
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        self._procs[role] = proc
        stat = _stat(proc.pid)
        self._file(role, "pid").write_text(f"{proc.pid} {stat[1] if stat else ''}\n")
        return start

    def _wait_workers(self, expected: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            dead = [role for role, running in self._running().items() if not running]
            if dead:
                why = self._exit_reason(dead[0])
                self.stop()
                raise ClusterError(f"spark {dead[0]} exited: {why}")
            state = self._master_json()
            alive = [w for w in (state or {}).get("workers", []) if w.get("state") == "ALIVE"]
            if len(alive) >= expected:
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ClusterError(f"{len(alive)} of {expected} Spark workers registered within {timeout:.0f} s "
                                   f"(logs in {self.state})")
            time.sleep(0.5)  # polling interval of the readiness loop

    def _master_json(self) -> dict | None:
        try:
            webui = int(self._file("master", "port").read_text().split()[1])
            with urllib.request.urlopen(f"http://127.0.0.1:{webui}/json/", timeout=2) as r:
                return json.loads(r.read())
        except (OSError, ValueError, IndexError):
            return None

    def _exit_reason(self, role: str) -> str:
        """``(exit status N) <last log lines>`` of a process that has died (N is None if not our child)."""
        proc = self._procs.get(role)
        code = proc.poll() if proc is not None else None
        return f"(exit status {code}) {self._tail(role) or '(empty log)'}"

    def _tail(self, role: str, lines: int = 5) -> str:
        try:
            text = self._file(role, "log").read_text(errors="replace").strip().splitlines()
            return " | ".join(text[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def status(self) -> dict | None:
        """``{"master", "webui", "workers": [...], "pids"}`` of a running cluster, else None."""
        pids, running = self._pids(), self._running()
        if not running.get("master") or not self._file("master", "port").exists():
            return None  # none, or a master still starting (its ports are not known yet)
        url, webui = self._file("master", "port").read_text().split()[:2]
        state = self._master_json() or {}
        workers = [{"id": w.get("id"), "cores": w.get("cores"), "memory_mb": w.get("memory"),
                    "state": w.get("state")} for w in state.get("workers", [])]
        return {"master": url, "webui": f"http://127.0.0.1:{webui}", "workers": workers,
                "pids": {role: pid for role, pid in pids.items() if running[role]}, "logs": str(self.state)}

    def _reap(self, role: str) -> None:
        """Collect the exit status of a child this object started (so it is not left a zombie)."""
        proc = self._procs.get(role)
        if proc is not None:
            proc.poll()

    def kill_worker(self, index: int) -> int:
        """``kill -9`` one worker and its executors (fault tests); returns its pid."""
        pid = self._pids()[f"worker-{index}"]
        os.killpg(pid, signal.SIGKILL)  # the worker's session holds its executor JVMs
        return pid

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every process group (workers first), SIGKILL what remains after ``timeout``."""
        records = self._records()
        order = sorted(records, key=lambda role: role == "master")
        for role in order:
            if _alive(*records[role]):
                os.killpg(records[role][0], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for role in order:
            while _alive(*records[role]) and time.monotonic() < deadline:
                self._reap(role)
                time.sleep(0.1)  # waiting for the process to exit
            if _alive(*records[role]):
                os.killpg(records[role][0], signal.SIGKILL)
            self._reap(role)
            self._file(role, "pid").unlink(missing_ok=True)
        self._file("master", "port").unlink(missing_ok=True)


def check_master(master: str, timeout: float = 5.0) -> None:
    """Raise ConfigError naming ``spark.master`` when a ``spark://`` master does not answer."""
    import socket

    if not master.startswith("spark://"):
        return
    for address in master[len("spark://"):].split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=timeout):
                return
        except (OSError, ValueError):
            continue
    raise ConfigError(f"spark.master: no Spark master answers at {master} within {timeout:.0f} s "
                      "(start one with `fink-like cluster start`, or fix the URL)")
