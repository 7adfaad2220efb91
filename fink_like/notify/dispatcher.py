"""Deliver matches: per channel a queue and a thread, a rate limit, digests, retries.

For each micro-batch the driver calls :meth:`Notifier.submit` with the matches of the
filters that notify. Each channel then gets, per filter, one message per alert or (in
``digest`` mode) one message listing every alert of the batch. A message that fails is
retried ``retries`` times, waiting ``backoff_seconds * 2**attempt``; a channel over its
``rate_per_minute`` (token bucket, burst = one minute's worth) logs the message as
``rate_limited`` instead of sending it. Nothing here blocks the caller.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from datetime import datetime, timezone

from fink_like.notify.channels import Channel, DeliveryError, Message, open_channel
from fink_like.notify.log import Delivery, DeliveryLog

log = logging.getLogger(__name__)


class TokenBucket:
    """``rate`` tokens per minute, at most ``rate`` banked."""

    def __init__(self, per_minute: float, clock=time.monotonic):
        self.rate, self.clock = per_minute / 60.0, clock
        self.capacity = self.tokens = max(per_minute, 1.0)
        self.last = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def messages_for(matches: list[dict], digest: bool, batch_id: int) -> list[Message]:
    """The messages one channel sends for one batch's matches (all of one channel)."""
    by_filter: dict[tuple[str, int], list[dict]] = {}
    for m in matches:
        by_filter.setdefault((m["filter"], m["version"]), []).append(m)
    out = []
    for (name, version), alerts in by_filter.items():
        if digest:
            lines = "\n".join(f"- {describe(a)}" for a in alerts)
            out.append(Message(name, version, f"[fink-like] {name}: {len(alerts)} alert(s)",
                               f"fink-like filter {name} (v{version}) selected {len(alerts)} alert(s) "
                               f"in batch {batch_id}:\n{lines}", [_plain(a) for a in alerts]))
        else:
            out += [Message(name, version, f"[fink-like] {name}: {a.get('object_id')}",
                            f"fink-like filter {name} (v{version}) selected {describe(a)}", [_plain(a)])
                    for a in alerts]
    return out


def describe(a: dict) -> str:
    mag = f"{a['mag']:.2f}" if isinstance(a.get("mag"), float) else "?"
    return (f"{a.get('object_id')} (alert {a.get('alert_id')}, {a.get('survey')}) at RA {a.get('ra'):.5f}, "
            f"Dec {a.get('dec'):.5f}, {a.get('band')} = {mag}, MJD {a.get('mjd'):.5f}, topic {a.get('topic')}")


def _plain(a: dict) -> dict:
    return {k: v for k, v in a.items() if k != "channels"}


class _Worker(threading.Thread):
    def __init__(self, channel: Channel, dlog: DeliveryLog, stop: threading.Event):
        super().__init__(name=f"notify-{channel.name}", daemon=True)
        self.channel, self.dlog, self.stop = channel, dlog, stop
        self.queue: queue.Queue = queue.Queue()
        self.bucket = TokenBucket(channel.conf.rate_per_minute)

    def run(self) -> None:
        while True:
            message = self.queue.get()
            try:
                if message is None:
                    return
                self.deliver(message)
            except Exception:  # never let one message kill the channel's thread
                log.exception("notification on %s failed unexpectedly", self.channel.name)
            finally:
                self.queue.task_done()

    def deliver(self, message: Message) -> None:
        conf, delivery = self.channel.conf, f"{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
        ids = [a.get("alert_id") for a in message.alerts]
        if not self.bucket.take():
            self._log(message, delivery, 0, "rate_limited", ids, "over rate_per_minute")
            return
        for attempt in range(conf.retries + 1):
            try:
                self.channel.send(message)
                self._log(message, delivery, attempt, "delivered", ids)
                return
            except DeliveryError as exc:
                last = attempt == conf.retries
                self._log(message, delivery, attempt, "failed" if last else "retry", ids, str(exc))
                if last or self.stop.wait(conf.backoff_seconds * 2**attempt):
                    return

    def _log(self, message, delivery, attempt, status, ids, error="") -> None:
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        self.dlog.append(Delivery(message.filter, delivery, attempt, self.channel.name, status, at, ids,
                                  error, message.version))


class Notifier:
    """Background delivery of matches to the channels their filters name.

    Parameters
    ----------
    settings
        ``notifications.channels`` and the archive holding the delivery log.
    bootstrap
        Kafka servers for ``kafka`` channels (the embedded broker's when embedded).
    """

    def __init__(self, settings, bootstrap: str | None = None):
        from fink_like.archive.backends import open_backend

        self.settings, self.bootstrap = settings, bootstrap
        self.log = DeliveryLog(open_backend(settings), settings.archive.table_prefix)
        self._stop = threading.Event()
        self._workers: dict[str, _Worker] = {}

    def _worker(self, name: str) -> _Worker:
        if name not in self._workers:
            worker = _Worker(open_channel(name, self.settings, self.bootstrap), self.log, self._stop)
            worker.start()
            self._workers[name] = worker
        return self._workers[name]

    def submit(self, batch_id: int, matches: list[dict]) -> int:
        """Queue the messages for ``matches``; returns how many were queued."""
        by_channel: dict[str, list[dict]] = {}
        for m in matches:
            for name in m["channels"]:
                by_channel.setdefault(name, []).append(m)
        queued = 0
        for name, items in by_channel.items():
            try:
                worker = self._worker(name)
            except Exception as exc:  # a channel removed from the settings: log, keep the stream
                log.error("notification channel %s unusable: %s", name, exc)
                continue
            for message in messages_for(items, worker.channel.conf.digest, batch_id):
                worker.queue.put(message)
                queued += 1
        return queued

    def drain(self) -> None:
        """Return once every queued message has been delivered, given up or rate-limited."""
        for worker in list(self._workers.values()):
            worker.queue.join()

    def close(self) -> None:
        """Stop retrying, end the threads, close the channels and the log."""
        self._stop.set()
        for worker in self._workers.values():
            worker.queue.put(None)
        for worker in self._workers.values():
            worker.join(timeout=30)
            worker.channel.close()
        self.log.backend.close()
