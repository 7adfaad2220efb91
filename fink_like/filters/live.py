"""Live filters: the stream's driver reads the filter store at every micro-batch.

:class:`LiveFilters` is called by the streaming job's batch callback
(:class:`fink_like.jobs.stream.BatchRunner`): before a batch it hands the pipeline the
enabled filters of the store (so an added, changed or disabled filter applies from the
next micro-batch on, without a restart); after it, it disables in the store every plugin
that the executors took out (raised, or ran past ``distribution.plugin_budget_seconds``),
counts it, and passes matches to the notifier.
"""

from __future__ import annotations

import dataclasses
import logging

import pyarrow as pa

from fink_like.errors import FinkLikeError

log = logging.getLogger(__name__)
MATCH_COLUMNS = ("alert_id", "object_id", "survey", "ra", "dec", "mjd", "mag", "band")
"""What a notification says about each alert."""


def matches_of(table: pa.Table, engine, masks: dict) -> list[dict]:
    """The selected alerts of every filter that notifies, as small plain records (executor side)."""
    out = []
    for f in engine.filters:
        if not f.notify or f.spec.name not in masks:
            continue
        rows = [i for i, keep in enumerate(masks[f.spec.name].to_pylist()) if keep]
        if not rows:
            continue
        picked = table.select([c for c in MATCH_COLUMNS if c in table.column_names]).take(rows)
        for record in picked.to_pylist():
            out.append({"filter": f.spec.name, "version": f.version, "topic": f.spec.topic,
                        "channels": list(f.notify), **record})
    return out


class LiveFilters:
    """Store reads and failure reports for one streaming query (driver side).

    Parameters
    ----------
    settings
        The broker's settings (the store is the archive's).
    notifier
        Optional :class:`fink_like.notify.Notifier` receiving each batch's matches.
    """

    def __init__(self, settings, notifier=None):
        from fink_like.filters.store import FilterStore

        self.store = FilterStore.open(settings)
        self.notifier = notifier
        self.disabled: dict[str, str] = {}

    def prepare(self, pipeline):
        """The pipeline with the store's enabled filters (read now, for this batch)."""
        try:
            active = self.store.active()
        except FinkLikeError as exc:  # keep the previous set rather than stop the stream
            log.error("filter store unreadable, keeping the previous filters: %s", exc)
            return pipeline
        return dataclasses.replace(pipeline, user_filters=active)

    def after(self, batch_id: int, parts) -> None:
        """Disable the filters taken out on executors; hand the matches to the notifier."""
        failures: dict[str, str] = {}
        for part in parts:
            failures.update(part.filter_failures)
        for key, reason in failures.items():
            name, _, version = key.partition("@")
            head = self.store.head(name)
            if head is None or not head.spec.enabled or str(head.spec.version) != version:
                continue  # a filter of the settings file, or already changed or disabled
            self.store.set_enabled(name, False, by="fink-like", reason=reason, action="auto-disable")
            self.disabled[name] = reason
            log.error("filter %s version %s disabled after batch %d: %s", name, version, batch_id, reason)
        if self.notifier is not None:
            matches = [m for part in parts for m in part.matches]
            if matches:
                self.notifier.submit(batch_id, matches)

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()
        self.store.close()
