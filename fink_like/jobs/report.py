"""Totals across micro-batches, and the final report of a run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Totals:
    """Running counts of a streaming query, merged from every partition of every batch."""

    batches: int = 0
    consumed: int = 0
    raw: int = 0
    quarantined: int = 0
    science: int = 0
    archived: int = 0
    quarantine_reasons: Counter = field(default_factory=Counter)
    published: Counter = field(default_factory=Counter)
    module_errors: Counter = field(default_factory=Counter)
    stage_seconds: Counter = field(default_factory=Counter)
    module_seconds: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    batch_ids: list = field(default_factory=list)
    started: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_batch(self, batch_id: int, parts) -> None:
        with self._lock:
            self.batches += 1
            self.batch_ids.append(batch_id)
            for p in parts:
                self.consumed += p.consumed
                self.raw += p.raw
                self.quarantined += p.quarantined
                self.science += p.science
                self.archived += p.archived
                self.quarantine_reasons.update(p.quarantine_reasons)
                self.published.update(p.published)
                self.module_errors.update(p.module_errors)
                self.stage_seconds.update(p.stage_seconds)
                self.module_seconds.update(p.module_seconds)
                self.latencies.extend(p.latencies)
                for column, values in p.scores.items():
                    self.scores.setdefault(column, []).extend(values)

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
            "archived": self.archived,
            "published": dict(self.published),
            "module_errors": dict(self.module_errors),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "module_seconds": {k: round(v, 3) for k, v in self.module_seconds.items()},
            "latency_seconds": self.latency_percentiles(),
            "reconciles": self.reconciles(),
        }
