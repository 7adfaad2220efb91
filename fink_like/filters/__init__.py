"""Filters: which enriched alerts go to which topic (expressions, plugins, watch lists)."""
