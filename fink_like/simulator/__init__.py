"""Replay real alert files into Kafka as their survey sends them, cloned for load tests.

Example (needs a broker)::

    from fink_like.simulator import load_messages, replay
    report = replay(load_messages("../shared/data/ztf"), "ztf-alerts", conf, rate=300)
"""

from fink_like.simulator.clone import Cloner
from fink_like.simulator.messages import load_alerts, load_messages
from fink_like.simulator.replay import ReplayReport, replay, replay_many
from fink_like.simulator.synthetic import SyntheticNight, make_night, synthetic_night

__all__ = [
    "Cloner", "ReplayReport", "SyntheticNight", "load_alerts", "load_messages", "make_night", "replay",
    "replay_many", "synthetic_night",
]
