"""Helpers for the job tests: real alerts into a fresh topic, settings pointing at it."""

from __future__ import annotations

import itertools
import math

import pytest

_counter = itertools.count()


@pytest.fixture(scope="session")
def bad_messages(shared_data) -> list[tuple[str, bytes, str | None]]:
    """(key, value, expected quarantine reason or None if any) for each kind of bad input."""
    from fink_like.surveys import decode_packet
    from fink_like.surveys.files import load_file_messages

    ztf = load_file_messages(shared_data / "ztf" / "alerts-4.02")[0]
    rubin = load_file_messages(shared_data / "lsst" / "alerts-9.0")[0]
    adapter, record = decode_packet(ztf.value)
    nan_pos = _with(record, ra=math.nan)
    dec_high = _with(record, dec=91.5)
    wrong_id = b"\x00" + (4242).to_bytes(4, "big") + rubin.value[5:]
    return [
        ("bad-truncated", ztf.value[: len(ztf.value) // 3], None),
        ("bad-garbage", b"this is not an alert at all" * 10, None),
        ("bad-schema-id", wrong_id, "unknown_schema_id"),
        ("bad-nan", adapter.encode(nan_pos, ztf.schema_version), "invalid_position"),
        ("bad-dec", adapter.encode(dec_high, ztf.schema_version), "invalid_position"),
        ("bad-empty", b"", None),
    ]


def _with(record: dict, **candidate) -> dict:
    out = dict(record)
    out["candidate"] = {**record["candidate"], **candidate}
    return out


@pytest.fixture
def job_settings(make_settings, kafka_bootstrap):
    """Settings reading a fresh, unique topic on the session broker."""

    def factory(topic: str, **overrides):
        base = {
            "kafka": {"embedded": False, "bootstrap_servers": kafka_bootstrap},
            "input": {"topics": [topic], "max_offsets_per_trigger": 20000},
        }
        for section, values in overrides.items():
            base.setdefault(section, {}).update(values)
        return make_settings(**base)

    return factory


@pytest.fixture
def fresh_topic():
    return lambda prefix="t": f"{prefix}-{next(_counter)}-{id(_counter) % 9973}"

