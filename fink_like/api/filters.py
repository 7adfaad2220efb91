"""API routes of the filter lifecycle, notifications and ZTF x Rubin groups (one router).

``filters_router(settings)`` is mounted by :func:`fink_like.api.app.create_app`; a portal
links these routes. They call the same functions as ``fink-like filters`` (a filter is
checked whole before one row is written). Python plugin *code* is not accepted over
HTTP (it would run on the broker): submit plugin files with the command line, or name an
installed entry point here. Problems are 400s whose ``detail`` names them; an unknown
filter or object is a 404.

Reading (and the dry run) passes the application's ``guard.read``. Changing filters needs
a token of role ``annotator`` or ``admin``: the token's user becomes the owner of a new
filter, and only the owner or an admin may replace, enable or disable it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict

from fink_like.api.errors import responses
from fink_like.api.routes import OBJECT_ID_PATTERN
from fink_like.errors import ConfigError, FinkLikeError
from fink_like.filters import service
from fink_like.filters.store import NAME

FilterName = Annotated[str, Path(description="the filter's name", pattern=NAME.pattern, max_length=64)]


class Submission(BaseModel):
    """A filter as submitted over HTTP: one of expression, plugin (entry point) or watchlist."""

    model_config = ConfigDict(extra="forbid")
    name: str
    topic: str
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


def writer(guard):
    """A dependency: the token's user, who must be an annotator or an admin."""

    def dependency(request: Request):
        return guard.writer(request, "changing filters")

    return dependency


def _owned(store, name: str, user) -> None:
    owner = store.get(name).owner
    if owner != user.name and not user.can("admin"):
        raise HTTPException(403, f"filter {name!r} belongs to {owner!r}: only its owner or an admin may change it")


def filters_router(settings, guard) -> APIRouter:
    """Routes under ``/filters``, ``/deliveries`` and ``/groups``."""
    router = APIRouter(tags=["filters"], dependencies=[Depends(guard.read)],
                       responses=responses(400, 401, 429, 503))
    writes, named = responses(403, 404), responses(404)
    can_write = writer(guard)

    @router.get("/filters", summary="Every stored filter: version, state, owner, topic")
    def list_filters(owner: Annotated[str | None, Query(max_length=64)] = None,
                     enabled: bool | None = None) -> list[dict]:
        with service.opened(settings) as store:
            heads = [r for _, r in sorted(store.heads().items())]
        return [service.revision_dict(r) for r in heads if (owner is None or r.spec.owner == owner)
                and (enabled is None or r.spec.enabled == enabled)]

    @router.post("/filters", summary="Check and store a filter (or, with replace, a new version)",
                 responses=writes)
    def add_filter(body: Submission, user=Depends(can_write)) -> dict:
        data = {**body.model_dump(exclude={"replace"}), "owner": user.name}
        try:
            with service.opened(settings) as store:
                if body.replace:
                    _owned(store, body.name, user)
                rev, report = service.submit(settings, data, replace=body.replace, store=store)
        except FinkLikeError as exc:
            raise _bad(exc) from exc
        return {**service.revision_dict(rev), "check": vars(report)}

    @router.post("/filters/test", summary="Dry run over past nights of the science lake (Spark batch)",
                 responses=named)
    def test_filter(body: DryRunRequest) -> dict:
        from fink_like.filters.checks import check
        from fink_like.filters.dryrun import dry_run, resolve

        try:
            with service.opened(settings) as store:
                spec = resolve(settings, body.filter, store)
            check(spec, settings)
            since, until = (service.night(v) for v in (body.since, body.until))
            return dry_run(None, settings, spec, since, until, body.target).to_dict()
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.get("/filters/{name}", summary="One filter's current definition", responses=named)
    def show_filter(name: FilterName) -> dict:
        try:
            with service.opened(settings) as store:
                store.get(name)
                return service.revision_dict(store.head(name))
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.get("/filters/{name}/history", summary="Every change of one filter, oldest first", responses=named)
    def filter_history(name: FilterName) -> list[dict]:
        try:
            with service.opened(settings) as store:
                store.get(name)
                return [service.revision_dict(r) for r in store.history(name)]
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    def toggle(name: str, body: Toggle, enabled: bool, user) -> dict:
        try:
            with service.opened(settings) as store:
                _owned(store, name, user)
                return service.revision_dict(store.set_enabled(name, enabled, by=user.name, reason=body.reason))
        except FinkLikeError as exc:
            raise _bad(exc) from exc

    @router.post("/filters/{name}/enable", summary="Enable a filter (the stream's next micro-batch)",
                 responses=writes)
    def enable(name: FilterName, body: Toggle | None = None, user=Depends(can_write)) -> dict:
        return toggle(name, body or Toggle(), True, user)

    @router.post("/filters/{name}/disable", summary="Disable a filter (the stream's next micro-batch)",
                 responses=writes)
    def disable(name: FilterName, body: Toggle | None = None, user=Depends(can_write)) -> dict:
        return toggle(name, body or Toggle(), False, user)

    @router.get("/deliveries", summary="Notification delivery log, newest first")
    def deliveries(filter: str | None = None, channel: str | None = None, status: str | None = None,
                   limit: int = 100) -> list[dict]:
        from fink_like.notify.log import DeliveryLog

        with service.opened(settings) as store:
            log = DeliveryLog(store.backend, settings.archive.table_prefix)
            return [vars(d) for d in log.query(filter, channel, status, min(limit, settings.api.max_results))]

    @router.get("/groups/{object_id}", summary="The ZTF x Rubin group of an object, with every member's alerts",
                responses=named)
    def group(object_id: Annotated[str, Path(pattern=OBJECT_ID_PATTERN, max_length=64)]) -> dict:
        found = service.group_with_alerts(settings, object_id)
        if found is None:
            raise HTTPException(404, detail=f"object {object_id!r} is in no group (not archived yet)")
        return found

    return router
