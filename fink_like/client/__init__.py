"""The subscribers' client: consume, decode, save and deduplicate fink-like alerts."""

from fink_like.client.consumer import Alert, AlertConsumer, consume

__all__ = ["Alert", "AlertConsumer", "consume"]
