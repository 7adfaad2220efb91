"""Notifications to a local webhook receiver and a local SMTP server (aiosmtpd), both started here.

Exactly one message per matching alert, or one digest; a channel whose server is down is
retried with backoff and every attempt is in the delivery log; rate limits are logged.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fink_like.kafka.embedded import free_port
from fink_like.notify import Notifier
from fink_like.notify.dispatcher import TokenBucket


@pytest.fixture
def webhook():
    """A local HTTP server that records every JSON body posted to it."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp_server():
    """A local SMTP server (aiosmtpd) that records every message it accepts."""
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode())
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()


def matches(n, channels, name="wl", version=3):
    return [{"filter": name, "version": version, "topic": f"t.{name}", "channels": channels,
             "alert_id": 1000 + i, "object_id": f"ZTF24obj{i:04d}", "survey": "ztf", "ra": 10.0 + i,
             "dec": -5.0, "mjd": 60000.5 + i, "mag": 18.25, "band": "r"} for i in range(n)]


def notifier_for(make_settings, channels):
    return Notifier(make_settings(notifications={"channels": channels}))


def test_one_webhook_message_per_alert_and_one_mail_digest(make_settings, webhook, smtp_server):
    url, posts = webhook
    port, mails = smtp_server
    notifier = notifier_for(make_settings, {
        "hook": {"kind": "webhook", "url": url},
        "mail": {"kind": "smtp", "host": "127.0.0.1", "port": port, "recipients": ["ana@example.org"],
                 "digest": True}})
    try:
        assert notifier.submit(7, matches(5, ["hook", "mail"])) == 6
        notifier.drain()
        assert sorted(p["fink_like"]["alerts"][0]["object_id"] for p in posts) == [f"ZTF24obj{i:04d}" for i in range(5)]
        assert all("fink-like filter wl (v3) selected ZTF24obj" in p["text"] for p in posts)  # Slack's "text"
        assert len(mails) == 1
        assert "Subject: [fink-like] wl: 5 alert(s)" in mails[0] and "To: ana@example.org" in mails[0]
        assert all(f"ZTF24obj{i:04d}" in mails[0] for i in range(5))
        log = notifier.log.query(limit=100)
        assert sorted((d.channel, d.status) for d in log) == [("hook", "delivered")] * 5 + [("mail", "delivered")]
        assert sorted(a for d in log if d.channel == "mail" for a in d.alerts) == list(range(1000, 1005))
    finally:
        notifier.close()


def test_smtp_down_is_retried_logged_and_does_not_block(make_settings, webhook):
    url, posts = webhook
    notifier = notifier_for(make_settings, {
        "mail": {"kind": "smtp", "host": "127.0.0.1", "port": free_port(), "recipients": ["a@b.c"],
                 "retries": 2, "backoff_seconds": 0.05, "timeout_seconds": 2},
        "hook": {"kind": "webhook", "url": url}})
    try:
        notifier.submit(1, matches(2, ["mail", "hook"]))
        notifier.drain()
        assert len(posts) == 2  # the other channel is unaffected
        mail = notifier.log.query(channel="mail")
        assert sorted((d.alerts[0], d.attempt, d.status) for d in mail) == [
            (1000, 0, "retry"), (1000, 1, "retry"), (1000, 2, "failed"),
            (1001, 0, "retry"), (1001, 1, "retry"), (1001, 2, "failed")]
        assert all("SMTP 127.0.0.1" in d.error and "ConnectionRefusedError" in d.error for d in mail)
        assert [d.status for d in notifier.log.query(status="failed")] == ["failed", "failed"]
    finally:
        notifier.close()


def test_rate_limit_is_logged(make_settings, webhook):
    url, posts = webhook
    notifier = notifier_for(make_settings, {"hook": {"kind": "webhook", "url": url, "rate_per_minute": 2}})
    try:
        notifier.submit(1, matches(5, ["hook"]))
        notifier.drain()
        assert len(posts) == 2
        assert sorted(d.status for d in notifier.log.query(filter="wl")) == ["delivered"] * 2 + ["rate_limited"] * 3
    finally:
        notifier.close()


def test_token_bucket_refills():
    now = [0.0]
    bucket = TokenBucket(60, clock=lambda: now[0])
    assert sum(bucket.take() for _ in range(100)) == 60
    now[0] = 2.5
    assert sum(bucket.take() for _ in range(10)) == 2


@pytest.mark.kafka
def test_kafka_channel(make_settings, kafka_bootstrap):
    from fink_like.kafka.consume import read_range

    topic = f"notify-{free_port()}"
    settings = make_settings(kafka={"embedded": False, "bootstrap_servers": kafka_bootstrap},
                             notifications={"channels": {"k": {"kind": "kafka", "topic": topic}}})
    notifier = Notifier(settings, kafka_bootstrap)
    try:
        from fink_like.kafka.admin import ensure_topics
        from fink_like.kafka.conf import client_conf

        conf = client_conf(settings.kafka, kafka_bootstrap)
        ensure_topics(conf, [topic])
        notifier.submit(1, matches(3, ["k"]))
        notifier.drain()
        batches = read_range(conf, topic, 0, 0, 3)
        values = [json.loads(v) for b in batches for v in b.column("value").to_pylist()]
        assert sorted(v["fink_like"]["alerts"][0]["alert_id"] for v in values) == [1000, 1001, 1002]
    finally:
        notifier.close()
