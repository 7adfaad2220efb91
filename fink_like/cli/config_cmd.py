"""``fink-like config show|check``: print the effective settings (secrets masked) or validate them."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("config", help="show or check the effective configuration")
    p.add_argument("action", choices=["show", "check"])
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    if args.action == "show":
        print(json.dumps(settings.redacted(), indent=2))
    else:
        print("configuration OK")
    return 0
