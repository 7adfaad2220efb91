"""Echoing user input back in messages, bounded: an error never repeats 100 KB of input."""

from __future__ import annotations

ECHO_LIMIT = 64
"""Characters of a bad value that an error message repeats (ids are at most 64 long)."""


def shown(value, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters with the full length stated.

    Examples
    --------
    >>> shown("ZTF21abc")
    "'ZTF21abc'"
    >>> shown("x" * 1000, limit=8)
    "'xxxxxxxx…' (1000 characters)"
    """
    text = value if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return repr(value) if isinstance(value, str) else text
    return f"{text[:limit]!r}"[:-1] + f"…' ({len(text)} characters)"
