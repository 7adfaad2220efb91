"""Argument types shared by the subcommands: a bad value is a usage error naming it."""

from __future__ import annotations

import argparse


def positive_float(text: str) -> float:
    return _positive(text, float, "a number")


def positive_int(text: str) -> int:
    return _positive(text, int, "an integer")


def _positive(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value
