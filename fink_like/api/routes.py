"""The REST routes: light curves, cone, classes, time windows, latest alerts, cutouts, labels.

Every list route answers a :class:`Page`; pass ``next_cursor`` back as ``cursor`` for
the next page. Parameters carry their ranges in the OpenAPI schema (``/openapi.json``).
"""

# No ``from __future__ import annotations``: FastAPI reads the Annotated aliases defined
# inside the router functions at runtime.
import enum
import threading
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fink_like.api.cutouts import plain_fits, to_png
from fink_like.api.errors import responses
from fink_like.archive import model
from fink_like.archive.query import MAX_RADIUS_ARCSEC, Archive, QueryResult

OBJECT_ID_PATTERN = r"^[A-Za-z0-9.+\-]{1,64}$"
DATE = "MJD (e.g. 60940.5) or ISO-8601 UTC date (e.g. 2025-09-21T03:00:00)"


class Page(BaseModel):
    """One page of alerts."""

    count: int = Field(ge=0)
    next_cursor: str | None
    results: list[dict[str, Any]]


class Annotation(BaseModel):
    """A label given to an object by a user."""

    label: str = Field(min_length=1, max_length=64, pattern=r"^[\w .+\-/()]{1,64}$")
    comment: str = Field(default="", max_length=2000)


class AnnotationRecord(Annotation):
    object_id: str
    user: str
    time: str


Stamp = enum.Enum("Stamp", {f"{k}_{e}": f"{k}.{e}" for k in model.CUTOUT_KINDS for e in ("png", "fits")},
                  type=str)


LARGE_PAGE = 1000
"""Pages of more rows than this are built at most :data:`LARGE_PAGES_AT_ONCE` at a time."""
LARGE_PAGES_AT_ONCE = 2
_large = threading.BoundedSemaphore(LARGE_PAGES_AT_ONCE)


def paged(limit: int | None, query) -> Response:
    """``page(query())``; large pages queue for one of two slots. Building a page is pure
    Python under the GIL: ten built at once starve every other request (and the server's
    event loop), so small requests beside them would wait seconds."""
    if limit is not None and limit > LARGE_PAGE:
        with _large:
            return page(query())
    return page(query())


def page(result: QueryResult) -> Response:
    """A :class:`Page` serialised once by orjson (NaN as null), without FastAPI's per-value
    re-encoding and without building an Arrow table: the cost of large pages."""
    body = {"count": len(result.cells), "next_cursor": result.next_cursor, "results": result.records()}
    return Response(orjson.dumps(body), media_type="application/json")


def rest_router(archive: Archive, labels, guard, max_results: int) -> APIRouter:
    """The REST routes over ``archive``; reads pass ``guard.read``, labels ``guard.annotator``."""
    router = APIRouter(dependencies=[Depends(guard.read)],
                       responses=responses(400, 401, 429, 503))
    ObjectId = Annotated[str, Path(description=f"survey object id, pattern {OBJECT_ID_PATTERN}",
                                   json_schema_extra={"pattern": OBJECT_ID_PATTERN, "maxLength": 64})]
    Limit = Annotated[int | None, Query(ge=1, le=max_results, description="rows per page")]
    Cursor = Annotated[str | None, Query(max_length=512, pattern=r"^[A-Za-z0-9_\-]+$",
                                         description="next_cursor of the previous page")]
    Since = Annotated[str | None, Query(max_length=64, description=f"earliest observation: {DATE}")]
    Until = Annotated[str | None, Query(max_length=64, description=f"latest observation: {DATE}")]
    listing = {"response_model": Page, "responses": responses(404) | {200: {"model": Page}}}

    @router.get("/objects/{object_id}", summary="Light curve: every alert of one object, in time order", **listing)
    def get_object(object_id: ObjectId, limit: Limit = None, cursor: Cursor = None):
        return paged(limit, lambda: archive.object(object_id, limit=limit, cursor=cursor))

    @router.get("/cone", summary="Alerts within a radius (arcsec) of a sky position (degrees)", **listing)
    def cone(ra: Annotated[float, Query(ge=0, le=360, description="right ascension, degrees")],
             dec: Annotated[float, Query(ge=-90, le=90, description="declination, degrees")],
             radius: Annotated[float, Query(gt=0, le=MAX_RADIUS_ARCSEC, description="arcseconds")],
             since: Since = None, until: Until = None, limit: Limit = None, cursor: Cursor = None):
        return paged(limit, lambda: archive.cone(ra, dec, radius, since=since, until=until, limit=limit,
                                                 cursor=cursor))

    @router.get("/classes/{name}", summary="Latest alerts of one archive class", **listing)
    def by_class(name: Annotated[str, Path(max_length=64, description=", ".join(model.CLASSES))],
                 since: Since = None, until: Until = None, limit: Limit = None, cursor: Cursor = None):
        return paged(limit, lambda: archive.by_class(name, since=since, until=until, limit=limit, cursor=cursor))

    @router.get("/latest", summary="The most recent alerts, newest first", **listing)
    def latest(limit: Limit = None, cursor: Cursor = None):
        return paged(limit, lambda: archive.latest(limit=limit, cursor=cursor))

    @router.get("/window", summary="Alerts observed between two dates, newest first", **listing)
    def window(since: Since = None, until: Until = None, limit: Limit = None, cursor: Cursor = None):
        return paged(limit, lambda: archive.window(since=since, until=until, limit=limit, cursor=cursor))

    @router.get("/alerts/{alert_id}/cutouts/{stamp}", response_class=Response,
                summary="One cutout as plain FITS or as a PNG (ZScale + asinh, at least 240 px)",
                responses=responses(404) | {200: {"content": {"application/fits": {}, "image/png": {}}}})
    def cutout(alert_id: Annotated[int, Path(ge=0, lt=2**63)], stamp: Stamp) -> Response:
        kind, _, ext = stamp.value.partition(".")
        data = archive.cutout(alert_id, kind)
        if ext == "png":
            return Response(to_png(data), media_type="image/png")
        return Response(plain_fits(data), media_type="application/fits",
                        headers={"Content-Disposition": f'inline; filename="{alert_id}_{kind}.fits"'})

    @router.get("/objects/{object_id}/labels", response_model=list[AnnotationRecord],
                summary="Every annotation of one object, oldest first (the audit trail)")
    def history(object_id: ObjectId):
        return labels.history(object_id)

    @router.post("/objects/{object_id}/labels", response_model=AnnotationRecord, status_code=201,
                 summary="Label an object (token of role annotator or admin)",
                 responses=responses(403, 404))
    def annotate(object_id: ObjectId, annotation: Annotated[Annotation, Body()],
                 user=Depends(guard.annotator)):
        return labels.add(object_id, annotation.label, annotation.comment, user.name)

    return router
