"""API routes for solar-system objects and multi-messenger events.

``GET /sso/{designation}``: the alerts of one known solar-system object, in time order
(the archive's ``sso`` index), as a :class:`~fink_like.api.routes.Page`.
``GET /events/{event_id}``: one multi-messenger event's record (time, region, window,
status) and its matched alerts, live and retroactive (docs/multimessenger.md).
Both pass the same read guard as every other REST route.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations at runtime.
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from fink_like.api.errors import responses
from fink_like.api.routes import paged
from fink_like.archive.query import Archive
from fink_like.mm.store import EventStore, event_matches


def router(archive: Archive, events: EventStore, guard) -> APIRouter:
    """The routes, reading ``archive`` and the event store ``events``."""
    api = APIRouter(dependencies=[Depends(guard.read)], responses=responses(400, 401, 429, 503))
    Limit = Annotated[int | None, Query(ge=1, description="rows per page (default api.max_results)")]

    @api.get("/sso/{designation}", summary="Alerts of one known solar-system object, in time order")
    def sso(designation: str, limit: Limit = None,
            cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None) -> Response:
        return paged(limit, lambda: archive.sso(designation, limit=limit, cursor=cursor))

    @api.get("/events/{event_id}", summary="A multi-messenger event and its matched alerts",
             responses=responses(404))
    def event(event_id: str, limit: Limit = None) -> Response:
        record, matches = event_matches(events, event_id, limit)
        body = {"event": record, "count": len(matches), "matches": matches}
        return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")

    return api
