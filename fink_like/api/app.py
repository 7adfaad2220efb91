"""FastAPI application: the archive's queries and cutouts over HTTP.

Every list endpoint answers ``{"count", "next_cursor", "results"}``; pass ``next_cursor``
back as ``cursor`` for the next page. Bad input is a 4xx whose ``detail`` says what is
wrong: 400 for a :class:`QueryError`, 422 for a malformed parameter, 404 for a missing
cutout. OpenAPI docs are at ``/docs`` and ``/openapi.json``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from fink_like import __version__
from fink_like.api.cutouts import plain_fits, to_png
from fink_like.archive.model import CUTOUT_KINDS
from fink_like.archive.output import records
from fink_like.archive.query import Archive, NotFoundError, QueryResult
from fink_like.errors import ArchiveError, QueryError

log = logging.getLogger(__name__)

Limit = Annotated[int | None, Query(description="rows per page (default api.default_limit)")]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Since = Annotated[str | None, Query(description="earliest observation: MJD or ISO-8601 (UTC)")]
Until = Annotated[str | None, Query(description="latest observation: MJD or ISO-8601 (UTC)")]


def _page(result: QueryResult) -> dict:
    return {"count": result.table.num_rows, "next_cursor": result.next_cursor,
            "results": records(result.table)}


def create_app(settings, archive: Archive | None = None) -> FastAPI:
    """The REST application reading the archive named by ``settings.archive``."""
    archive = archive or Archive(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        archive.close()

    app = FastAPI(title="fink-like archive API", version=__version__, lifespan=lifespan,
                  description="Alerts archived by fink-like: light curves, cone search, classes, "
                              "latest alerts and cutouts. Cone radius in arcseconds.")
    app.state.archive = archive

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError):
        status = 404 if isinstance(exc, NotFoundError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(ArchiveError)
    async def archive_down(request: Request, exc: ArchiveError):
        log.error("archive failure on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": f"the archive is unavailable: {exc}"}, status_code=503)

    @app.get("/objects/{object_id}", summary="Light curve: every alert of one object, in time order")
    def get_object(object_id: str, limit: Limit = None, cursor: Cursor = None) -> dict:
        return _page(archive.object(object_id, limit=limit, cursor=cursor))

    @app.get("/cone", summary="Alerts within a radius (arcsec) of a sky position (degrees)")
    def cone(ra: float, dec: float, radius: Annotated[float, Query(description="arcseconds")],
             since: Since = None, until: Until = None, limit: Limit = None, cursor: Cursor = None) -> dict:
        return _page(archive.cone(ra, dec, radius, since=since, until=until, limit=limit, cursor=cursor))

    @app.get("/classes/{name}", summary="Latest alerts of one archive class")
    def by_class(name: str, since: Since = None, until: Until = None, limit: Limit = None,
                 cursor: Cursor = None) -> dict:
        return _page(archive.by_class(name, since=since, until=until, limit=limit, cursor=cursor))

    @app.get("/latest", summary="The most recent alerts, newest first")
    def latest(limit: Limit = None, cursor: Cursor = None) -> dict:
        return _page(archive.latest(limit=limit, cursor=cursor))

    @app.get("/alerts/{alert_id}/cutouts/{stamp}",
             summary="One cutout: science|template|difference, as .fits or .png",
             responses={200: {"content": {"application/fits": {}, "image/png": {}}}})
    def cutout(alert_id: Annotated[int, Path(ge=0, lt=2**63)],
               stamp: Annotated[str, Path(description="e.g. science.png, difference.fits")]) -> Response:
        kind, _, ext = stamp.partition(".")
        if kind not in CUTOUT_KINDS or ext not in ("fits", "png"):
            raise QueryError(f"unknown cutout {stamp!r}: use {{{'|'.join(CUTOUT_KINDS)}}}.{{fits|png}}")
        data = archive.cutout(alert_id, kind)
        if ext == "png":
            return Response(to_png(data), media_type="image/png")
        return Response(plain_fits(data), media_type="application/fits",
                        headers={"Content-Disposition": f'inline; filename="{alert_id}_{kind}.fits"'})

    from fink_like.api.filters import filters_router

    app.include_router(filters_router(settings))
    return app
