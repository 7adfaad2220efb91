"""Fault tests: a frozen broker, a locked archive, a replay with another split, a failing sink.

After each: the lake and the archive hold every alert exactly once, every topic holds
what its filter selects, and the counts reconcile. The faults last
``FINK_LIKE_FAULT_SECONDS`` (8 s in CI, ``FINK_LIKE_FAULT_SECONDS=20`` for the full
version); every wait for the pipeline is a condition polled against a deadline.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading

import pytest
from outputs_check import assert_exactly_once

from fink_like.jobs.driver import JobError, run_job
from fink_like.kafka.conf import client_conf
from fink_like.simulator import load_alerts, replay

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

FAULT_SECONDS = float(os.environ.get("FINK_LIKE_FAULT_SECONDS", "8"))
FILTERS = [
    {"name": "bright", "expression": "mag < 18.5", "select": lambda d: d.mag < 18.5},
    {"name": "rubin", "expression": "survey = 'lsst'", "select": lambda d: d.survey == "lsst"},
]


@pytest.fixture
def own_broker(tmp_path):
    """A broker of this test's own, since the test freezes it."""
    from fink_like.kafka.embedded import EmbeddedKafka

    broker = EmbeddedKafka(tmp_path / "kafka-own")
    broker.start()
    try:
        yield broker
    finally:
        os.kill(broker.status()["pid"], signal.SIGCONT) if broker.status() else None
        broker.stop()


def _settings(make_settings, bootstrap: str, topic: str, **extra):
    filters = [{"name": f["name"], "topic": f"{topic}.{f['name']}", "expression": f["expression"]}
               for f in FILTERS]
    base = {
        "kafka": {"embedded": False, "bootstrap_servers": bootstrap},
        "input": {"topics": [topic], "max_offsets_per_trigger": 100},
        "spark": {"trigger_seconds": 0, "max_restarts": 5, "restart_backoff_seconds": 0.5},
        "science": {"modules": [{"name": "microlensing"}]},
        "distribution": {"filters": filters, "schema_topic": f"{topic}.schemas"},
        "metrics": {"enabled": False},
    }
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)
    return make_settings(**base)


def _check_exactly_once(settings, alerts, topic: str, totals=None) -> None:
    assert_exactly_once(settings, [int(m.key) for m in alerts], topic, FILTERS)
    if totals is not None:
        assert totals.reconciles()


def _when(condition: threading.Event, deadline_s: float, what: str) -> None:
    if not condition.wait(deadline_s):
        raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")


def test_frozen_broker_then_locked_archive(spark, make_settings, own_broker, shared_data, fresh_topic):
    """SIGSTOP the broker mid-stream, then hold the archive's write lock: nothing lost or doubled."""
    topic = fresh_topic("frozen")
    settings = _settings(make_settings, own_broker.bootstrap, topic)
    alerts = load_alerts([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    replay([(m.key, m.value) for m in alerts], topic, client_conf(settings.kafka))
    batches: list[int] = []
    after_first, after_third = threading.Event(), threading.Event()

    def on_batch(batch_id, parts, totals):
        batches.append(batch_id)
        after_first.set()
        if len(batches) >= 3:
            after_third.set()

    faults = {}

    def inject():
        pid = own_broker.status()["pid"]
        _when(after_first, 300, "the first batch")
        os.kill(pid, signal.SIGSTOP)
        faults["frozen_at_batch"] = len(batches)
        threading.Event().wait(FAULT_SECONDS)  # the fault's duration, not a synchronisation
        os.kill(pid, signal.SIGCONT)
        _when(after_third, 300, "the third batch")
        db = sqlite3.connect(settings.archive.path, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")  # the archive is locked by someone else
        faults["locked_at_batch"] = len(batches)
        threading.Event().wait(FAULT_SECONDS)
        db.execute("COMMIT")
        db.close()

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    totals = run_job(settings, source="kafka", stages=("raw", "science", "distribute", "archive"),
                     name="pipeline", available_now=True, on_batch=on_batch)
    injector.join(timeout=FAULT_SECONDS * 3 + 60)
    assert not injector.is_alive() and set(faults) == {"frozen_at_batch", "locked_at_batch"}
    assert totals.consumed == len(alerts) and totals.lost == 0
    _check_exactly_once(settings, alerts, topic, totals)


def test_restart_with_another_split_after_a_partial_batch(spark, make_settings, kafka_bootstrap,
                                                          shared_data, fresh_topic):
    """A batch cut short after some of its files were written, replayed with other task sizes."""
    from fink_like.jobs.attempts import Attempts

    topic = fresh_topic("split")
    first = _settings(make_settings, kafka_bootstrap, topic,
                      input={"max_offsets_per_trigger": 400, "max_records_per_partition": 90},
                      spark={"shuffle_partitions": 2})
    alerts = load_alerts([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    replay([(m.key, m.value) for m in alerts], topic, client_conf(first.kafka))
    state = {"batches": 0}

    class Crash(Exception):
        pass

    def crash_after_writing(batch_id, parts, totals):
        # Batch 1 wrote all its lake files and archive rows but is never committed.
        state["batches"] += 1
        if batch_id == 1:
            raise Crash("simulated crash after the batch's outputs, before its commit")

    first = first.model_copy(update={"spark": first.spark.model_copy(update={"max_restarts": 0})})
    with pytest.raises(JobError, match="simulated crash"):
        run_job(first, source="kafka", stages=("raw", "science", "distribute", "archive"),
                name="pipeline", available_now=True, on_batch=crash_after_writing)
    attempts = Attempts(first, "pipeline")
    assert attempts.fs.get_file_info(f"{attempts.base}/{1:012d}").is_file, "batch 1 was started"
    # Restart with other task sizes and parallelism: batch 1 is replayed, split differently.
    second = first.model_copy(update={
        "input": first.input.model_copy(update={"max_records_per_partition": 37}),
        "spark": first.spark.model_copy(update={"shuffle_partitions": 3}),
    })
    totals = run_job(second, source="kafka", stages=("raw", "science", "distribute", "archive"),
                     name="pipeline", available_now=True)
    assert totals.reconciles()
    _check_exactly_once(second, alerts, topic)


def test_a_failing_sink_does_not_stop_the_others(make_settings, shared_data):
    """Publishing fails: the archive still receives the batch, and the failure is counted."""
    from fink_like.jobs.sinks import TopicSink
    from fink_like.jobs.stages import Pipeline

    settings = make_settings(distribution={"filters": [{"name": "all", "topic": "all", "expression": "mag > 0"}]})

    class RefusingTopics(TopicSink):  # test double: a Kafka cluster that refuses every message
        def write(self, table, names, stamps=None):
            raise ConnectionError("cluster refused the messages")

    class BrokenPublisher(Pipeline):
        def topic_sink(self):
            return RefusingTopics(self._engine, {}, "schemas")

    table = _canonical(shared_data, 20)
    stats = BrokenPublisher(settings, "raw", ("distribute", "archive")).run_partition(table)
    assert stats.sink_errors == {"distribute": 1}
    assert stats.archived == 20, "archiving went on"
    assert stats.errors[0].startswith("distribute: ConnectionError: cluster refused")
    assert stats.matches == [] and stats.published == {}


def test_a_failing_lake_does_not_stop_the_archive(make_settings, shared_data, tmp_path):
    """The science lake cannot be written (its folder is a file): the archive still is."""
    from fink_like.jobs.stages import Pipeline

    blocked = tmp_path / "lake"
    blocked.write_text("a file where the lake's folder should be")
    settings = make_settings(lake={"root": str(blocked)}, science={"modules": []})
    stats = Pipeline(settings, "raw", ("science", "archive")).run_partition(_canonical(shared_data, 20))
    assert stats.sink_errors == {"lake": 1}
    assert stats.errors[0].startswith("lake: ")
    assert stats.science == 20 and stats.archived == 20, "science and archiving went on"


def _canonical(shared_data, n: int):
    import pyarrow as pa

    from fink_like.surveys import decode_messages
    from fink_like.surveys.files import load_file_messages

    msgs = load_file_messages(shared_data / "ztf" / "alerts-4.02")[:n]
    return decode_messages(pa.table({"value": [m.value for m in msgs]})).canonical
