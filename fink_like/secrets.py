"""Which settings carry a credential, and how to keep their values out of every output.

The list follows librdkafka's ``_RK_SENSITIVE`` properties (``CONFIGURATION.md`` marks
them "sensitive"), the Java client's credential properties that users copy into
``kafka.extra`` or ``spark.conf``, and a pattern for anything else named like a secret.
A key is compared with ``_`` read as ``.``, so ``kafka.ssl_key_password`` and
``kafka.extra["ssl.key.password"]`` are the same property.

Examples
--------
>>> is_sensitive("sasl.jaas.config"), is_sensitive("kafka.ssl_key_password")
(True, True)
>>> is_sensitive("bootstrap.servers")
False
>>> echo("x" * 100)
"'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' (100 characters)"
"""

from __future__ import annotations

import re

MASK = "**********"

# librdkafka's properties flagged _RK_SENSITIVE (rdkafka_conf.c), plus newer releases'
# OIDC client secret and the Java client's credential properties.
SENSITIVE_PROPERTIES = frozenset({
    "sasl.username", "sasl.password", "sasl.oauthbearer.config",
    "sasl.oauthbearer.client.secret", "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.private.key.file", "sasl.jaas.config",
    "ssl.key.location", "ssl.key.password", "ssl.key.pem", "ssl.ca.pem", "ssl_key",
    "ssl.keystore.password", "ssl.truststore.password", "ssl.keystore.key",
    "ssl.keystore.certificate.chain", "https.client.key.pem", "https.client.key.password",
})
_PATTERN = re.compile(r"passw|secret|jaas|token|credential|private|api.?key|access.?key|\.pem$|passphrase")
ECHO_LIMIT = 60


def is_sensitive(key: str) -> bool:
    """Whether the setting or client property ``key`` (dotted or not) holds a credential."""
    norm = str(key).lower().replace("_", ".")
    if any(norm == p or norm.endswith("." + p) for p in SENSITIVE_PROPERTIES):
        return True
    return bool(_PATTERN.search(norm))


def echo(value, limit: int = ECHO_LIMIT) -> str:
    """``repr`` of a user's value for an error message, cut to ``limit`` characters."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}"[:-1] + f"…' ({len(text)} characters)"


def mask(data):
    """``data`` (plain dicts and lists) with the value of every sensitive key replaced."""
    if isinstance(data, dict):
        return {k: (MASK if is_sensitive(k) and v not in (None, "") else mask(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask(v) for v in data]
    return data
