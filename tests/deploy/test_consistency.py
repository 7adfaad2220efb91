"""The manifests, the settings file and the Dockerfile agree with each other and with
fink_like.config.Settings: env vars, topics, users, mounts, ports, image and secrets."""

from __future__ import annotations

import posixpath
import re
import typing

from pydantic import BaseModel

import fink_like
from fink_like.config import ENV_PREFIX, Settings

from .conftest import IMAGE, ROOT, of_kind, pod_specs

CONFIG_PATH = "/etc/fink-like/config/cluster.yaml"


def settings_key(env_name: str) -> str | None:
    """The settings key ``a.b.c`` of ``FINK_LIKE__A__B__C``, or None if Settings has no such field."""
    parts = [p.lower() for p in env_name[len(ENV_PREFIX):].split("__")]
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            continue
        if typing.get_origin(annotation) is dict:  # free-form maps: spark.conf, kafka.extra
            return ".".join(parts)
        return ".".join(parts) if i == len(parts) - 1 else None
    return None


def env_of(manifests):
    for m in manifests:
        for spec in pod_specs(m):
            for var in spec.get("env", []):
                yield m, var


def test_settings_key_mapping_itself():
    assert settings_key("FINK_LIKE__KAFKA__SASL_PASSWORD") == "kafka.sasl_password"
    assert settings_key("FINK_LIKE__SPARK__CONF__SPARK_EXECUTOR_CORES") is not None
    assert settings_key("FINK_LIKE__KAFKA__SASL_PASWORD") is None
    assert settings_key("FINK_LIKE__KAFKA") is None  # a section, not a value
    assert settings_key("FINK_LIKE__API__PORT__X") is None


def test_every_fink_like_env_var_is_a_settings_key(manifests):
    names = {var["name"] for _m, var in env_of(manifests)}
    settings_vars = {n for n in names if n.startswith(ENV_PREFIX)}
    assert settings_vars, "the manifests pass no settings through the environment"
    assert {n: settings_key(n) for n in settings_vars if settings_key(n) is None} == {}
    assert names - settings_vars <= {"FINK_LIKE_CONFIG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def test_secrets_come_from_secret_refs_never_literals(manifests):
    for m, var in env_of(manifests):
        if re.search("PASSWORD|SECRET|KEY", var["name"]):
            assert "value" not in var and "secretKeyRef" in var["valueFrom"], f"{m}: {var['name']}"
    assert of_kind(manifests, "Secret") == [], "secrets are created out of band (docs/deploy.md)"


def test_secret_refs_are_generated_by_strimzi_or_documented(manifests):
    users = {m.name for m in of_kind(manifests, "KafkaUser")}
    clusters = {m.name for m in of_kind(manifests, "Kafka")}
    generated = users | {f"{c}-cluster-ca-cert" for c in clusters}
    docs = (ROOT / "docs" / "deploy.md").read_text()
    refs = {var["valueFrom"]["secretKeyRef"]["name"] for _m, var in env_of(manifests)
            if "secretKeyRef" in var.get("valueFrom", {})}
    for m in of_kind(manifests, "SparkApplication"):
        refs |= {v["secret"]["secretName"] for v in m.doc["spec"].get("volumes", []) if "secret" in v}
    for name in refs - generated:
        assert f"create secret generic {name}" in docs, f"secret {name} is neither generated nor documented"


def test_kafka_user_and_password_match_the_settings(manifests, cluster_settings):
    users = {m.name for m in of_kind(manifests, "KafkaUser")}
    assert cluster_settings.kafka.sasl_username in users
    for m, var in env_of(manifests):
        if var["name"] == "FINK_LIKE__KAFKA__SASL_PASSWORD":
            assert var["valueFrom"]["secretKeyRef"] == {
                "name": cluster_settings.kafka.sasl_username, "key": "password"}, str(m)
    cluster = of_kind(manifests, "Kafka")[0]
    host, port = cluster_settings.kafka.bootstrap_servers.rsplit(":", 1)
    assert host.startswith(f"{cluster.name}-kafka-bootstrap.{cluster.doc['metadata']['namespace']}.")
    listener = next(x for x in cluster.doc["spec"]["kafka"]["listeners"] if x["port"] == int(port))
    assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512"


def configured_topics(s) -> tuple[set, set]:
    """(topics the broker reads, topics the broker writes) according to the settings."""
    reads = set(s.input.topics)
    writes = {f.topic for f in s.distribution.filters if f.enabled} | {s.distribution.schema_topic}
    if s.quarantine.sink == "topic":
        writes.add(s.quarantine.topic)
    return reads, writes


def topic_names(manifests) -> set:
    return {m.doc["spec"].get("topicName", m.name) for m in of_kind(manifests, "KafkaTopic")}


def test_kafka_topics_are_exactly_those_of_the_settings(manifests, cluster_settings):
    reads, writes = configured_topics(cluster_settings)
    assert topic_names(manifests) == reads | writes
    assert {cluster_settings.simulator.ztf_topic, cluster_settings.simulator.lsst_topic} <= reads


def acl_ops(user) -> dict:
    ops = {}
    for acl in user.doc["spec"]["authorization"]["acls"]:
        if acl["resource"]["type"] == "topic":
            ops.setdefault(acl["resource"]["name"], set()).update(acl["operations"])
    return ops


def test_acls_give_each_user_only_its_topics(manifests, cluster_settings):
    reads, writes = configured_topics(cluster_settings)
    users = {m.name: m for m in of_kind(manifests, "KafkaUser")}
    broker = acl_ops(users[cluster_settings.kafka.sasl_username])
    assert {t for t, ops in broker.items() if "Write" in ops} == writes
    assert {t for t, ops in broker.items() if "Read" in ops} >= reads
    subscriber = acl_ops(users["subscriber-example"])
    assert subscriber and all(ops <= {"Read", "Describe"} for ops in subscriber.values())
    assert set(subscriber) <= writes - reads
    assert set(subscriber) < topic_names(manifests)


def test_one_image_everywhere_tagged_with_the_package_version(manifests):
    expected = f"{IMAGE}:{fink_like.__version__}"
    images = {m.doc["spec"]["image"] for m in of_kind(manifests, "SparkApplication")}
    images |= {c["image"] for m in of_kind(manifests, "Deployment") for c in pod_specs(m)}
    assert images == {expected}
    assert f"docker build -t {expected} ." in (ROOT / "Dockerfile").read_text()
    assert f"docker build -t {expected} ." in (ROOT / "docs" / "deploy.md").read_text()


def mounts_of(manifest) -> dict:
    """mountPath -> volume source (configMap/secret/persistentVolumeClaim name) of a workload."""
    spec = manifest.doc["spec"]
    volumes = spec["volumes"] if manifest.kind == "SparkApplication" else spec["template"]["spec"]["volumes"]
    sources = {}
    for v in volumes:
        kind = next(k for k in v if k != "name")
        sources[v["name"]] = (kind, v[kind].get("name") or v[kind].get("secretName") or v[kind].get("claimName"))
    out = {}
    for spec in pod_specs(manifest):
        for mount in spec.get("volumeMounts", []):
            out[mount["mountPath"]] = sources[mount["name"]]
    return out


def test_config_file_ca_and_checkpoints_are_mounted_where_the_settings_say(manifests, cluster_settings):
    configmap = of_kind(manifests, "ConfigMap")[0]
    checkpoint = cluster_settings.spark.checkpoint_dir.removeprefix("file://")
    for m in of_kind(manifests, "SparkApplication") + of_kind(manifests, "Deployment"):
        mounts = mounts_of(m)
        config_dir, config_file = posixpath.split(CONFIG_PATH)
        assert mounts[config_dir] == ("configMap", configmap.name), str(m)
        assert config_file in configmap.doc["data"]
        for spec in pod_specs(m):
            assert {"name": "FINK_LIKE_CONFIG", "value": CONFIG_PATH} in spec["env"], str(m)
        if m.kind == "SparkApplication":
            ca_dir = posixpath.dirname(cluster_settings.kafka.ssl_ca_location)
            assert mounts[ca_dir] == ("secret", "fink-like-cluster-ca-cert"), str(m)
            assert mounts[checkpoint][0] == "persistentVolumeClaim", str(m)
            assert mounts[checkpoint][1] in {p.name for p in of_kind(manifests, "PersistentVolumeClaim")}


def test_ports_match_the_settings(manifests, cluster_settings):
    api = of_kind(manifests, "Deployment")[0]
    ports = {p["name"]: p["containerPort"] for p in pod_specs(api)[0]["ports"]}
    assert ports == {"http": cluster_settings.api.port, "metrics": cluster_settings.metrics.port}
    for m in of_kind(manifests, "SparkApplication"):
        assert m.doc["spec"]["driver"]["ports"][0]["containerPort"] == cluster_settings.metrics.port
        assert m.doc["spec"]["driver"]["annotations"]["prometheus.io/port"] == str(cluster_settings.metrics.port)
    hbase = next(m for m in of_kind(manifests, "Service") if m.name == "hbase")
    assert cluster_settings.archive.hbase_host.split(".")[0] == hbase.name
    assert cluster_settings.archive.hbase_port in {p["port"] for p in hbase.doc["spec"]["ports"]}


def test_streaming_jobs_cover_every_job_with_its_spark_submit_script(manifests):
    apps = {m.name: m.doc["spec"] for m in of_kind(manifests, "SparkApplication")}
    commands = {}
    for name, spec in apps.items():
        script = spec["mainApplicationFile"].removeprefix("local:///opt/fink-like/")
        assert (ROOT / script).is_file(), f"{name}: {script} is not in the repository"
        commands[name] = " ".join([posixpath.basename(script).removesuffix(".py"), *spec.get("arguments", [])])
        assert spec["sparkVersion"] == "4.3.0"
    assert commands == {
        "fink-like-ingest": "ingest", "fink-like-science": "science",
        "fink-like-distribute": "distribute", "fink-like-archive": "archive",
        "fink-like-science-from-kafka": "science --from-kafka",
    }
    assert "COPY --chown=${UID}:0 bin ./bin" in (ROOT / "Dockerfile").read_text()
