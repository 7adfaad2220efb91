"""``fink-like config show|check|docs``: the effective settings (secrets masked), a check, or the reference."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("config", help="show, check or document the configuration")
    p.add_argument("action", choices=["show", "check", "docs"],
                   help="show: effective settings (credentials masked); check: everything `run` "
                        "checks before it starts (modules resolved and loaded, quality cuts and "
                        "filters compiled); docs: Markdown reference of every key")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    if args.action == "show":
        print(json.dumps(settings.redacted(), indent=2))
    elif args.action == "docs":
        from fink_like.config import reference_markdown

        print(reference_markdown(), end="")
    else:
        from fink_like.jobs.preflight import preflight

        preflight(settings, load_modules=True)
        print("configuration OK")
    return 0
