"""Spark wiring: the only package that imports pyspark. Stages themselves are Arrow batch functions."""
