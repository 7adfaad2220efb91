"""Bounded retries with exponential backoff, written once for every client of the broker.

A transient fault (a Kafka broker that does not answer for a while, a restarted broker,
an archive whose write lock is held by someone else) is retried inside the source and
the sinks, so a micro-batch survives it; a fault that lasts longer than the budget is
raised as it came, so the query fails and its supervisor (``fink_like.jobs.supervisor``)
takes over. Counts of retries per operation are kept in :data:`RETRIES` (per process;
executors report theirs in their partition counts).

Examples
--------
>>> calls = []
>>> def flaky():
...     calls.append(1)
...     if len(calls) < 3:
...         raise TransientError("not yet")
...     return "done"
>>> retry(flaky, "example", Backoff(tries=5, first=0.0))
'done'
>>> len(calls)
3
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, TypeVar

from fink_like.errors import TransientError

__all__ = ["Backoff", "RETRIES", "TransientError", "retry"]

log = logging.getLogger("fink_like.retry")
T = TypeVar("T")

RETRIES: Counter = Counter()
"""Retries made in this process, by operation name."""


@dataclass(frozen=True)
class Backoff:
    """How often and how long to retry.

    ``tries`` attempts in all; the waits are ``first``, ``2 * first`` ... capped at ``cap``
    seconds, and no new attempt starts after ``budget`` seconds from the first one.
    """

    tries: int = 8
    first: float = 0.5
    cap: float = 8.0
    budget: float = 60.0

    def delays(self):
        delay = self.first
        for _ in range(self.tries - 1):
            yield delay
            delay = min(self.cap, delay * 2)


DEFAULT = Backoff()


def retry(fn: Callable[[], T], what: str, backoff: Backoff = DEFAULT,
          transient: tuple[type[BaseException], ...] = (TransientError,)) -> T:
    """Call ``fn`` until it returns, retrying ``transient`` errors with bounded backoff.

    Raises
    ------
    The last transient error once ``backoff.tries`` attempts or ``backoff.budget`` seconds
    are spent; any other error at once.
    """
    started = time.monotonic()
    delays = backoff.delays()
    while True:
        try:
            return fn()
        except transient as exc:
            delay = next(delays, None)
            if delay is None or time.monotonic() + delay - started > backoff.budget:
                log.warning("%s failed, no retry left: %s", what, exc)
                raise
            RETRIES[what] += 1
            log.warning("%s failed (%s); retry in %.1f s", what, exc, delay)
            time.sleep(delay)  # backoff between attempts, not synchronisation
