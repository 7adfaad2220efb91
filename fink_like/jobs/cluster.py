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
import os
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


class ClusterError(FinkLikeError):
    """The local Spark cluster could not be started, reached or stopped."""


def spark_home() -> Path:
    """pyspark's own Spark distribution (``bin/spark-class`` and ``jars/``)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    if not os.access(home / "bin" / "spark-class", os.X_OK):
        raise ClusterError(f"{home}/bin/spark-class is missing or not executable: reinstall pyspark")
    return home


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return b"org.apache.spark.deploy" in Path(f"/proc/{pid}/cmdline").read_bytes() and state != "Z"
    except (FileNotFoundError, IndexError):
        return False


class LocalCluster:
    """Master and workers described by ``settings`` (a :class:`fink_like.config.ClusterSettings`)."""

    def __init__(self, settings):
        self.settings = settings
        self.state = Path(settings.state_dir)

    # -- files ----------------------------------------------------------------------------

    def _file(self, role: str, kind: str) -> Path:
        return self.state / f"{role}.{kind}"

    def _pids(self) -> dict[str, int]:
        out = {}
        for path in sorted(self.state.glob("*.pid")):
            try:
                out[path.stem] = int(path.read_text())
            except ValueError:
                continue
        return out

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
        port = self.settings.master_port or free_port()
        webui = free_port()
        url = f"spark://127.0.0.1:{port}"
        self._spawn("master", [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port),
                               "--webui-port", str(webui)])
        self._file("master", "port").write_text(f"{url}\n{webui}\n")
        for i in range(workers):
            self._spawn(f"worker-{i}", [WORKER_CLASS, "--host", "127.0.0.1", "--cores",
                                        str(self.settings.worker_cores), "--memory", self.settings.worker_memory,
                                        "--work-dir", str(self.state / f"work-{i}"),
                                        "--webui-port", str(free_port()), url])
        self._wait_workers(workers, timeout)
        return url

    def _spawn(self, role: str, args: list[str]) -> None:
        env = {**os.environ, "SPARK_HOME": str(spark_home()), "PYSPARK_PYTHON": sys.executable,
               "SPARK_LOG_DIR": str(self.state), "SPARK_NO_DAEMONIZE": "1"}
        cmd = [str(spark_home() / "bin" / "spark-class"), *args]
        with open(self._file(role, "log"), "ab") as log:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        self._file(role, "pid").write_text(f"{proc.pid}\n")

    def _wait_workers(self, expected: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            dead = [role for role, pid in self._pids().items() if not _alive(pid)]
            if dead:
                tail = self._tail(dead[0])
                self.stop()
                raise ClusterError(f"spark {dead[0]} exited: {tail}")
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

    def _tail(self, role: str, lines: int = 5) -> str:
        try:
            text = self._file(role, "log").read_text(errors="replace").strip().splitlines()
            return " | ".join(text[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def status(self) -> dict | None:
        """``{"master", "webui", "workers": [...], "pids"}`` of a running cluster, else None."""
        pids = self._pids()
        if "master" not in pids or not _alive(pids["master"]):
            return None
        url, webui = self._file("master", "port").read_text().split()[:2]
        state = self._master_json() or {}
        workers = [{"id": w.get("id"), "cores": w.get("cores"), "memory_mb": w.get("memory"),
                    "state": w.get("state")} for w in state.get("workers", [])]
        return {"master": url, "webui": f"http://127.0.0.1:{webui}", "workers": workers,
                "pids": {role: pid for role, pid in pids.items() if _alive(pid)}, "logs": str(self.state)}

    def kill_worker(self, index: int) -> int:
        """``kill -9`` one worker and its executors (fault tests); returns its pid."""
        pid = int(self._file(f"worker-{index}", "pid").read_text())
        os.killpg(pid, signal.SIGKILL)  # the worker's session holds its executor JVMs
        return pid

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every process group (workers first), SIGKILL what remains after ``timeout``."""
        pids = self._pids()
        order = sorted(pids, key=lambda role: role == "master")
        for role in order:
            if _alive(pids[role]):
                os.killpg(pids[role], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for role in order:
            while _alive(pids[role]) and time.monotonic() < deadline:
                time.sleep(0.1)  # waiting for the process to exit
            if _alive(pids[role]):
                os.killpg(pids[role], signal.SIGKILL)
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
