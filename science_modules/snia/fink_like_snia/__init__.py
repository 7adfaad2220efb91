"""fink-like science module: probability that an alert is a type Ia supernova."""

__version__ = "1.0.0"
