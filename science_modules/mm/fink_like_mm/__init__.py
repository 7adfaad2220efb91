"""Live matching of alerts with multi-messenger events (the ``mm`` science module)."""

__version__ = "1.0.0"
