"""Example fink-like science module (see docs/plugin-tutorial.md)."""
