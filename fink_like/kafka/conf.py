"""librdkafka client settings built from :class:`fink_like.config.KafkaSettings`.

This is the only place where secrets are unwrapped for a client.
"""

from __future__ import annotations

from fink_like.config import KafkaSettings, reveal


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
    conf.update({key: reveal(value) for key, value in k.extra.items()})
    conf.update(overrides)
    return conf


def spark_options(conf: dict) -> dict:
    """The same settings as Spark source/sink options (``kafka.``-prefixed), for either connector."""
    return {f"kafka.{key}": str(value) for key, value in conf.items()}


_JAAS_MODULE = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


def jvm_options(conf: dict) -> dict:
    """The same settings as options of Spark's JVM connector (``format("kafka")``).

    SASL credentials become ``kafka.sasl.jaas.config``; a CA file becomes a PEM trust
    store; ``includeHeaders`` is set so that rows have the ``finkkafka`` schema.
    librdkafka-only keys are left out (client certificates too: give the JVM its own
    keystore options for mutual TLS).
    """
    out = {"includeHeaders": "true"}
    for key in ("bootstrap.servers", "security.protocol", "sasl.mechanism"):
        if conf.get(key):
            out[f"kafka.{key}"] = str(conf[key])
    mechanism = conf.get("sasl.mechanism")
    if mechanism:
        out["kafka.sasl.jaas.config"] = (
            f'{_JAAS_MODULE[mechanism]} required username="{_jaas_quote(conf.get("sasl.username", ""))}" '
            f'password="{_jaas_quote(conf.get("sasl.password", ""))}";'
        )
    if conf.get("ssl.ca.location"):
        out["kafka.ssl.truststore.type"] = "PEM"
        out["kafka.ssl.truststore.location"] = str(conf["ssl.ca.location"])
    return out


def _jaas_quote(text) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def gcn_conf(g) -> dict:
    """confluent-kafka settings for GCN Kafka (:class:`fink_like.config.GcnSettings`).

    ``SASL_SSL`` uses OAUTHBEARER with GCN's client credentials (``gcn.client_id``,
    ``gcn.client_secret``, the token endpoint ``gcn.oidc_endpoint``), as GCN's own client does.
    """
    from fink_like.errors import ConfigError

    conf = {"bootstrap.servers": g.bootstrap_servers, "security.protocol": g.security_protocol}
    if g.security_protocol == "SASL_SSL":
        if not (g.client_id and g.client_secret):
            raise ConfigError("gcn.client_id and gcn.client_secret are required for GCN Kafka "
                              "(set FINK_LIKE__GCN__CLIENT_ID and FINK_LIKE__GCN__CLIENT_SECRET)")
        conf.update({
            "sasl.mechanisms": "OAUTHBEARER", "sasl.oauthbearer.method": "oidc",
            "sasl.oauthbearer.client.id": g.client_id,
            "sasl.oauthbearer.client.secret": g.client_secret.get_secret_value(),
            "sasl.oauthbearer.token.endpoint.url": g.oidc_endpoint,
        })
    conf.update(g.extra)
    return conf
