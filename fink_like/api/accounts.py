"""Users, roles and API tokens, stored in the archive (tables ``users`` and ``tokens``).

Roles are ordered: ``reader`` < ``annotator`` (may label objects) < ``admin``. A token
is 256 random bits shown once, when issued; the archive keeps only its SHA-256. A slow
password hash (scrypt) protects guessable secrets; a random 256-bit token cannot be
guessed, so a fast hash loses nothing and lets every request be checked in one lookup.
``fink-like users`` manages them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from fink_like.archive import model
from fink_like.archive.backends import LazyBackend
from fink_like.errors import FinkLikeError
from fink_like.secrets import echo

ROLES = ("reader", "annotator", "admin")
_NAME = re.compile(r"^[A-Za-z0-9.\-]{1,64}$")


class AccountError(FinkLikeError):
    """A user or token operation is invalid (unknown user, bad name or role)."""


@dataclass(frozen=True)
class User:
    """Who sent a request, and what they may do."""

    name: str
    role: str

    def can(self, role: str) -> bool:
        """Whether this user's role is ``role`` or above it."""
        return ROLES.index(self.role) >= ROLES.index(role)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Accounts(LazyBackend):
    """The users and tokens of the archive named by ``settings.archive``."""

    def _table(self, which: str) -> str:
        return model.table_name(self.settings.archive.table_prefix, which)

    def add_user(self, name: str, role: str) -> str:
        """Create (or change the role of) ``name``; return a new token for it."""
        if not _NAME.match(name or ""):
            raise AccountError(f"invalid user name {echo(name)}: use 1-64 letters, digits, '.', '-'")
        if role not in ROLES:
            raise AccountError(f"unknown role {echo(role)}: use one of {', '.join(ROLES)}")
        self.backend.put(self._table("users"), name.encode(), {
            b"u:role": role.encode(), b"u:created": _now().encode()})
        return self.issue_token(name)

    def issue_token(self, name: str) -> str:
        """A new token for an existing user (older tokens stay valid until revoked)."""
        if self.user(name) is None:
            raise AccountError(f"no user {echo(name)}: create it with `fink-like users add`")
        token = "fl_" + secrets.token_urlsafe(32)
        self.backend.put(self._table("tokens"), token_hash(token).encode(), {
            b"t:user": name.encode(), b"t:created": _now().encode()})
        return token

    def remove_user(self, name: str) -> int:
        """Delete ``name`` and every token of it; return how many tokens were revoked."""
        if self.user(name) is None:
            raise AccountError(f"no user {echo(name)}")
        revoked = [k for k, c in self.backend.scan(self._table("tokens")) if c.get(b"t:user") == name.encode()]
        for key in revoked:
            self.backend.delete(self._table("tokens"), key)
        self.backend.delete(self._table("users"), name.encode())
        return len(revoked)

    def user(self, name: str) -> User | None:
        cells = self.backend.get(self._table("users"), name.encode())
        return User(name, cells[b"u:role"].decode()) if cells else None

    def users(self) -> list[dict]:
        tokens: dict[str, int] = {}
        for _, cells in self.backend.scan(self._table("tokens")):
            tokens[cells[b"t:user"].decode()] = tokens.get(cells[b"t:user"].decode(), 0) + 1
        return [{"name": k.decode(), "role": c[b"u:role"].decode(), "created": c[b"u:created"].decode(),
                 "tokens": tokens.get(k.decode(), 0)} for k, c in self.backend.scan(self._table("users"))]

    def authenticate(self, token: str) -> User | None:
        """The user holding ``token``, or None for an unknown or revoked token."""
        cells = self.backend.get(self._table("tokens"), token_hash(token).encode())
        return self.user(cells[b"t:user"].decode()) if cells else None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


__all__ = ["Accounts", "AccountError", "ROLES", "User"]
