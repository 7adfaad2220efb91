"""The delivery log: every attempt to deliver a notification, kept in the archive backend.

Table ``<archive.table_prefix>_deliveries``, family ``d``, one row per attempt, keyed
``FILTER/DELIVERY/ATTEMPT`` so a filter's deliveries are one prefix scan, in time order
(a delivery id starts with its UTC time in nanoseconds). Status is ``delivered``,
``retry`` (failed, tried again after a backoff), ``failed`` (gave up) or
``rate_limited`` (not sent: the channel's rate limit was reached).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

TABLE = "deliveries"
STATUSES = ("delivered", "retry", "failed", "rate_limited")


@dataclass(frozen=True)
class Delivery:
    """One attempt."""

    filter: str
    delivery: str
    attempt: int
    channel: str
    status: str
    at: str
    alerts: list
    error: str = ""
    version: int = 0


class DeliveryLog:
    """Append and query delivery attempts (``fink-like filters deliveries``, ``GET /deliveries``)."""

    def __init__(self, backend, prefix: str):
        self.backend = backend
        self.table = f"{prefix}_{TABLE}"
        backend.create_tables({self.table: ("d",)})

    def append(self, entry: Delivery) -> None:
        key = f"{entry.filter}/{entry.delivery}/{entry.attempt:03d}".encode()
        self.backend.put(self.table, key, {b"d:entry": json.dumps(asdict(entry)).encode()})

    def query(self, filter: str | None = None, channel: str | None = None, status: str | None = None,
              limit: int = 100) -> list[Delivery]:
        """The newest attempts first, optionally for one filter, channel or status."""
        rows = (self.backend.scan_prefix(self.table, f"{filter}/".encode()) if filter
                else self.backend.scan(self.table))
        out = [Delivery(**json.loads(c[b"d:entry"])) for _, c in rows]
        out = [d for d in out if (channel is None or d.channel == channel) and (status is None or d.status == status)]
        out.sort(key=lambda d: (d.delivery, d.attempt), reverse=True)
        return out[:limit]
