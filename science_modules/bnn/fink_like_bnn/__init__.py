"""fink-like science module ``bnn``: P(SN Ia) and its uncertainty from a GRU with MC dropout."""

__version__ = "1.0.0"
