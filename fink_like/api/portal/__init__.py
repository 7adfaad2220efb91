"""The science portal: server-rendered pages (HTML + inline SVG) over the archive.

``/portal/`` search form and results (download as CSV, JSON or Parquet),
``/portal/objects/{id}`` the object page, ``/portal/streams`` topics and nights,
``/portal/report`` the run report. A little vanilla JavaScript (``static/portal.js``)
sorts tables, toggles magnitude and flux, and posts annotations; nothing comes from a CDN.
"""

# No ``from __future__ import annotations``: FastAPI reads the Annotated aliases defined
# inside the router functions at runtime.
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from fink_like.api.portal import object_page, report, streams
from fink_like.api.portal.context import PipelineContext
from fink_like.api.portal.layout import message, object_url, page, query_url, table
from fink_like.api.portal.search import Search
from fink_like.archive.model import CLASSES
from fink_like.archive.output import MEDIA_TYPES, encode
from fink_like.errors import QueryError
from fink_like.secrets import echo

RESULT_COLUMNS = ["object_id", "alert_id", "survey", "mjd", "ra", "dec", "band", "mag", "class",
                  "separation_arcsec"]
Text = Annotated[str, Query(max_length=200)]


def portal_router(settings, archive, labels, guard) -> APIRouter:
    """The portal's pages; every one needs what the REST reads need (``guard.read``)."""
    router = APIRouter(prefix="/portal", dependencies=[Depends(guard.read)])
    context = PipelineContext(settings)
    streams_data = streams.StreamsData(settings, archive, context)

    def searched(object_id, ra, dec, radius, klass, topic, since, until) -> Search:
        return Search(object_id, ra, dec, radius, klass, topic, since, until)

    @router.get("/", response_class=HTMLResponse)
    @router.get("/search", response_class=HTMLResponse)
    def search(request: Request, object_id: Text = "", ra: Text = "", dec: Text = "", radius: Text = "",
               klass: Annotated[str, Query(alias="class", max_length=64)] = "", topic: Text = "",
               since: Text = "", until: Text = "", limit: Annotated[int, Query(ge=1, le=1000)] = 50,
               cursor: Annotated[str | None, Query(max_length=512)] = None) -> HTMLResponse:
        query = searched(object_id, ra, dec, radius, klass, topic, since, until)
        params = dict(request.query_params)
        form = search_form(params, list(context.topics))
        if not any((object_id, ra, dec, klass, topic, since, until)) and "go" not in params:
            return HTMLResponse(page("Search", form))
        try:
            result = query.run(archive, context, limit, cursor)
        except QueryError as exc:
            return HTMLResponse(page("Search", form + f"<p class='error' id='search-error'>{exc}</p>"), 400)
        return HTMLResponse(page("Search", form + results_html(query, result, params)))

    @router.get("/search.{fmt}")
    def download(fmt: str, object_id: Text = "", ra: Text = "", dec: Text = "", radius: Text = "",
                 klass: Annotated[str, Query(alias="class", max_length=64)] = "", topic: Text = "",
                 since: Text = "", until: Text = "", limit: Annotated[int, Query(ge=1)] = 1000,
                 cursor: Annotated[str | None, Query(max_length=512)] = None) -> Response:
        if fmt not in MEDIA_TYPES:
            raise QueryError(f"unknown download format {echo(fmt)}: use csv, json or parquet")
        query = searched(object_id, ra, dec, radius, klass, topic, since, until)
        table_ = query.run(archive, context, min(limit, settings.api.max_results), cursor).table
        return Response(encode(table_, fmt), media_type=MEDIA_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="fink-like-search.{fmt}"'})

    @router.get("/objects/{object_id}", response_class=HTMLResponse)
    def object_view(object_id: str) -> HTMLResponse:
        rows = archive.object(object_id).records()
        if not rows:
            return HTMLResponse(message("Not found", f"object {echo(object_id)} is not in the archive"), 404)
        limits = archive.upper_limits(object_id).to_pylist()
        return HTMLResponse(object_page.render(object_id, rows, limits, labels.history(object_id),
                                               context.module_of))

    @router.get("/streams", response_class=HTMLResponse)
    def streams_view() -> HTMLResponse:
        return HTMLResponse(streams.render(streams_data.get(), settings))

    @router.get("/report", response_class=HTMLResponse)
    def report_view() -> HTMLResponse:
        return HTMLResponse(report.render(streams.read_summary(settings), report.notable_objects(archive)))

    return router


def search_form(params: dict, topics: list[str]) -> str:
    from html import escape

    def field(name, label, placeholder="", size=14):
        value = escape(params.get(name, ""))
        return (f"<label>{label} <input name='{name}' value='{value}' placeholder='{placeholder}' "
                f"size='{size}' maxlength='200'></label>")

    def choice(name, label, options):
        opts = "".join(f"<option{' selected' if params.get(name) == o else ''}>{escape(o)}</option>"
                       for o in options)
        return f"<label>{label} <select name='{name}'><option value=''>any</option>{opts}</select></label>"

    return ("<h1>Search the archive</h1><form id='search' action='/portal/search' method='get'>"
            + field("object_id", "Object id", "ZTF21abcdefg", 18)
            + "<fieldset><legend>Cone</legend>" + field("ra", "RA", "193.82 or 12:55:16.8")
            + field("dec", "Dec", "2.89 or +02:53:24") + field("radius", "Radius", "30 arcsec, 2', 1 deg", 12)
            + "</fieldset>" + choice("class", "Class", list(CLASSES)) + choice("topic", "Topic", topics)
            + field("since", "Since", "MJD or 2025-09-21") + field("until", "Until", "MJD or ISO date")
            + "<input type='hidden' name='go' value='1'><button type='submit'>Search</button></form>")


def results_html(query: Search, result, params: dict) -> str:
    from html import escape

    rows = result.records()
    columns = [c for c in RESULT_COLUMNS if rows and c in rows[0]]
    base = {k: v for k, v in params.items() if k not in ("cursor",)}
    nav = []
    if params.get("cursor"):
        nav.append(f"<a href='{escape(query_url('/portal/search', base))}'>first page</a>")
    if result.next_cursor:
        nav.append(f"<a id='next-page' href='{escape(query_url('/portal/search', base | {'cursor': result.next_cursor}))}'>next page</a>")
    downloads = " ".join(f"<a class='download' href='{escape(query_url(f'/portal/search.{f}', params))}'>{f.upper()}</a>"
                         for f in MEDIA_TYPES)
    return (f"<h2>Results: {escape(query.describe())}</h2><p><span id='result-count'>{len(rows)}</span> "
            f"alert(s) on this page · download {downloads} · {' · '.join(nav)}</p>"
            + table(columns, [[r.get(c) for c in columns] for r in rows], "results",
                    links={"object_id": object_url}))
