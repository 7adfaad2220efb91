"""Argument types shared by every subcommand: each number and path is checked here, once.

Each function takes the text of one argument and returns its value, or raises
``argparse.ArgumentTypeError`` with a message that names the problem; the parser turns
that into a one-line usage error (exit status 2). Nothing here raises anything else,
whatever the text (``tests/cli/test_args.py`` checks that property with hypothesis).

Examples
--------
>>> positive_float("2.5"), port("8000"), non_negative_float("0")
(2.5, 8000, 0.0)
>>> positive_float("nan")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: not a finite number: 'nan'
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

from fink_like.secrets import echo

# One metavar per kind of value, the same in every command's --help.
METAVARS = {"seconds": "SECONDS", "count": "N", "rate": "RATE", "port": "PORT", "file": "FILE",
            "folder": "DIR", "date": "DATE", "json": "JSON", "host": "HOST"}


def _number(text: str, kind, what: str):
    try:
        value = kind(str(text).strip())
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not {what}: {echo(text)}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {echo(text)}")
    return value


def _at_least(text: str, kind, what: str, low, strict: bool):
    value = _number(text, kind, what)
    if value < low or (strict and value == low):
        bound = "positive" if strict and low == 0 else f"at least {low}"
        raise argparse.ArgumentTypeError(f"must be {bound}, got {echo(text)}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0 (rates, durations)."""
    return _at_least(text, float, "a number", 0, strict=True)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (timeouts where 0 means "do not wait")."""
    return _at_least(text, float, "a number", 0, strict=False)


def finite_float(text: str) -> float:
    """Any finite number (coordinates; their range is the query's to check)."""
    return _number(text, float, "a number")


def positive_int(text: str) -> int:
    """An integer >= 1 (counts, limits)."""
    return _at_least(text, int, "an integer", 1, strict=False)


def non_negative_int(text: str) -> int:
    """An integer >= 0 (seeds)."""
    return _at_least(text, int, "an integer", 0, strict=False)


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    value = _number(text, int, "a port number")
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {echo(text)}")
    return value


def rates(text: str) -> list[float]:
    """A comma-separated list of positive rates: ``100,300``."""
    parts = [p for p in str(text).split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {echo(text)}")
    return [positive_float(p) for p in parts]


def json_object(text: str) -> dict:
    """A JSON object (``{"snia": {"model_version": "v2"}}``)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object keyed by module name")
    return value


def date(text: str) -> str:
    """An MJD or an ISO-8601 date (an offset is converted to UTC); checked, returned as given."""
    from fink_like.archive.query import parse_time
    from fink_like.errors import QueryError

    try:
        parse_time(text)
    except QueryError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def input_path(text: str) -> str:
    """An existing file or folder to read."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{echo(text)} does not exist")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{echo(text)} is not readable")
    return text


def output_file(text: str) -> str:
    """A file that can be written: its folder exists, it is not a folder, writing is allowed.

    Checked by opening it for appending (removed again if it did not exist), because
    permission bits do not tell, as root or on ``/proc``, whether a write would succeed.
    """
    path = Path(text)
    if not text or path.is_dir():
        raise argparse.ArgumentTypeError(f"{echo(text)} is a folder: give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {echo(str(path.parent))} does not exist")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {echo(text)}: {exc.strerror}") from None
    if not existed:
        path.unlink(missing_ok=True)
    return text


def output_folder(text: str) -> str:
    """A folder that exists or can be created, and in which files can be written.

    Creates it (with its parents), then writes and removes a temporary file in it.
    """
    path = Path(text)
    if not text or (path.exists() and not path.is_dir()):
        raise argparse.ArgumentTypeError(f"{echo(text)} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write in folder {echo(text)}: {exc.strerror}") from None
    return text


def check(value: str, kind, flag: str) -> str:
    """Apply an argument type outside argparse (an optional positional); UsageError names ``flag``."""
    from fink_like.errors import UsageError

    try:
        return kind(value)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{flag}: {exc}") from None
