"""Keep a streaming query alive: notice its death at once, restart it from its checkpoint.

Every job (``run``, ``pipeline``, ``ingest``, ``science``, ``distribute``, ``archive``,
``bench``) runs its query under a :class:`Supervisor`. Transient faults are retried
inside the source and the sinks first (``fink_like.retry``); what still fails a
micro-batch fails the query. The supervisor sees that within ``poll`` seconds (it waits
on the query's own termination, not on the next batch), logs it, counts it
(``fink_like_query_restarts_total``) and starts the query again under the same name and
checkpoint, so Spark replays the failed batch with the same offsets. After
``spark.max_restarts`` restarts it gives up and raises :class:`JobError` with the cause.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from fink_like.errors import FinkLikeError

log = logging.getLogger("fink_like.jobs")


class JobError(FinkLikeError):
    """A streaming query stopped with an error (after its restarts, if any)."""


class Supervisor:
    """One streaming query, restarted from its checkpoint when it fails.

    Parameters
    ----------
    start
        Starts the query and returns it (a ``StreamingQuery``). Called again at each
        restart; it must use the same query name and checkpoint.
    name
        The query's name, for messages.
    max_restarts
        Restarts allowed over the supervisor's life; the next failure raises JobError.
    backoff
        Seconds to wait before a restart (doubled at each one, at most 30 s).
    on_restart
        Called with ``(restarts, error)`` after each restart (metrics, progress).
    """

    def __init__(self, start: Callable[[], object], name: str, *, max_restarts: int = 3,
                 backoff: float = 2.0, on_restart: Callable[[int, BaseException], None] | None = None):
        self._start, self.name = start, name
        self.max_restarts, self.backoff, self.on_restart = max_restarts, backoff, on_restart
        self.restarts = 0
        self.query = start()

    def alive(self) -> bool:
        """Whether the query runs, restarting it first if it failed; False once it ended normally.

        Raises
        ------
        JobError
            The query failed and no restart is left.
        """
        if self.query.isActive:
            return True
        error = self.query.exception()
        if error is None:
            return False
        self._restart(error)
        return True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the query to end; same result as :meth:`alive` after."""
        try:
            self.query.awaitTermination(max(timeout, 0.001))
        except Exception:  # StreamingQueryException: the failure is read from query.exception()
            pass
        return self.alive()

    def run(self, timeout: float | None = None, step: float = 1.0) -> None:
        """Supervise until the query ends by itself (``availableNow``) or ``timeout`` s pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = step if deadline is None else min(step, deadline - time.monotonic())
            if left <= 0:
                log.info("timeout reached, stopping", extra={"query": self.name})
                return
            if not self.wait(left):
                return

    def stop(self) -> None:
        if self.query.isActive:
            self.query.stop()

    def _restart(self, error) -> None:
        if "fink_like.errors.ConfigError" in _cause(error):  # no restart fixes a setting
            raise JobError(f"streaming query {self.name!r} failed: {_cause(error)}")
        if self.restarts >= self.max_restarts:
            raise JobError(f"streaming query {self.name!r} failed after {self.restarts} restart(s): "
                           f"{_cause(error)}")
        self.restarts += 1
        delay = min(30.0, self.backoff * 2 ** (self.restarts - 1))
        log.warning("streaming query failed; restarting from its checkpoint",
                    extra={"query": self.name, "restart": self.restarts, "of": self.max_restarts,
                           "in_seconds": delay, "error": _cause(error)})
        time.sleep(delay)  # backoff before a restart, not synchronisation
        self.query = self._start()
        if self.on_restart is not None:
            self.on_restart(self.restarts, error)


def _cause(error) -> str:
    """The error's own last line (``package.Class: message``), else its first line."""
    import re

    parts = [getattr(error, "_desc", None), str(error)]
    if hasattr(error, "getMessage"):
        parts.insert(0, error.getMessage())
    text = "\n".join(p for p in parts if p)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^[\w.<>]+: ", line)
             and not line.startswith(("Traceback", "File ", "Identifier", "Reason"))]
    return (named[-1] if named else (lines[0] if lines else text))[:500]
