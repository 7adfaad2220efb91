"""``fink-like gcn listen|replay``: multi-messenger events from GCN (docs/multimessenger.md).

Credentials for GCN Kafka come from the settings (``gcn.client_id``,
``gcn.client_secret`` or ``FINK_LIKE__GCN__CLIENT_SECRET``), never from flags. Both
commands print the counts as JSON; the exit status is 0 even when notices were
quarantined (they are data, with their reason), 2 for bad arguments.
"""

from __future__ import annotations

import json

from fink_like.jobs.runs import add_run_flag


def register(sub) -> None:
    p = sub.add_parser("gcn", help="multi-messenger events: GCN notices from Kafka or files")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=sub._parser_class)
    r = verbs.add_parser("replay", help="apply notice files (folders: every .json inside, sorted)")
    r.add_argument("files", nargs="+", metavar="FILE")
    listen = verbs.add_parser("listen", help="apply notices from GCN Kafka (gcn.* settings)")
    listen.add_argument("--topic", action="append", metavar="TOPIC", help="instead of gcn.topics (repeat)")
    listen.add_argument("--from-beginning", action="store_true",
                        help="start at the oldest notice when the group has no committed offset")
    listen.add_argument("--max", type=int, metavar="N", help="stop after N notices")
    listen.add_argument("--idle-timeout", type=float, metavar="SECONDS",
                        help="stop after SECONDS without a notice (default: run until Ctrl-C)")
    for parser in (r, listen):
        add_run_flag(parser)
        parser.add_argument("--no-retro", action="store_true", help="do not search the archive for new events")
        parser.add_argument("--no-publish", action="store_true", help="record retroactive matches, do not publish")
        parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.errors import UsageError
    from fink_like.jobs.runs import follow_run
    from fink_like.kafka.conf import gcn_conf
    from fink_like.mm.ingest import NoticeIngestor
    from fink_like.mm.listen import listen, notice_files, replay_files

    if args.verb == "listen":
        if args.max is not None and args.max <= 0:
            raise UsageError("--max must be a positive number of notices")
        conf = gcn_conf(settings.gcn)  # missing credentials stop here, before anything is opened
    else:
        notice_files(args.files)       # a missing file is a usage error, before anything is opened
    settings, _run_dir = follow_run(settings, args.run)  # the archive and lake the retroactive search reads
    ingestor = NoticeIngestor(settings, retro=not args.no_retro, publish=not args.no_publish)
    try:
        if args.verb == "replay":
            replay_files(ingestor, args.files)
        else:
            g = settings.gcn
            listen(ingestor, conf, args.topic or g.topics, g.group_id,
                   args.from_beginning or g.starting_offsets == "earliest", args.max, args.idle_timeout)
    finally:
        ingestor.close()
        print(json.dumps(ingestor.report.as_dict(), indent=1))
    return 0
