"""Who is asking, and how often: token authentication, roles and a per-token rate limit.

A token comes in ``Authorization: Bearer <token>`` (the REST API) or in the cookie
``fink_token`` (the portal, set from its token box). Reading is open to anyone when
``api.public_read`` is true; writing (annotations) always needs a token whose role is
``annotator`` or ``admin``. Each token (or, without one, each client address) may send
``api.rate_limit_per_minute`` requests per minute; more get 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import HTTPException, Request

from fink_like.api.accounts import Accounts, User, token_hash

COOKIE = "fink_token"
WINDOW_S = 60.0


class RateLimiter:
    """At most ``per_minute`` hits per key in each fixed one-minute window (0: no limit)."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one request; return 0, or the seconds to wait when the key is over its limit."""
        if not self.per_minute:
            return 0.0
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= WINDOW_S:
                start, count = now, 0
            if count >= self.per_minute:
                return WINDOW_S - (now - start)
            self._windows[key] = (start, count + 1)
            if len(self._windows) > 100_000:  # forget idle keys rather than grow without bound
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < WINDOW_S}
        return 0.0


class Guard:
    """FastAPI dependencies: :meth:`read` for every read route, :meth:`annotator` for writes."""

    def __init__(self, settings, accounts: Accounts):
        self.public_read = settings.api.public_read
        self.accounts = accounts
        self.limiter = RateLimiter(settings.api.rate_limit_per_minute)

    @staticmethod
    def token(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header[:7].lower() == "bearer ":
            return header[7:].strip() or None
        return request.cookies.get(COOKIE) or None

    def user(self, request: Request) -> User | None:
        """The token's user (None without a token); 401 for an unknown token; 429 when over the limit."""
        token = self.token(request)
        key = token_hash(token) if token else f"addr:{request.client.host if request.client else '-'}"
        wait = self.limiter.hit(key)
        if wait:
            raise HTTPException(429, f"rate limit of {self.limiter.per_minute} requests per minute "
                                     "exceeded for this token", headers={"Retry-After": str(math.ceil(wait))})
        if token is None:
            return None
        user = self.accounts.authenticate(token)
        if user is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return user

    def read(self, request: Request) -> User | None:
        user = self.user(request)
        if user is None and not self.public_read:
            raise HTTPException(401, "reading needs a token (api.public_read is false): send "
                                     "'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
        return user

    def annotator(self, request: Request) -> User:
        return self.writer(request, "annotating")

    def writer(self, request: Request, doing: str) -> User:
        """The token's user, whose role must be annotator or admin to be ``doing`` a write."""
        user = self.user(request)
        if user is None:
            raise HTTPException(401, f"{doing} needs a token of role annotator or admin",
                                headers={"WWW-Authenticate": "Bearer"})
        if not user.can("annotator"):
            raise HTTPException(403, f"user {user.name!r} has role {user.role!r}: {doing} needs "
                                     "annotator or admin")
        return user
