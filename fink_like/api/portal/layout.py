"""The portal's page shell and small HTML builders (everything escaped, no templates needed)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode

from fink_like import __version__

NAV = (("Search", "/portal/"), ("Streams", "/portal/streams"), ("Run report", "/portal/report"),
       ("API", "/docs"))


def page(title: str, body: str) -> str:
    """A complete HTML page: navigation, the token box, the body, the portal's CSS and script."""
    links = "".join(f'<a href="{href}">{escape(name)}</a>' for name, href in NAV)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · fink-like</title>"
        "<link rel='icon' href='/static/favicon.svg'>"
        "<link rel='stylesheet' href='/static/portal.css'></head><body>"
        f"<nav><strong>fink-like</strong> {links}"
        "<span class='token'><input id='token-box' type='password' placeholder='API token' "
        "autocomplete='off' aria-label='API token'><button id='token-save' type='button'>use token</button>"
        "<span id='token-state'></span></span></nav>"
        f"<main>{body}</main><footer>fink-like {escape(__version__)}</footer>"
        "<script src='/static/portal.js'></script></body></html>"
    )


def table(columns: list[str], rows: list[list], table_id: str = "", links: dict | None = None) -> str:
    """A sortable table (click a header); ``links`` maps a column to a function value -> URL."""
    links = links or {}
    head = "".join(f"<th data-col='{i}'>{escape(c)}</th>" for i, c in enumerate(columns))
    body = []
    for row in rows:
        cells = []
        for column, value in zip(columns, row):
            text = escape(fmt(value))
            if column in links and value is not None:
                text = f"<a href='{escape(links[column](value))}'>{text}</a>"
            cells.append(f"<td data-v='{escape(sort_value(value))}'>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    ident = f" id='{escape(table_id)}'" if table_id else ""
    return f"<table class='sortable'{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e5 else f"{value:.6f}"
    return str(value)


def sort_value(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, (int, float)) else str(value)


def object_url(object_id) -> str:
    return f"/portal/objects/{quote(str(object_id), safe='')}"


def query_url(path: str, params: dict) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


def section(title: str, body: str, ident: str) -> str:
    return f"<section id='{ident}'><h2>{escape(title)}</h2>{body}</section>"


def message(title: str, text: str) -> str:
    return page(title, f"<h1>{escape(title)}</h1><p class='error'>{escape(text)}</p>")
