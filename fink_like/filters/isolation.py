"""Run a user's filter code under a time budget, so that it cannot stop the batch.

Python cannot kill a thread: a plugin that overruns its budget is left running in a
daemon thread, its result ignored, and the filter is taken out so it is never called
again (the engine records it, the driver disables it in the store). A plugin that loops
forever therefore costs one idle thread of the executor process, not the stream.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from fink_like.errors import PluginError

T = TypeVar("T")


class FilterFailure(PluginError):
    """A filter plugin raised, overran its budget or broke its contract on a batch."""


def call_with_budget(fn: Callable[[], T], budget: float, name: str) -> T:
    """``fn()`` in a worker thread; its result, or its exception re-raised.

    Raises
    ------
    FilterFailure
        When ``fn`` has not returned after ``budget`` seconds.
    """
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # handed back to the caller below
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"filter-{name}", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        raise FilterFailure(f"ran past its budget of {budget:g} s on one batch")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
