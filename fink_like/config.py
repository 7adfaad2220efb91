"""One typed, frozen settings object for every job, command and service.

Settings are read from a YAML file (``conf/local.yaml`` is the embedded default) and
then overridden by environment variables. Every key ``a.b.c`` has the variable
``FINK_LIKE__A__B__C`` (upper case, double underscores). A variable's value is taken
exactly as given for text settings (secrets included: ``'abc #def'`` stays
``'abc #def'``) and parsed as YAML for the others, so
``FINK_LIKE__SPARK__SHUFFLE_PARTITIONS=4`` gives an integer and
``FINK_LIKE__INPUT__TOPICS=[a, b]`` a list. Secrets are ``SecretStr``: they print as
``**********``, are read with ``get_secret_value()`` only where a client is built, and
never appear in an error message (:mod:`fink_like.secrets`).

Examples
--------
>>> s = load_settings(None, env={"FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": "k1:9092"})
>>> s.kafka.bootstrap_servers
'k1:9092'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from fink_like.config_sources import ENV_PREFIX, describe_errors, env_overrides, read_yaml
from fink_like.errors import ConfigError
from fink_like.secrets import is_sensitive, mask

EMBEDDED_CONFIG = Path(__file__).with_name("data") / "embedded.yaml"
"""The documented embedded configuration (``conf/local.yaml``), used when no file is given."""


class Section(BaseModel):
    """Base of every settings section: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Section):
    """How to reach Kafka. ``embedded`` starts tansu on loopback and overrides the servers."""

    bootstrap_servers: str = "127.0.0.1:9092"
    embedded: bool = True
    embedded_dir: str = "var/kafka"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: SecretStr | None = None
    # "python": the project's Spark Python Data Source on confluent-kafka.
    # "jvm": Spark's own spark-sql-kafka connector, where the cluster has it.
    connector: Literal["python", "jvm"] = "python"
    # librdkafka properties; credential-carrying ones (sasl.jaas.config, ssl.key.pem, ...)
    # are kept as SecretStr, so they never print (read them with reveal()).
    extra: dict[str, str | SecretStr] = Field(default_factory=dict)
    # > 0: replayed survey streams are written as topic segments of this many messages,
    # deleted once read (bounded memory on the embedded broker; fink_like.kafka.retention).
    roll_messages: int = Field(default=0, ge=0)

    @field_validator("extra", mode="after")
    @classmethod
    def _hide_credentials(cls, value: dict) -> dict:
        return {k: SecretStr(reveal(v)) if is_sensitive(k) else v for k, v in value.items()}


class InputSettings(Section):
    """Which survey streams the ingestion job consumes, and how fast."""

    topics: list[str] = Field(default_factory=lambda: ["ztf-alerts", "lsst-alerts"])
    topic_pattern: str | None = None
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int = Field(default=20000, gt=0)
    # Split each Kafka partition's range into Spark tasks of at most this many messages;
    # small batches are still split into spark.shuffle_partitions tasks (one per core).
    max_records_per_partition: int = Field(default=2500, gt=0)
    # Offsets gone from Kafka (retention) fail the query; with false each lost range is
    # logged, counted and written to the quarantine as a `lost_offsets` row.
    fail_on_data_loss: bool = True


class SparkSettings(Section):
    """Spark session and streaming trigger."""

    master: str = "local[2]"
    app_name: str = "fink-like"
    trigger_seconds: float = Field(default=2.0, ge=0)
    shuffle_partitions: int = Field(default=2, gt=0)
    arrow_batch_size: int = Field(default=2000, gt=0)
    # Python workers are forked from a daemon that has imported the pipeline's libraries and
    # science modules already (fink_like.jobs.daemon), so no batch waits for a cold worker.
    preload_workers: bool = True
    checkpoint_dir: str = "var/checkpoints"
    conf: dict[str, str] = Field(default_factory=dict)
    # A failed query is restarted from its checkpoint at most this many times per job.
    max_restarts: int = Field(default=3, ge=0)
    restart_backoff_seconds: float = Field(default=2.0, ge=0)


class ClusterSettings(Section):
    """``fink-like cluster``: a Spark standalone master and workers on loopback."""

    state_dir: str = "var/cluster"
    workers: int = Field(default=2, ge=1, le=64)
    worker_cores: int = Field(default=1, ge=1)
    worker_memory: str = Field(default="2g", pattern=r"^[1-9][0-9]*[mMgG]$")
    master_port: int = Field(default=0, ge=0, lt=65536)  # 0: a free port


class LakeSettings(Section):
    """The Parquet lake: a local folder by default, ``s3://`` (or ``s3a://``) on clusters.

    S3 goes through pyarrow with the ``s3_*`` settings below (not Hadoop's ``fs.s3a.*``);
    without them, pyarrow's default AWS chain (environment, profile, instance role).
    """

    root: str = "var/lake"
    raw: str = "raw"
    science: str = "science"
    quarantine: str = "quarantine"
    s3_endpoint: str | None = None        # e.g. http://minio:9000 (scheme included)
    s3_region: str | None = None
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_timeout_seconds: float = Field(default=10.0, gt=0)


class QuarantineSettings(Section):
    """Where undecodable or invalid messages go, with their reason and original bytes."""

    sink: Literal["lake", "topic"] = "lake"
    topic: str = "fink-like-quarantine"


class ModuleSpec(Section):
    """One science module to run: its entry-point name and its parameters."""

    name: str
    enabled: bool = True
    params: dict[str, Any] = Field(default_factory=dict)


class ScienceSettings(Section):
    """Quality cuts per survey (filter expressions) and the ordered list of modules."""

    quality_cuts: dict[str, str] = Field(default_factory=dict)
    modules: list[ModuleSpec] = Field(default_factory=list)


class FilterSpec(Section):
    """One filter feeding one topic.

    Exactly one of ``expression`` (SQL-like boolean over columns), ``plugin``
    (entry point in ``fink_like.filters``) or ``watchlist`` (objects and sky regions).
    """

    name: str
    topic: str
    expression: str | None = None
    plugin: str | None = None
    watchlist: dict[str, Any] | None = None
    cutouts: bool = True
    enabled: bool = True


class DistributionSettings(Section):
    """How enriched alerts are published."""

    schema_dir: str = "schemas/distribution"
    schema_topic: str = "fink-like-schemas"
    filters: list[FilterSpec] = Field(default_factory=list)
    # Users' filters (fink-like filters add): read from the archive's filter store at every
    # micro-batch, so added, changed and disabled filters apply without a restart.
    live_filters: bool = True
    # A plugin filter that runs longer than this on one batch partition is disabled.
    plugin_budget_seconds: float = Field(default=5.0, gt=0)
    # Submission checks: alerts of the science lake the filter runs on, and its speed limit.
    check_sample_size: int = Field(default=2000, gt=0)
    check_max_ms_per_alert: float = Field(default=1.0, gt=0)
    # Known classes for the dry run's purity estimate (columns objectId, tns).
    labels_file: str = "../shared/data/labelled/label_tables/ztf_tns_crossmatch.csv"
    # Embedded broker only (it cannot expire records): each topic T is written as time
    # segments T.<n> and segments older than this are deleted, read or not, as Kafka's
    # retention.ms would (fink_like.kafka.retention.TimeRetention). null: kept in memory
    # until the broker stops. Ignored with an external Kafka, which has its own retention.
    retention_seconds: float | None = Field(default=None, gt=0)


class ChannelSettings(Section):
    """One notification channel; credentials live here only, never on a command line."""

    kind: Literal["webhook", "smtp", "kafka"]
    url: SecretStr | None = None            # webhook: Slack-compatible incoming-webhook URL
    host: str = "localhost"                 # smtp
    port: int = Field(default=25, gt=0, lt=65536)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    sender: str = "fink-like@localhost"
    recipients: list[str] = Field(default_factory=list)
    topic: str | None = None                # kafka
    rate_per_minute: float = Field(default=60.0, gt=0)
    digest: bool = False                    # one message per filter and micro-batch
    retries: int = Field(default=4, ge=0)
    backoff_seconds: float = Field(default=1.0, ge=0)
    timeout_seconds: float = Field(default=10.0, gt=0)


class NotificationSettings(Section):
    """Named channels that filters and watch lists notify (``fink-like filters add --notify NAME``)."""

    channels: dict[str, ChannelSettings] = Field(default_factory=dict)


class ArchiveSettings(Section):
    """The HBase-shaped archive: ``embedded`` (SQLite) or ``hbase`` (happybase over Thrift)."""

    backend: Literal["embedded", "hbase"] = "embedded"
    path: str = "var/archive.sqlite"
    table_prefix: str = "fink_like"
    hbase_host: str = "localhost"
    hbase_port: int = Field(default=9090, gt=0, lt=65536)
    hbase_pool_size: int = Field(default=4, gt=0)
    batch_size: int = Field(default=500, gt=0)
    retries: int = Field(default=3, ge=0)
    # ZTF and Rubin alerts closer than this are linked to one group (fink_like.archive.association).
    association_radius_arcsec: float = Field(default=1.5, gt=0)


class ApiSettings(Section):
    """The REST API."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    max_results: int = Field(default=10000, gt=0)
    default_limit: int = Field(default=100, gt=0)
    # Accounts and limits (docs/portal.md): reading needs a token unless public_read.
    public_read: bool = True
    rate_limit_per_minute: int = Field(default=600, ge=0)   # per token (or client address); 0: off
    cors_origins: list[str] = Field(default_factory=list)   # e.g. ["https://example.org"]; "*" for any
    cursor_secret: SecretStr | None = None                  # signs page cursors; default: per process


class MetricsSettings(Section):
    """The Prometheus endpoint."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, lt=65536)


class SimulatorSettings(Section):
    """What ``fink-like simulate`` and ``fink-like run`` replay."""

    data_dir: str = "../shared/data"
    rate: float = Field(default=300.0, gt=0)
    ztf_topic: str = "ztf-alerts"
    lsst_topic: str = "lsst-alerts"


class MessengerWindow(Section):
    """Days before and after an event's time during which an alert can match it."""

    before_days: float = Field(default=1.0, ge=0)
    after_days: float = Field(default=14.0, ge=0)


def _default_windows() -> dict:
    return {"GW": MessengerWindow(before_days=0.0, after_days=14.0),
            "Neutrino": MessengerWindow(before_days=1.0, after_days=14.0),
            "EM": MessengerWindow(before_days=0.0, after_days=7.0)}


class MmSettings(Section):
    """Multi-messenger events (docs/multimessenger.md): their store, time windows, topic."""

    # The event store: an archive-shaped store of its own (embedded SQLite or HBase).
    store: ArchiveSettings = ArchiveSettings(path="var/events.sqlite")
    # Per messenger (GW, Neutrino, EM): when alerts can match an event, relative to its time.
    windows: dict[str, MessengerWindow] = Field(default_factory=_default_windows)
    credible_level: float = Field(default=0.9, gt=0, le=1)
    # Topic of matched alerts (the distribution filter on mm_event_id uses the same topic).
    topic: str = "fink-like.mm"
    retro_max_alerts: int = Field(default=100000, gt=0)


class GcnSettings(Section):
    """GCN Kafka (``fink-like gcn listen``): servers, topics, OAuth client credentials."""

    bootstrap_servers: str = "kafka.gcn.nasa.gov:9092"
    topics: list[str] = Field(default_factory=lambda: [
        "igwn.gwalert", "gcn.notices.icecube.lvk_nu_track_search", "gcn.notices.icecube.gold_bronze_track_alerts",
        "gcn.notices.km3net.alert", "gcn.notices.swift.bat.guano", "gcn.notices.einstein_probe.wxt.alert",
        "gcn.notices.svom.voevent.eclairs", "gcn.notices.fermi.gbm", "gcn.notices.chime.frb",
    ])
    # SASL_SSL with OAUTHBEARER (GCN's client credentials); PLAINTEXT for a local broker.
    security_protocol: Literal["SASL_SSL", "PLAINTEXT"] = "SASL_SSL"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    oidc_endpoint: str = "https://auth.gcn.nasa.gov/oauth2/token"
    group_id: str = "fink-like-gcn"
    starting_offsets: Literal["earliest", "latest"] = "latest"
    extra: dict[str, str] = Field(default_factory=dict)


class Settings(Section):
    """Everything fink-like can be told. Build it with :func:`load_settings`."""

    kafka: KafkaSettings = KafkaSettings()
    input: InputSettings = InputSettings()
    spark: SparkSettings = SparkSettings()
    cluster: ClusterSettings = ClusterSettings()
    lake: LakeSettings = LakeSettings()
    quarantine: QuarantineSettings = QuarantineSettings()
    science: ScienceSettings = ScienceSettings()
    distribution: DistributionSettings = DistributionSettings()
    notifications: NotificationSettings = NotificationSettings()
    archive: ArchiveSettings = ArchiveSettings()
    api: ApiSettings = ApiSettings()
    metrics: MetricsSettings = MetricsSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    mm: MmSettings = MmSettings()
    gcn: GcnSettings = GcnSettings()

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_default(cls, value):
        # An empty YAML section (``kafka:`` with nothing under it) means "defaults".
        return {} if value is None else value

    def lake_path(self, which: str) -> str:
        """The URI of one lake area: ``raw``, ``science`` or ``quarantine``."""
        return join_uri(self.lake.root, getattr(self.lake, which))

    def redacted(self) -> dict:
        """The settings as plain data, every credential masked, for printing and logs."""
        return mask(self.model_dump(mode="json"))


def reveal(value) -> str:
    """The clear text of a setting that may be a ``SecretStr`` (only where a client is built)."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def join_uri(root: str, *parts: str) -> str:
    """Join path parts under a local path or a URI (``file://``, ``s3://``, ``s3a://``)."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    path: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from a YAML file, then environment variables, then ``overrides``.

    Parameters
    ----------
    path
        YAML file; ``None`` uses only defaults. ``FINK_LIKE_CONFIG`` names the file when
        ``path`` is ``None``. (The command line passes :data:`EMBEDDED_CONFIG` when
        neither is given.)
    env
        Environment to read overrides from (default ``os.environ``).
    overrides
        Nested mapping applied last (used by tests and CLI flags).

    Raises
    ------
    ConfigError
        Naming every offending key, e.g. ``kafka.security_protocol: Input should be ...``.
    """
    env = os.environ if env is None else env
    if path is None:
        path = env.get("FINK_LIKE_CONFIG")
    data = read_yaml(path) if path else {}
    from_env, origins = env_overrides(env, Settings)
    data = _merge(data, from_env)
    if overrides:
        data = _merge(data, dict(overrides))
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        # from None: pydantic's own text quotes every input, secrets included.
        raise ConfigError(describe_errors(exc, origins)) from None
    _check_consistency(settings)
    return settings


def _check_consistency(s: Settings) -> None:
    k = s.kafka
    if k.security_protocol.startswith("SASL") and not (k.sasl_mechanism and k.sasl_username):
        raise ConfigError(
            "kafka.sasl_mechanism and kafka.sasl_username are required when "
            f"kafka.security_protocol is {k.security_protocol}"
        )
    if k.sasl_mechanism and not k.security_protocol.startswith("SASL"):
        raise ConfigError("kafka.sasl_mechanism is set but kafka.security_protocol is not SASL_*")
    if not s.input.topics and not s.input.topic_pattern:
        raise ConfigError("input.topics is empty and input.topic_pattern is not set: nothing to consume")
    seen = set()
    for spec in s.distribution.filters:
        kinds = [x for x in (spec.expression, spec.plugin, spec.watchlist) if x is not None]
        if len(kinds) != 1:
            raise ConfigError(
                f"distribution.filters[{spec.name}]: give exactly one of expression, plugin, watchlist"
            )
        if spec.name in seen:
            raise ConfigError(f"distribution.filters: the name {spec.name!r} is used twice")
        seen.add(spec.name)
    feeding: dict[str, str] = {}
    for spec in s.distribution.filters:
        if spec.enabled and feeding.setdefault(spec.topic, spec.name) != spec.name:
            # Each alert would be published once per filter selecting it: duplicates.
            raise ConfigError(f"distribution.filters: {feeding[spec.topic]!r} and {spec.name!r} both "
                              f"feed topic {spec.topic!r}; give each filter its own topic "
                              "(or merge them into one expression)")


def reference_markdown() -> str:
    """A Markdown table of every setting: key, environment variable, type, default, description.

    ``docs/configuration.md`` is this output (a test keeps them in sync).
    """
    lines = ["# Configuration reference", "",
             "Generated by `fink-like config docs`. Every key can be set in the YAML file or "
             "through its environment variable: text settings (secrets included) take the "
             "variable's value exactly as given, the others parse it as YAML. Without "
             "`--config` (or `FINK_LIKE_CONFIG`) the command line uses the embedded "
             "configuration `conf/local.yaml`.", ""]
    for section_name, section_field in Settings.model_fields.items():
        section = section_field.annotation
        lines += [f"## `{section_name}`", "", (section.__doc__ or "").strip().splitlines()[0], "",
                  "| key | environment variable | type | default |", "|---|---|---|---|"]
        for key, f in section.model_fields.items():
            env = f"{ENV_PREFIX}{section_name.upper()}__{key.upper()}"
            default = "(required)" if f.is_required() else f.get_default(call_default_factory=True)
            default = "(secret)" if is_sensitive(key) else json_default(default)
            kind = _type_name(f.annotation)
            lines.append(f"| `{section_name}.{key}` | `{env}` | `{kind}` | `{default}` |")
        lines.append("")
    return "\n".join(lines)


def _type_name(annotation) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("pydantic.types.", "")


def json_default(value) -> str:
    import json

    def plain(v):  # sections inside defaults (``mm.windows``, ``mm.store``)
        if isinstance(v, BaseModel):
            return v.model_dump(mode="json")
        raise TypeError(f"{type(v).__name__} is not JSON serializable")

    return json.dumps(value, default=plain)
