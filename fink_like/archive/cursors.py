"""Page cursors: opaque, signed tokens that only this server's answers can contain.

A cursor is the last row key of a page, prefixed with an HMAC-SHA256 tag (16 bytes) and
base64url-encoded. A cursor the server did not issue (forged, edited, truncated) fails
the tag check and is refused, so a client cannot start a scan at a key of its choosing.
The key is ``api.cursor_secret`` when set (cursors then survive restarts and are shared
by replicas), else a random key drawn once per process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from fink_like.errors import QueryError
from fink_like.secrets import echo

_PROCESS_KEY = os.urandom(32)
_TAG = 16


class Cursors:
    """Issue and check the cursors of one server.

    Examples
    --------
    >>> c = Cursors(b"secret")
    >>> c.decode(c.encode(b"ZTF21abc_60000.000000_0000000000000000001"))
    b'ZTF21abc_60000.000000_0000000000000000001'
    """

    def __init__(self, secret: bytes | None = None):
        self._key = secret or _PROCESS_KEY

    def _tag(self, key: bytes) -> bytes:
        return hmac.new(self._key, key, hashlib.sha256).digest()[:_TAG]

    def encode(self, key: bytes) -> str:
        return base64.urlsafe_b64encode(self._tag(key) + key).decode().rstrip("=")

    def decode(self, cursor: str) -> bytes:
        """The row key inside ``cursor``; QueryError when the server did not issue it."""
        problem = f"invalid cursor {echo(cursor)}: pass back next_cursor from a previous page"
        try:
            text = cursor.encode("ascii")
            raw = base64.b64decode(text + b"=" * (-len(text) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError, AttributeError) as exc:
            raise QueryError(problem) from exc
        tag, key = raw[:_TAG], raw[_TAG:]
        if not key or not hmac.compare_digest(tag, self._tag(key)):
            raise QueryError(problem)
        return key
