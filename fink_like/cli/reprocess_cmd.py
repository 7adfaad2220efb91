"""``fink-like reprocess``: rerun science modules over a night range of the raw lake.

Also runs as ``spark-submit bin/reprocess.py --since DATE --until DATE [options]``.
Progress goes to stderr, one line per night; the summary is JSON on stdout.
"""

from __future__ import annotations

import json
import sys

from fink_like.cli.args import json_object


def register(sub) -> None:
    text = "reprocess a night range of the raw lake into the science lake and the archive"
    p = sub.add_parser("reprocess", help=text, description=text)
    p.add_argument("--since", required=True, metavar="DATE",
                   help="first night, YYYY-MM-DD or YYYYMMDD (inclusive)")
    p.add_argument("--until", required=True, metavar="DATE",
                   help="last night, YYYY-MM-DD or YYYYMMDD (inclusive)")
    p.add_argument("--modules", nargs="+", metavar="NAME",
                   help="science modules to run, in order (default: the enabled configured ones)")
    p.add_argument("--module-params", metavar="JSON", type=json_object,
                   help='parameter overrides per module, e.g. \'{"snia": {"model_version": "v2"}}\'')
    p.add_argument("--no-archive", dest="archive", action="store_false",
                   help="do not upsert the reprocessed alerts into the archive")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", dest="restart", action="store_false",
                      help="skip nights already finished with the same modules (default)")
    mode.add_argument("--restart", dest="restart", action="store_true",
                      help="redo every night of the range")
    p.set_defaults(handler=run, restart=False)


def run(args, settings) -> int:
    from fink_like.jobs.reprocess import reprocess

    result = reprocess(settings, args.since, args.until, modules=args.modules,
                       module_params=args.module_params, archive=args.archive,
                       restart=args.restart, progress=lambda line: print(line, file=sys.stderr))
    print(f"reprocessed {result['nights_done']}/{result['nights_total']} nights "
          f"({result['nights_skipped']} already done)", file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 1 if result["module_errors"] else 0
