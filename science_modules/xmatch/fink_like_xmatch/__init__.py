"""Cross-match alerts with astronomical catalogues (the ``xmatch`` science module)."""

__version__ = "1.0.0"
