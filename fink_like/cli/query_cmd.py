"""``fink-like query object|cone|class|latest``: read the archive from the command line.

Cone radius is in arcseconds; dates are MJD numbers or ISO-8601 strings (UTC).
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("query", help="query the archive (object, cone, class, latest)")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True,
                             parser_class=sub._parser_class)
    o = kinds.add_parser("object", help="the light curve (every alert) of one object")
    o.add_argument("object_id", metavar="ID")
    c = kinds.add_parser("cone", help="alerts within RADIUS arcsec of RA, DEC (degrees)")
    c.add_argument("ra", type=float, metavar="RA")
    c.add_argument("dec", type=float, metavar="DEC")
    c.add_argument("radius", type=float, metavar="RADIUS", help="arcseconds (at most 18000)")
    c.add_argument("--since", help="earliest observation: MJD or ISO date")
    c.add_argument("--until", help="latest observation: MJD or ISO date")
    k = kinds.add_parser("class", help="the latest alerts of one archive class")
    k.add_argument("name", metavar="NAME", help='e.g. "SN Ia candidate"')
    k.add_argument("--since", help="earliest observation: MJD or ISO date")
    kinds.add_parser("latest", help="the most recent alerts")
    for parser in (o, c, k, kinds.choices["latest"]):
        parser.add_argument("--limit", type=int, help="most rows (default api.default_limit)")
        parser.add_argument("--format", default="table", choices=["table", "json", "csv", "parquet"])
        parser.add_argument("--output", metavar="FILE", help="write here instead of stdout")
        parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.archive.output import render
    from fink_like.archive.query import Archive

    archive = Archive(settings)
    try:
        if args.kind == "object":
            result = archive.object(args.object_id, limit=args.limit)
        elif args.kind == "cone":
            result = archive.cone(args.ra, args.dec, args.radius, since=args.since, until=args.until,
                                  limit=args.limit)
        elif args.kind == "class":
            result = archive.by_class(args.name, since=args.since, limit=args.limit)
        else:
            result = archive.latest(limit=args.limit)
        render(result.table, args.format, args.output)
        if result.next_cursor:
            print(f"(more results: raise --limit, at most {settings.api.max_results})", file=sys.stderr)
    finally:
        archive.close()
    return 0
