"""librdkafka client settings built from :class:`fink_like.config.KafkaSettings`.

This is the only place where secrets are unwrapped for a client.
"""

from __future__ import annotations

from fink_like.config import KafkaSettings


def client_conf(k: KafkaSettings, bootstrap_servers: str | None = None, **overrides) -> dict:
    """confluent-kafka configuration: servers, TLS and SASL, ``kafka.extra``, then ``overrides``."""
    conf = {
        "bootstrap.servers": bootstrap_servers or k.bootstrap_servers,
        "security.protocol": k.security_protocol,
    }
    if k.sasl_mechanism:
        conf["sasl.mechanism"] = k.sasl_mechanism
        conf["sasl.username"] = k.sasl_username or ""
        conf["sasl.password"] = k.sasl_password.get_secret_value() if k.sasl_password else ""
    for key, value in (
        ("ssl.ca.location", k.ssl_ca_location),
        ("ssl.certificate.location", k.ssl_certificate_location),
        ("ssl.key.location", k.ssl_key_location),
        ("ssl.key.password", k.ssl_key_password.get_secret_value() if k.ssl_key_password else None),
    ):
        if value:
            conf[key] = value
    conf.update(k.extra)
    conf.update(overrides)
    return conf


def spark_options(conf: dict) -> dict:
    """The same settings as Spark source/sink options (``kafka.``-prefixed), for either connector."""
    return {f"kafka.{key}": str(value) for key, value in conf.items()}
