"""Replay real alert files into Kafka as their survey sends them, cloned for load tests.

>>> from fink_like.simulator import load_messages, replay   # doctest: +SKIP
>>> report = replay(load_messages("../shared/data/ztf"), "ztf-alerts", conf, rate=300)
"""

from fink_like.simulator.clone import Cloner
from fink_like.simulator.messages import load_alerts, load_messages
from fink_like.simulator.replay import ReplayReport, ensure_topic, replay

__all__ = ["Cloner", "ReplayReport", "ensure_topic", "load_alerts", "load_messages", "replay"]
