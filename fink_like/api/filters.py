"""API routes of the filter lifecycle, notifications and ZTF x Rubin groups (one router).

``filters_router(settings)`` is mounted by :func:`fink_like.api.app.create_app`; a portal
links these routes. They call the same functions as ``fink-like filters`` (a filter is
checked whole before one row is written). Python plugin *code* is not accepted over
HTTP (it would run on the broker): submit plugin files with the command line, or name an
installed entry point here. Problems are 400s whose ``detail`` names them; an unknown
filter or object is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from fink_like.errors import ConfigError, FinkLikeError
from fink_like.filters import service


class Submission(BaseModel):
    """A filter as submitted over HTTP: one of expression, plugin (entry point) or watchlist."""

    model_config = ConfigDict(extra="forbid")
    name: str
    topic: str
    owner: str
    description: str = ""
    expression: str | None = None
    plugin: str | None = None
    watchlist: dict[str, Any] | None = None
    cutouts: bool = True
    notify: list[str] = []
    enabled: bool = True
    replace: bool = False


class Toggle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = ""
    reason: str = ""


class DryRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filter: str
    since: str
    until: str
    target: str | None = None


def _bad(exc: FinkLikeError) -> HTTPException:
    status = 404 if isinstance(exc, ConfigError) and str(exc).startswith("no filter named") else 400
    return HTTPException(status, detail=str(exc))


def filters_router(settings) -> APIRouter:
    """Routes under ``/filters``, ``/deliveries`` and ``/groups``."""
    router = APIRouter(tags=["filters"])

    @router.get("/filters", summary="Every stored filter: version, state, owner, topic")
    def list_filters() -> list[dict]:
        with service.opened(settings) as store:
            return [service.revision_dict(r) for _, r in sorted(store.heads().items())]

    @router.post("/filters", summary="Check and store a filter (or, with replace, a new version)")
    def add_filter(body: Submission) -> dict:
        data = body.model_dump(exclude={"replace"})
        try:
            rev, report = service.submit(settings, data, replace=body.replace)
        except FinkLikeError as exc:
            raise _bad(exc) from exc
        return {**service.revision_dict(rev), "check": vars(report)}

    @router.post("/filters/test", summary="Dry run over past nights of the science lake (Spark batch)")
    def test_filter(body: DryRunRequest) -> dict:
        from fink_like.filters.checks import check
        from fink_like.filters.dryrun import dry_run, resolve
        from fink_like.jobs.spark import get_spark

        try:
            with service.opened(settings) as store:
                spec = resolve(settings, body.filter, store)
            check(spec, settings)
            since, until = (service.night(v) for v in (body.since, body.until))
            return dry_run(get_spark(settings), settings, spec, since, until, body.target).to_dict()
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.get("/filters/{name}", summary="One filter's current definition")
    def show_filter(name: str) -> dict:
        try:
            with service.opened(settings) as store:
                store.get(name)
                return service.revision_dict(store.head(name))
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.get("/filters/{name}/history", summary="Every change of one filter, oldest first")
    def filter_history(name: str) -> list[dict]:
        try:
            with service.opened(settings) as store:
                store.get(name)
                return [service.revision_dict(r) for r in store.history(name)]
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    def toggle(name: str, body: Toggle, enabled: bool) -> dict:
        try:
            with service.opened(settings) as store:
                return service.revision_dict(store.set_enabled(name, enabled, by=body.by, reason=body.reason))
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.post("/filters/{name}/enable", summary="Enable a filter (the stream's next micro-batch)")
    def enable(name: str, body: Toggle | None = None) -> dict:
        return toggle(name, body or Toggle(), True)

    @router.post("/filters/{name}/disable", summary="Disable a filter (the stream's next micro-batch)")
    def disable(name: str, body: Toggle | None = None) -> dict:
        return toggle(name, body or Toggle(), False)

    @router.get("/deliveries", summary="Notification delivery log, newest first")
    def deliveries(filter: str | None = None, channel: str | None = None, status: str | None = None,
                   limit: int = 100) -> list[dict]:
        from fink_like.notify.log import DeliveryLog

        with service.opened(settings) as store:
            log = DeliveryLog(store.backend, settings.archive.table_prefix)
            return [vars(d) for d in log.query(filter, channel, status, min(limit, settings.api.max_results))]

    @router.get("/groups/{object_id}", summary="The ZTF x Rubin group of an object, with every member's alerts")
    def group(object_id: str) -> dict:
        found = service.group_with_alerts(settings, object_id)
        if found is None:
            raise HTTPException(404, detail=f"object {object_id!r} is in no group (not archived yet)")
        return found

    return router
