"""The web application: the REST API and the science portal, from one process.

``create_app(settings)`` assembles the pieces: the error model (:mod:`.errors`), tokens,
roles and the rate limit (:mod:`.security`), the REST routes (:mod:`.routes`), the
portal's pages (:mod:`.portal`), CORS from ``api.cors_origins`` and the OpenAPI docs at
``/docs`` with swagger-ui served from this package (no CDN: it works offline).
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from fink_like import __version__
from fink_like.api import errors
from fink_like.api.accounts import Accounts
from fink_like.api.routes import rest_router
from fink_like.api.security import Guard
from fink_like.archive.labels import Labels
from fink_like.archive.query import Archive

STATIC = Path(__file__).parent / "static"
SWAGGER = STATIC / "vendor" / "swagger-ui"


def create_app(settings, archive: Archive | None = None) -> FastAPI:
    """The application reading (and annotating) the archive named by ``settings.archive``."""
    from fink_like.api.portal import portal_router
    from fink_like.api.solar_mm import router as solar_mm_router
    from fink_like.mm.store import EventStore

    archive = archive or Archive(settings)
    labels, accounts = Labels(settings), Accounts(settings)  # each opens its backend when first used
    events = EventStore(settings.mm.store)                    # multi-messenger events (docs/multimessenger.md)
    guard = Guard(settings, accounts)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for store in (archive, labels, accounts, events):
            store.close()

    app = FastAPI(title="fink-like archive API", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  description="Alerts archived by fink-like: light curves, cone search, classes, "
                              "latest alerts, cutouts and annotations. Cone radius in arcseconds. "
                              "The science portal is at /portal/.")
    app.state.archive = archive
    errors.install(app)

    @app.middleware("http")
    async def server_timing(request, call_next):
        # Server-side time of every answer, for clients and for `fink-like bench-api`.
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        return response

    if settings.api.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.api.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.include_router(rest_router(archive, labels, guard, settings.api.max_results))
    app.include_router(solar_mm_router(archive, events, guard))
    app.include_router(portal_router(settings, archive, labels, guard), include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if not (SWAGGER / "swagger-ui-bundle.js").exists():
            return HTMLResponse("<p>swagger-ui is not vendored in this install: run <code>make vendor"
                                "</code>. The schema is at <a href='/openapi.json'>/openapi.json</a>.</p>",
                                status_code=503)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=app.title,
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")

    app.openapi = lambda: _without_422(app)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/portal/")

    from fink_like.api.filters import filters_router

    app.include_router(filters_router(settings, guard))
    return app


def _without_422(app: FastAPI) -> dict:
    """The OpenAPI schema without FastAPI's default 422 answers: invalid parameters are 400s."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
