"""The one producer module's delivery check: what was delivered is counted, a failure is one clear error."""

from __future__ import annotations

import pytest

from fink_like.errors import KafkaError
from fink_like.kafka.embedded import free_port
from fink_like.kafka.produce import Delivery, confirm, producer_for, send


def test_confirm_names_the_failed_count_and_the_cause():
    conf = {"bootstrap.servers": f"127.0.0.1:{free_port()}", "message.timeout.ms": 1000}
    producer, report = producer_for(conf, cached=False), Delivery()
    for i in range(3):
        send(producer, "nowhere", b"x", key=str(i).encode(), on_delivery=report)
    with pytest.raises(KafkaError, match=r"^3 of 3 messages were not delivered: .*127\.0\.0\.1"):
        confirm(producer, report, timeout=10.0, conf=conf)
    assert report.messages == 0 and report.failed == 3


def test_confirm_counts_what_was_delivered(kafka_bootstrap):
    conf = {"bootstrap.servers": kafka_bootstrap}
    producer, report = producer_for(conf, cached=False), Delivery()
    for i in range(5):
        send(producer, "produce-confirm", b"v" * 10, key=str(i).encode(), on_delivery=report)
    assert confirm(producer, report, timeout=30.0, conf=conf) is report
    assert (report.messages, report.bytes, report.per_topic) == (5, 50, {"produce-confirm": 5})
