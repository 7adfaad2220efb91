"""Entry for ``spark-submit bin/<job>.py [--config FILE] [options]`` scripts."""

from __future__ import annotations

import sys

from fink_like.cli import main

GLOBAL_OPTIONS = ("--config", "-c", "--log-level")


def submit(command: str, argv: list[str] | None = None) -> None:
    """Run ``fink-like <command>`` with global options allowed anywhere before job options."""
    argv = list(sys.argv[1:] if argv is None else argv)
    head, rest = [], []
    while argv:
        arg = argv.pop(0)
        if arg in GLOBAL_OPTIONS and argv:
            head += [arg, argv.pop(0)]
        else:
            rest.append(arg)
    sys.exit(main([*head, command, *rest]))
