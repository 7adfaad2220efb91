"""One error model for the whole API: a 4xx or 503 with ``{"detail": "<what is wrong>"}``.

400: an invalid parameter (the message names it and its allowed values; echoes of the
input are cut to 64 characters); 401/403: a missing, unknown or insufficient token; 404:
something valid that the archive does not hold; 429: too many requests for one token;
503: the archive backend itself failed. A bad input never gives a 5xx.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from fink_like.archive.query import NotFoundError
from fink_like.errors import ArchiveError, QueryError
from fink_like.secrets import echo

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error answer."""

    detail: str


_MEANING = {
    400: "invalid parameter (the message names it)",
    401: "a token is needed, or the token is unknown",
    403: "the token's role may not do this",
    404: "not in the archive",
    429: "too many requests for this token; see Retry-After",
    503: "the archive backend is unavailable",
}


def responses(*codes: int) -> dict:
    """OpenAPI ``responses`` entries for these error codes, all with :class:`ErrorBody`."""
    return {code: {"model": ErrorBody, "description": _MEANING[code]} for code in codes}


def describe(exc: RequestValidationError) -> str:
    """One line per invalid parameter: where, what is wrong, and (bounded) what was given."""
    parts = []
    for err in exc.errors()[:4]:
        loc = [str(x) for x in err.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else "request"
        got = f" (got {echo(err['input'])})" if err.get("input") is not None and len(loc) > 1 else ""
        parts.append(f"{where}: {err.get('msg', 'invalid')}{got}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers that map the project's errors onto the error model."""

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError):
        status = 404 if isinstance(exc, NotFoundError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": describe(exc)}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # The portal answers people with a page (its token box lets them retry), the API with JSON.
        headers = getattr(exc, "headers", None)
        if request.url.path.startswith("/portal"):
            from fink_like.api.portal.layout import message

            return HTMLResponse(message(f"Error {exc.status_code}", str(exc.detail)), exc.status_code, headers)
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers)

    @app.exception_handler(ArchiveError)
    async def archive_down(request: Request, exc: ArchiveError):
        log.error("archive failure on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": f"the archive is unavailable: {exc}"}, status_code=503)
