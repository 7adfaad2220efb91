"""Fixtures of the multi-messenger tests: LVK alerts built here with a generated sky map."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from fink_like.sky.skymap import multiorder_fits


@pytest.fixture
def lvk_notice():
    """A function building the JSON of an LVK alert (igwn-gwalert-schema) around a sky map."""
    return make_lvk_notice


def make_lvk_notice(uniq, density, alert_type="PRELIMINARY", superevent="S250101ab", time="2025-01-01T03:00:00Z",
               gzipped=False) -> bytes:
    fits = multiorder_fits(uniq, density)
    payload = base64.b64encode(gzip.compress(fits) if gzipped else fits).decode()
    event = None if alert_type == "RETRACTION" else {
        "time": time, "far": 1e-9, "significant": True, "instruments": ["H1", "L1"], "group": "CBC",
        "pipeline": "gstlal", "search": "AllSky", "properties": {}, "classification": {"BNS": 0.9},
        "skymap": payload}
    return json.dumps({"alert_type": alert_type, "time_created": time, "superevent_id": superevent,
                       "event": event, "external_coinc": None, "urls": {}}).encode()


