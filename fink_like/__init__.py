"""fink-like: an astronomical alert broker for ZTF and Rubin.

An alert travels through the package in the order of its folders:
``surveys`` (decode) -> ``kafka`` (transport) -> ``jobs`` (Spark wiring)
-> ``science`` (enrichment) -> ``filters`` (topics) -> ``archive`` -> ``api``/``client``.
"""

__version__ = "0.1.0"
