"""``fink-like query object|cone|class|latest|sso|event``: read the archive from the command line.

Cone radius is in arcseconds; dates are MJD numbers or ISO-8601 strings (an offset such
as ``+02:00`` is converted to UTC). By default the latest run's archive is read
(``--run`` picks another; see :mod:`fink_like.jobs.runs`).
"""

from __future__ import annotations

import sys

from fink_like.cli.args import date, finite_float, output_file, positive_float, positive_int
from fink_like.jobs.runs import add_run_flag


def register(sub) -> None:
    p = sub.add_parser("query", help="query the archive (object, cone, class, latest)")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True,
                             parser_class=sub._parser_class)
    o = kinds.add_parser("object", help="the light curve (every alert) of one object")
    o.add_argument("object_id", metavar="ID")
    c = kinds.add_parser("cone", help="alerts within RADIUS arcsec of RA, DEC (degrees)")
    c.add_argument("ra", type=finite_float, metavar="RA")
    c.add_argument("dec", type=finite_float, metavar="DEC")
    c.add_argument("radius", type=positive_float, metavar="RADIUS", help="arcseconds (at most 18000)")
    k = kinds.add_parser("class", help="the latest alerts of one archive class")
    k.add_argument("name", metavar="NAME", help='e.g. "SN Ia candidate"')
    latest = kinds.add_parser("latest", help="the most recent alerts")
    s = kinds.add_parser("sso", help="the alerts of one known solar-system object")
    s.add_argument("designation", metavar="DESIGNATION", help="as the survey writes it, e.g. 2009PB15, K13L24L")
    e = kinds.add_parser("event", help="one multi-messenger event and its matched alerts")
    e.add_argument("event_id", metavar="ID", help="e.g. lvk-S230518h, icecube-137840-57034692")
    for parser in (c, k):
        parser.add_argument("--since", type=date, metavar="DATE", help="earliest observation: MJD or ISO date")
        parser.add_argument("--until", type=date, metavar="DATE", help="latest observation: MJD or ISO date")
    for parser in (o, c, k, latest, s, e):
        parser.add_argument("--limit", type=positive_int, metavar="N", help="most rows (default api.default_limit)")
        parser.add_argument("--format", default="table", choices=["table", "json", "csv", "parquet"])
        parser.add_argument("--output", type=output_file, metavar="FILE", help="write here instead of stdout")
        add_run_flag(parser)
        parser.set_defaults(handler=run)


def open_archive_for_reading(settings, run: str | None):
    """The archive of ``--run`` (default: the latest one), refusing one that does not exist.

    Shared by ``query`` and ``serve``: neither may create an empty archive by reading.
    """
    from pathlib import Path

    from fink_like.archive.query import Archive
    from fink_like.errors import ArchiveError
    from fink_like.jobs.runs import follow_run, where_runs_are

    settings, _run_dir = follow_run(settings, run)
    path = settings.archive.path
    if settings.archive.backend == "embedded" and not Path(path).is_file():
        raise ArchiveError(f"archive not found: {path}; {where_runs_are()}")
    return settings, Archive(settings)


def bounded(text: str, limit: int = 400) -> str:
    """A message that may quote the user's input, cut to ``limit`` characters."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def run(args, settings) -> int:
    from fink_like.archive.output import render
    from fink_like.errors import QueryError, UsageError

    if args.kind == "event":
        return show_event(args, settings)
    settings, archive = open_archive_for_reading(settings, args.run)
    try:
        if args.kind == "object":
            result = archive.object(args.object_id, limit=args.limit)
        elif args.kind == "cone":
            result = archive.cone(args.ra, args.dec, args.radius, since=args.since, until=args.until,
                                  limit=args.limit)
        elif args.kind == "sso":
            result = archive.sso(args.designation, limit=args.limit)
        elif args.kind == "class":
            result = archive.by_class(args.name, since=args.since, until=args.until, limit=args.limit)
        else:
            result = archive.latest(limit=args.limit)
        render(result.table, args.format, args.output)
        if result.next_cursor:
            print(f"(more results: raise --limit, at most {settings.api.max_results})", file=sys.stderr)
    except QueryError as exc:  # a bad argument of the query: a usage error here
        raise UsageError(f"query {args.kind}: {bounded(str(exc))}") from None
    finally:
        archive.close()
    return 0


def show_event(args, settings) -> int:
    """The event's record (stderr for the table format) and its matched alerts."""
    import json

    import pyarrow as pa

    from fink_like.archive.output import render
    from fink_like.mm.store import EventStore, event_matches

    store = EventStore(settings.mm.store)
    try:
        record, matches = event_matches(store, args.event_id, args.limit)
    finally:
        store.close()
    if args.format == "json":
        text = json.dumps({"event": record, "count": len(matches), "matches": matches}, indent=1) + "\n"
        if args.output:
            with open(args.output, "w") as handle:
                handle.write(text)
        else:
            sys.stdout.write(text)
        return 0
    if args.format == "table":
        print(json.dumps(record, indent=1), file=sys.stderr)
    render(pa.Table.from_pylist(matches), args.format, args.output)
    return 0
