"""``fink-like topics list|describe [TOPIC]``: topics, the filters feeding them, their volumes."""

from __future__ import annotations

import json

from fink_like.jobs.runs import add_run_flag


def register(sub) -> None:
    p = sub.add_parser("topics", help="list the distribution topics, their filters and volumes")
    p.add_argument("action", choices=["list", "describe"])
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="topic to describe (describe only)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_run_flag(p)
    p.set_defaults(handler=run)


def volumes(conf: dict, topic: str, existing: set[str]) -> dict[int, tuple[int, int]] | None:
    """``{partition: (low, high)}``, or None when the topic does not exist yet."""
    from fink_like.kafka.admin import watermarks

    return watermarks(conf, topic) if topic in existing else None


def run(args, settings) -> int:
    from fink_like.errors import UsageError
    from fink_like.jobs.runs import follow_run_broker
    from fink_like.kafka.admin import list_topics
    from fink_like.kafka.conf import client_conf
    from fink_like.kafka.embedded import running_bootstrap

    settings, _run_dir = follow_run_broker(settings, args.run)
    conf = client_conf(settings.kafka, running_bootstrap(settings))
    existing = set(list_topics(conf))
    filters = [f for f in settings.distribution.filters]
    if args.action == "describe":
        if not args.topic:
            raise UsageError("topics describe needs a TOPIC")
        if args.topic not in existing and not any(f.topic == args.topic for f in filters):
            raise UsageError(f"topic {args.topic!r} is neither configured nor on the cluster")
        filters = [f for f in filters if f.topic == args.topic] or [None]
    rows = []
    for f in filters:
        topic = f.topic if f else args.topic
        marks = volumes(conf, topic, existing)
        rows.append({
            "topic": topic, "filter": f.name if f else None,
            "kind": None if f is None else ("expression" if f.expression else "plugin" if f.plugin else "watchlist"),
            "definition": None if f is None else (f.expression or f.plugin or f.watchlist),
            "cutouts": None if f is None else f.cutouts, "enabled": None if f is None else f.enabled,
            "messages": None if marks is None else sum(h - lo for lo, h in marks.values()),
            "partitions": None if marks is None else {str(p): [lo, h] for p, (lo, h) in marks.items()},
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        volume = "not created yet" if r["messages"] is None else f"{r['messages']} message(s)"
        state = "" if r["enabled"] in (True, None) else " [disabled]"
        print(f"{r['topic']}  ({r['filter']}{state}, {volume})")
        if args.action == "describe" or r["definition"]:
            print(f"    {r['kind']}: {r['definition']}; cutouts: {'full' if r['cutouts'] else 'thin'}")
        if args.action == "describe" and r["partitions"]:
            for p, (lo, h) in r["partitions"].items():
                print(f"    partition {p}: offsets {lo}..{h}")
    return 0
