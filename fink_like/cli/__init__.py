"""The ``fink-like`` command: one console script, one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser and sets
``handler`` to a function ``(args, settings) -> int``. Heavy imports (Spark, torch)
happen inside handlers so that ``fink-like --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from fink_like import __version__
from fink_like.errors import ConfigError, FinkLikeError, UsageError

# Subcommand name -> module under fink_like.cli. Explicit on purpose: no folder scanning.
COMMANDS = {
    "config": "fink_like.cli.config_cmd",
    "kafka": "fink_like.cli.kafka_cmd",
    "simulate": "fink_like.cli.simulate_cmd",
    "ingest": "fink_like.cli.jobs_cmd",
    "science": "fink_like.cli.jobs_cmd",
    "distribute": "fink_like.cli.jobs_cmd",
    "archive": "fink_like.cli.jobs_cmd",
    "pipeline": "fink_like.cli.jobs_cmd",
    "run": "fink_like.cli.run_cmd",
    "modules": "fink_like.cli.modules_cmd",
    "al": "fink_like.cli.al_cmd",
    "consume": "fink_like.cli.consume_cmd",
    "topics": "fink_like.cli.topics_cmd",
    "schema": "fink_like.cli.schema_cmd",
    "query": "fink_like.cli.query_cmd",
    "serve": "fink_like.cli.serve_cmd",
    "users": "fink_like.cli.users_cmd",
    "reprocess": "fink_like.cli.reprocess_cmd",
    "bench": "fink_like.cli.bench_cmd",
    "cluster": "fink_like.cli.cluster_cmd",
    "gcn": "fink_like.cli.gcn_cmd",
    "bench-api": "fink_like.cli.bench_api_cmd",
    "filters": "fink_like.cli.filters_cmd",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse exits 2 itself; keep that, but through UsageError
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fink-like", description="An alert broker for ZTF and Rubin.")
    parser.add_argument("--version", action="version", version=f"fink-like {__version__}")
    parser.add_argument(
        "--config", "-c", metavar="FILE",
        help="YAML settings file (default: $FINK_LIKE_CONFIG, else the embedded configuration, "
             "conf/local.yaml)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    registered = set()
    for module_name in dict.fromkeys(COMMANDS.values()):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a subcommand whose module is not part of this build
        module.register(sub)
        registered.add(module_name)
    _describe_all(sub)
    return parser


def _describe_all(sub) -> None:
    """``fink-like X --help`` starts with what X does: its one-line help when it has no description."""
    for action in sub._choices_actions:
        command = sub.choices[action.dest]
        if not command.description and action.help:
            command.description = action.help[0].upper() + action.help[1:] + "."
        for nested in command._actions:
            if isinstance(nested, argparse._SubParsersAction):
                _describe_all(nested)


def settings_file(option: str | None) -> str | os.PathLike:
    """``--config``, else ``$FINK_LIKE_CONFIG``, else the embedded configuration."""
    from fink_like.config import EMBEDDED_CONFIG

    return option or os.environ.get("FINK_LIKE_CONFIG") or EMBEDDED_CONFIG


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    from fink_like.config import load_settings
    from fink_like.logs import setup_logging

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):  # a command without its action shows its own help
            getattr(args, "help_parser", parser).print_help()
            return 2
        setup_logging(args.log_level)
        settings = load_settings(settings_file(args.config))
        return int(args.handler(args, settings) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except FinkLikeError as exc:
        logging.getLogger("fink_like").debug("failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the machine refused (disk full, permissions): one line, no traceback
        logging.getLogger("fink_like").debug("failed", exc_info=True)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
