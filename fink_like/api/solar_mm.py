"""API routes for solar-system objects and multi-messenger events.

``GET /sso/{designation}``: the alerts of one known solar-system object, in time order
(the archive's ``sso`` index). ``GET /events/{event_id}``: one multi-messenger event's
record (time, region, window, status) and its matched alerts, live and retroactive.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fink_like.archive.output import records
from fink_like.archive.query import Archive, QueryResult
from fink_like.mm.store import EventStore, event_matches


def router(archive: Archive, events: EventStore) -> APIRouter:
    """The routes, reading ``archive`` and the event store ``events``."""
    api = APIRouter()

    @api.get("/sso/{designation}", summary="Alerts of one known solar-system object, in time order")
    def sso(designation: str, limit: Annotated[int | None, Query(description="rows per page")] = None,
            cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None) -> dict:
        result: QueryResult = archive.sso(designation, limit=limit, cursor=cursor)
        return {"count": result.table.num_rows, "next_cursor": result.next_cursor,
                "results": records(result.table)}

    @api.get("/events/{event_id}", summary="A multi-messenger event and its matched alerts")
    def event(event_id: str, limit: Annotated[int | None, Query(ge=1, description="most matches")] = None) -> dict:
        record, matches = event_matches(events, event_id, limit)
        return {"event": record, "count": len(matches), "matches": records_of(matches)}

    return api


def records_of(rows: list[dict]) -> list[dict]:
    import pyarrow as pa

    return records(pa.Table.from_pylist(rows)) if rows else []
