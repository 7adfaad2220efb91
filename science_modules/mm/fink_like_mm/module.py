"""The ``mm`` science module: every alert inside an active event's region and time window.

Events come from the event store that ``fink-like gcn listen|replay`` fills
(:mod:`fink_like.mm`). The store is read at every batch (a scan of the events table;
regions are rebuilt only when an event gets a new version), so a notice received while
the stream runs applies from the next batch, and a retraction stops matches from then on.

Outputs, for the most probable match (highest probability density, then the smallest
time offset): ``mm_event_id``, ``mm_messenger`` (GW, Neutrino, EM), ``mm_prob_density``
(per steradian, sky maps only), ``mm_dt_days`` (alert time minus event time), and
``mm_n_events`` (how many events the alert matches). Every match is also written to the
event's record in the store (idempotent, one row per event and alert), which is what
``fink-like query event`` lists.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fink_like.config import ArchiveSettings
from fink_like.mm.match import match_batch, match_record
from fink_like.mm.store import EventStore
from fink_like.science.base import ScienceModule
from fink_like.science.params import ModuleParams, not_in_hash
from fink_like_mm import __version__


class MmParams(ModuleParams):
    """Parameters of :class:`MmModule`; neither changes what a match is (not in ``model_hash``)."""

    # the event store, as archive settings; keep it equal to the ``mm.store`` setting
    store: ArchiveSettings = not_in_hash(ArchiveSettings(path="var/events.sqlite"))
    record_matches: bool = not_in_hash(True)


class MmModule(ScienceModule):
    """Live multi-messenger matching (see the module docstring and :class:`MmParams`)."""

    name = "mm"
    version = __version__
    inputs = ("alert_id", "object_id", "mjd", "ra", "dec")
    outputs = {
        "mm_event_id": pa.string(),
        "mm_messenger": pa.string(),
        "mm_prob_density": pa.float64(),
        "mm_dt_days": pa.float64(),
        "mm_n_events": pa.int32(),
    }
    Params = MmParams

    def load(self, params: MmParams) -> None:
        self.store = EventStore(params.store)
        self.store.active()  # open the store (and create its tables) now, not at the first batch
        self.record = params.record_matches

    def process(self, batch: pa.Table) -> dict:
        n = batch.num_rows
        if n == 0:
            return {name: pa.nulls(0, kind) for name, kind in self.outputs.items()}
        ra, dec, mjd = (batch[c].to_numpy(zero_copy_only=False) for c in ("ra", "dec", "mjd"))
        matches = match_batch(self.store.active(), ra, dec, mjd)
        if self.record:
            self._record(batch, matches)
        best = [m[0] if m else None for m in matches]
        return {
            "mm_event_id": pa.array([b.event_id if b else None for b in best], pa.string()),
            "mm_messenger": pa.array([b.messenger if b else None for b in best], pa.string()),
            "mm_prob_density": pa.array([b.prob_density if b else None for b in best], pa.float64()),
            "mm_dt_days": pa.array([b.dt_days if b else None for b in best], pa.float64()),
            "mm_n_events": pa.array(np.array([len(m) for m in matches], dtype=np.int32),
                                    mask=np.array([not m for m in matches], dtype=bool)),
        }

    def _record(self, batch: pa.Table, matches) -> None:
        rows = [i for i, m in enumerate(matches) if m]
        if not rows:
            return
        alerts = batch.take(rows).to_pylist()
        by_event: dict[str, list[dict]] = {}
        for alert, i in zip(alerts, rows):
            for m in matches[i]:
                by_event.setdefault(m.event_id, []).append(match_record(m, alert, "live"))
        for event_id, found in by_event.items():
            self.store.add_matches(event_id, found)
