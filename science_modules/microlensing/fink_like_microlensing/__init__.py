"""fink-like science module ``microlensing``: P(microlensing) from LIA-style features and a random forest."""

__version__ = "1.0.0"
