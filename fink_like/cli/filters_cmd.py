"""``fink-like filters add|test|enable|disable|list|show|history|deliveries``: users' filters.

``add`` checks the filter (syntax, columns, plugin import and contract, speed on real
alerts) and stores it as a new version; the running stream picks it up at its next
micro-batch. ``test`` is the dry run over past nights of the science lake (Spark batch).
"""

from __future__ import annotations

import json
import sys

from fink_like.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("filters", help="users' filters: add, dry-run, enable, disable, inspect")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=sub._parser_class)
    a = verbs.add_parser("add", help="check and store a filter (a new one, or --replace: a new version)")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--topic", required=True, help="Kafka topic of the selected alerts")
    a.add_argument("--owner", required=True, help="who answers for the filter")
    a.add_argument("--description", default="")
    kind = a.add_mutually_exclusive_group(required=True)
    kind.add_argument("--expression", help="e.g. \"snia_prob > 0.8 and ndethist <= 5\"")
    kind.add_argument("--plugin", help="entry-point name in the group fink_like.filters")
    kind.add_argument("--plugin-file", help="a Python file defining one AlertFilter subclass")
    kind.add_argument("--watchlist", metavar="YAML", help="a watch list: objects, cones, pixels, moc, files")
    a.add_argument("--thin", action="store_true", help="publish without cutouts")
    a.add_argument("--notify", action="append", default=[], metavar="CHANNEL",
                   help="a channel of notifications.channels (repeatable)")
    a.add_argument("--replace", action="store_true", help="store a new version of an existing filter")
    a.add_argument("--disabled", action="store_true", help="store it disabled")
    t = verbs.add_parser("test", help="dry run over past nights of the science lake")
    t.add_argument("filter", metavar="NAME|EXPR")
    t.add_argument("--since", required=True, help="first night, YYYYMMDD or YYYY-MM-DD")
    t.add_argument("--until", required=True, help="last night, YYYYMMDD or YYYY-MM-DD")
    t.add_argument("--target", help='class whose purity to estimate from the labels, e.g. "SN Ia"')
    t.add_argument("--format", default="table", choices=["table", "json"])
    for verb in ("enable", "disable"):
        e = verbs.add_parser(verb, help=f"{verb} a filter (effective at the stream's next micro-batch)")
        e.add_argument("name", metavar="NAME")
        e.add_argument("--reason", default="")
        e.add_argument("--by", default="")
    ls = verbs.add_parser("list", help="every stored filter, its version and state")
    ls.add_argument("--format", default="table", choices=["table", "json"])
    s = verbs.add_parser("show", help="one filter's current definition (with a plugin's code)")
    s.add_argument("name", metavar="NAME")
    h = verbs.add_parser("history", help="every change of one filter")
    h.add_argument("name", metavar="NAME")
    h.add_argument("--format", default="table", choices=["table", "json"])
    d = verbs.add_parser("deliveries", help="the notification delivery log, newest first")
    d.add_argument("--filter")
    d.add_argument("--channel")
    d.add_argument("--status", choices=["delivered", "retry", "failed", "rate_limited"])
    d.add_argument("--limit", type=int, default=50)
    for parser in verbs.choices.values():
        parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.filters import service

    if args.verb == "add":
        return _add(args, settings)
    if args.verb == "test":
        return _test(args, settings)
    with service.opened(settings) as store:
        if args.verb in ("enable", "disable"):
            rev = store.set_enabled(args.name, args.verb == "enable", by=args.by, reason=args.reason)
            print(f"{rev.name}: {args.verb}d (version {rev.spec.version}, revision {rev.revision})")
        elif args.verb == "list":
            rows = [service.revision_dict(r) for _, r in sorted(store.heads().items())]
            _print(rows, args.format, ("name", "version", "enabled", "kind", "topic", "owner", "at"))
        elif args.verb == "show":
            print(json.dumps(service.revision_dict(store.head(args.name) or _unknown(store, args.name), True),
                             indent=2))
        elif args.verb == "history":
            rows = [service.revision_dict(r) for r in store.history(args.name)] or [_unknown(store, args.name)]
            _print(rows, args.format, ("revision", "version", "action", "enabled", "at", "by", "reason"))
        else:
            from fink_like.notify.log import DeliveryLog

            dlog = DeliveryLog(store.backend, settings.archive.table_prefix)
            rows = [vars(d) for d in dlog.query(args.filter, args.channel, args.status, args.limit)]
            _print(rows, "table", ("at", "filter", "version", "channel", "status", "attempt", "alerts", "error"))
    return 0


def _unknown(store, name):
    store.get(name)  # raises ConfigError naming the known filters


def _add(args, settings) -> int:
    from fink_like.filters.service import submit

    data = {"name": args.name, "topic": args.topic, "owner": args.owner, "description": args.description,
            "expression": args.expression, "plugin": args.plugin, "plugin_file": args.plugin_file,
            "cutouts": not args.thin, "notify": args.notify, "enabled": not args.disabled}
    if args.watchlist:
        from fink_like.config import read_yaml

        data["watchlist"] = read_yaml(args.watchlist)
    rev, report = submit(settings, data, replace=args.replace, base_dir=_base(args))
    speed = f"{report.ms_per_alert:.4f} ms/alert" if report.ms_per_alert is not None else "no lake sample"
    print(f"{rev.name}: version {rev.spec.version} stored ({rev.action}); columns {', '.join(report.columns)}; "
          f"selected {report.selected} of {report.sample_size} sample alerts ({speed})")
    return 0


def _base(args):
    from pathlib import Path

    return Path(args.watchlist).parent if args.watchlist else Path(".")


def _test(args, settings) -> int:
    from fink_like.filters import service
    from fink_like.filters.dryrun import dry_run, resolve

    since, until = _night(args.since), _night(args.until)
    if since > until:
        raise UsageError(f"--since {args.since} is after --until {args.until}")
    with service.opened(settings) as store:
        spec = resolve(settings, args.filter, store)
    from fink_like.filters.checks import check

    check(spec, settings)  # syntax, columns and plugin errors before Spark starts
    report = dry_run(None, settings, spec, since, until, args.target)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2, default=str))
        return 0
    print(f"filter {report.filter} (version {report.version}), nights {since}..{until}: "
          f"expected {report.expected_per_day:.1f} messages per day")
    for n in report.nights:
        purity = "" if n.purity is None else f", purity for {report.target}: {n.purity:.2f} of {n.labelled} labelled"
        print(f"\n{n.night}: {n.selected} of {n.alerts} alerts selected{purity}")
        print(f"  classes: {n.classes}\n  cross-matches: {n.xmatch}\n  labels: {n.labels}")
        for s in n.samples:
            print(f"  - {s['object_id']} alert {s['alert_id']} {s['survey']} mjd {s['mjd']:.5f} "
                  f"{s['band']} {s['mag']} [{s['class']}]")
    return 0


def _night(text: str) -> str:
    from fink_like.errors import ConfigError
    from fink_like.filters.service import night

    try:
        return night(text)
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _print(rows: list[dict], fmt: str, columns: tuple[str, ...]) -> None:
    if fmt == "json":
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        print("(none)", file=sys.stderr)
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns))
