"""What the portal knows of the pipeline's configuration, built once and cached.

The enriched schema (canonical columns and every configured module's outputs), which
module writes which column (for provenance), and the topics' filter engine, the same
one the stream runs, so that "alerts of a topic" means what the stream published.
"""

from __future__ import annotations

import logging
from functools import cached_property

import pyarrow as pa

from fink_like.errors import FinkLikeError, QueryError
from fink_like.secrets import echo

log = logging.getLogger(__name__)


class PipelineContext:
    """Lazily computed facts about ``settings``' modules and filters."""

    def __init__(self, settings):
        self.settings = settings

    @cached_property
    def schema(self) -> pa.Schema:
        from fink_like.jobs.driver import science_schema

        try:
            return science_schema(self.settings)
        except FinkLikeError as exc:  # a module that cannot load still leaves the portal usable
            log.warning("portal: science schema unavailable (%s); using the canonical one", exc)
            from fink_like.surveys.canonical import CANONICAL_SCHEMA

            return CANONICAL_SCHEMA

    @cached_property
    def module_of(self) -> dict[str, str]:
        """Output column -> the module that declares it."""
        from fink_like.science.registry import declared_outputs, resolve

        out = {}
        for spec in self.settings.science.modules:
            try:
                out.update(dict.fromkeys(declared_outputs(resolve(spec.name), spec.params), spec.name))
            except FinkLikeError as exc:
                log.warning("portal: module %s unavailable: %s", spec.name, exc)
        return out

    @property
    def topics(self) -> dict[str, object]:
        """Topic -> its enabled filter spec."""
        return {f.topic: f for f in self.settings.distribution.filters if f.enabled}

    @cached_property
    def engine(self):
        from fink_like.filters.engine import FilterEngine

        return FilterEngine(list(self.topics.values()), self.schema)

    def topic_mask(self, table: pa.Table, topic: str) -> list[bool]:
        """Which rows of ``table`` the topic's filter selects (missing columns count as null)."""
        spec = self.topics.get(topic)
        if spec is None:
            raise QueryError(f"unknown topic {echo(topic)}; topics: {', '.join(self.topics) or 'none'}")
        mask = self.engine.evaluate(conform(table, self.schema))[spec.name]
        return [bool(v) for v in mask.fill_null(False).to_pylist()]


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: cast where present, nulls where absent."""
    arrays = []
    for field in schema:
        if field.name in table.column_names:
            try:
                arrays.append(table.column(field.name).cast(field.type))
                continue
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        arrays.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([f.with_nullable(True) for f in schema]))
