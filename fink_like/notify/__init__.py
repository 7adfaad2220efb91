"""Notifications of filter and watch-list matches: webhook, e-mail, Kafka.

Channels are named in ``notifications.channels`` (credentials live there only); a filter
lists the channels it notifies (``fink-like filters add ... --notify NAME``). The
stream's driver hands each micro-batch's matches to the :class:`Notifier`, which delivers
them in background threads (one per channel), so a slow or unreachable server never
holds the stream up; every attempt is written to the :class:`DeliveryLog`.
"""

from fink_like.notify.channels import Channel, DeliveryError, open_channel
from fink_like.notify.dispatcher import Notifier
from fink_like.notify.log import DeliveryLog

__all__ = ["Channel", "DeliveryError", "DeliveryLog", "Notifier", "open_channel"]
