"""Solar-system objects: known associations and intra-night moving-object candidates (the ``sso`` module)."""

__version__ = "1.0.0"
