"""Totals across micro-batches, and the final report of a run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np

SCORE_COLUMNS = ("snia_prob", "mulens_prob", "bnn_snia_mean")
"""Module outputs whose distributions the run report shows."""


@dataclass
class Totals:
    """Running counts of a streaming query, merged from every partition of every batch.

    Has a field for every field of :class:`fink_like.jobs.stages.PartitionStats`.
    """

    batches: int = 0
    consumed: int = 0
    raw: int = 0
    quarantined: int = 0
    science: int = 0
    quality_rejected: int = 0
    archived: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    published: Counter = field(default_factory=Counter)
    module_errors: Counter = field(default_factory=Counter)
    stage_seconds: Counter = field(default_factory=Counter)
    module_seconds: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    lost: int = 0
    sink_errors: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)
    restarts: int = 0
    batch_ids: list = field(default_factory=list)
    filter_failures: dict = field(default_factory=dict)
    matches: int = 0  # alerts handed to the notifier (the alerts themselves are not kept)
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_batch(self, batch_id: int, parts) -> None:
        """Merge every field of every partition's counts: numbers add, maps and lists extend.

        A batch already merged (replayed after a failure between its end and its commit)
        is not counted twice.
        """
        with self._lock:
            if batch_id in self.batch_ids:
                return
            self.batches += 1
            self.batch_ids.append(batch_id)
            for p in parts:
                for f in fields(p):
                    value, mine = getattr(p, f.name), getattr(self, f.name)
                    if f.name == "matches":
                        self.matches += len(value)
                    elif f.name == "scores":
                        for column, values in value.items():
                            mine.setdefault(column, []).extend(values)
                    elif isinstance(value, dict):
                        mine.update(value)
                    elif isinstance(value, list):
                        mine.extend(value)
                    else:
                        setattr(self, f.name, mine + value)

    def add_sink_errors(self, parts) -> None:
        """Count the sink failures of a batch that will be replayed (nothing else of it)."""
        with self._lock:
            for p in parts:
                self.sink_errors.update(p.sink_errors)
                self.errors.extend(p.errors[:5])
            del self.errors[:-20]

    @staticmethod
    def batch_summary(parts) -> dict:
        return {
            "consumed": sum(p.consumed for p in parts),
            "quarantined": sum(p.quarantined for p in parts),
            "archived": sum(p.archived for p in parts),
            "published": sum(sum(p.published.values()) for p in parts),
        }

    def latency_percentiles(self) -> dict:
        if not self.latencies:
            return {}
        values = np.asarray(self.latencies)
        return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}

    def reconciles(self) -> bool:
        """Every consumed message is either in the raw lake or in quarantine."""
        return self.consumed == self.raw + self.quarantined

    def as_dict(self) -> dict:
        return {
            "batches": self.batches,
            "consumed": self.consumed,
            "raw": self.raw,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(self.quarantine_reasons),
            "science": self.science,
            "quality_rejected": self.quality_rejected,
            "archived": self.archived,
            "published": dict(self.published),
            "lost_offsets": self.lost,
            "sink_errors": dict(self.sink_errors),
            "restarts": self.restarts,
            "module_errors": dict(self.module_errors),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "module_seconds": {k: round(v, 3) for k, v in self.module_seconds.items()},
            "latency_seconds": self.latency_percentiles(),
            "reconciles": self.reconciles(),
        }
