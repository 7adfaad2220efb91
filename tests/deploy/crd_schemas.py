"""JSON schemas for the custom resources in ``k8s/``, written from their documented fields.

kubernetes-validate ships schemas for built-in kinds only: for a SparkApplication or a
Strimzi ``Kafka`` it reports "Couldn't find schema" and validates nothing. These schemas
cover the fields these manifests may use, from the operators' API references
(spark-operator ``sparkoperator.k8s.io/v1beta2``, Strimzi ``kafka.strimzi.io/v1beta2``,
Prometheus Operator ``monitoring.coreos.com/v1``, kustomize ``v1beta1``). They are not
the full CRDs: objects are closed (``additionalProperties: false``) so a misspelt or
unknown field fails, and a field these manifests need but that is missing here must be
added from the reference. Pod-level pieces (env, volumes, mounts, security contexts)
reuse the Kubernetes core definitions that kubernetes-validate ships.
"""

from __future__ import annotations

CORE = "https://kubernetes.io/api/_definitions.json#/$defs/"


def core(name: str) -> dict:
    """A reference to a Kubernetes core definition, e.g. ``io.k8s.api.core.v1.EnvVar``."""
    return {"$ref": CORE + name}


def closed(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def array_of(item: dict) -> dict:
    return {"type": "array", "items": item}


STRING = {"type": "string"}
INT = {"type": "integer"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
QUANTITY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|k|[KMGT]i?|[kmgt])?$"}
METADATA = core("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")


def resource(api_version: str, kind: str, spec: dict, metadata: dict = METADATA) -> dict:
    return closed({
        "apiVersion": {"const": api_version},
        "kind": {"const": kind},
        "metadata": metadata,
        "spec": spec,
    }, required=("apiVersion", "kind", "metadata", "spec"))


# --- spark-operator ------------------------------------------------------------------

_POD = {
    "cores": {"type": "integer", "minimum": 1},
    "coreLimit": QUANTITY,
    "coreRequest": QUANTITY,
    "memory": QUANTITY,
    "memoryOverhead": QUANTITY,
    "image": STRING,
    "labels": STRING_MAP,
    "annotations": STRING_MAP,
    "env": array_of(core("io.k8s.api.core.v1.EnvVar")),
    "envFrom": array_of(core("io.k8s.api.core.v1.EnvFromSource")),
    "volumeMounts": array_of(core("io.k8s.api.core.v1.VolumeMount")),
    "securityContext": core("io.k8s.api.core.v1.SecurityContext"),
    "podSecurityContext": core("io.k8s.api.core.v1.PodSecurityContext"),
    "serviceAccount": STRING,
    "nodeSelector": STRING_MAP,
    "tolerations": array_of(core("io.k8s.api.core.v1.Toleration")),
    "affinity": core("io.k8s.api.core.v1.Affinity"),
    "javaOptions": STRING,
    "ports": array_of(closed({
        "name": STRING,
        "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
        "containerPort": {"type": "integer", "minimum": 1, "maximum": 65535},
    }, required=("name", "containerPort"))),
}

SPARK_APPLICATION = resource("sparkoperator.k8s.io/v1beta2", "SparkApplication", closed({
    "type": {"enum": ["Java", "Scala", "Python", "R"]},
    "pythonVersion": {"enum": ["2", "3"]},
    "mode": {"enum": ["cluster", "client", "in-cluster-client"]},
    "image": STRING,
    "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
    "mainApplicationFile": STRING,
    "mainClass": STRING,
    "arguments": array_of(STRING),
    "sparkVersion": STRING,
    "sparkConf": STRING_MAP,
    "hadoopConf": STRING_MAP,
    "deps": closed({key: array_of(STRING) for key in (
        "jars", "files", "pyFiles", "packages", "excludePackages", "repositories")}),
    "restartPolicy": closed({
        "type": {"enum": ["Never", "Always", "OnFailure"]},
        "onFailureRetries": {"type": "integer", "minimum": 0},
        "onFailureRetryInterval": {"type": "integer", "minimum": 1},
        "onSubmissionFailureRetries": {"type": "integer", "minimum": 0},
        "onSubmissionFailureRetryInterval": {"type": "integer", "minimum": 1},
    }, required=("type",)),
    "volumes": array_of(core("io.k8s.api.core.v1.Volume")),
    "driver": closed(dict(_POD, podName=STRING), required=("cores", "memory")),
    "executor": closed(dict(_POD, instances={"type": "integer", "minimum": 1},
                            deleteOnTermination={"type": "boolean"}),
                       required=("cores", "memory")),
    "dynamicAllocation": closed({
        "enabled": {"type": "boolean"},
        "initialExecutors": INT, "minExecutors": INT, "maxExecutors": INT,
    }),
    "timeToLiveSeconds": INT,
}, required=("type", "sparkVersion", "mode", "mainApplicationFile", "driver", "executor")))

# --- Strimzi -------------------------------------------------------------------------

_STRIMZI = "kafka.strimzi.io/v1beta2"
_CLUSTER_LABEL = {
    "type": "object",
    "properties": {"labels": {"type": "object", "required": ["strimzi.io/cluster"]}},
    "required": ["labels"],
}
OWNED_METADATA = {"allOf": [METADATA, _CLUSTER_LABEL]}
_CONFIG = {"type": "object", "additionalProperties": {"type": ["string", "integer", "number",
                                                               "boolean"]}}

_LISTENER = closed({
    "name": {"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
    "port": {"type": "integer", "minimum": 9092, "maximum": 65535},
    "type": {"enum": ["internal", "route", "loadbalancer", "nodeport", "ingress",
                      "cluster-ip"]},
    "tls": {"type": "boolean"},
    "authentication": closed({"type": {"enum": ["tls", "scram-sha-512", "oauth", "custom"]}},
                             required=("type",)),
}, required=("name", "port", "type", "tls"))

KAFKA = resource(_STRIMZI, "Kafka", closed({
    "kafka": closed({
        "version": STRING,
        "listeners": {**array_of(_LISTENER), "minItems": 1},
        "authorization": closed({"type": {"enum": ["simple", "opa", "keycloak", "custom"]},
                                 "superUsers": array_of(STRING)}, required=("type",)),
        "config": _CONFIG,
        "resources": core("io.k8s.api.core.v1.ResourceRequirements"),
    }, required=("listeners",)),
    "entityOperator": closed({"topicOperator": {"type": "object"},
                              "userOperator": {"type": "object"}}),
}, required=("kafka",)))

_VOLUME = closed({
    "id": {"type": "integer", "minimum": 0},
    "type": {"enum": ["ephemeral", "persistent-claim"]},
    "size": QUANTITY,
    "class": STRING,
    "deleteClaim": {"type": "boolean"},
    "kraftMetadata": {"enum": ["shared"]},
}, required=("type",))

KAFKA_NODE_POOL = resource(_STRIMZI, "KafkaNodePool", closed({
    "replicas": {"type": "integer", "minimum": 0},
    "roles": {**array_of({"enum": ["controller", "broker"]}), "minItems": 1},
    "storage": {"oneOf": [
        closed({"type": {"const": "jbod"}, "volumes": {**array_of(_VOLUME), "minItems": 1}},
               required=("type", "volumes")),
        _VOLUME,
    ]},
    "resources": core("io.k8s.api.core.v1.ResourceRequirements"),
}, required=("replicas", "roles", "storage")), metadata=OWNED_METADATA)

KAFKA_TOPIC = resource(_STRIMZI, "KafkaTopic", closed({
    "topicName": STRING,
    "partitions": {"type": "integer", "minimum": 1},
    "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
    "config": _CONFIG,
}, required=("partitions", "replicas")), metadata=OWNED_METADATA)

_OPERATIONS = ["Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
               "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All"]
_ACL = closed({
    "resource": closed({
        "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
        "name": STRING,
        "patternType": {"enum": ["literal", "prefix"]},
    }, required=("type",)),
    "operations": {**array_of({"enum": _OPERATIONS}), "minItems": 1},
    "host": STRING,
    "type": {"enum": ["allow", "deny"]},
}, required=("resource", "operations"))

KAFKA_USER = resource(_STRIMZI, "KafkaUser", closed({
    "authentication": closed({"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
                             required=("type",)),
    "authorization": closed({"type": {"const": "simple"}, "acls": array_of(_ACL)},
                            required=("type", "acls")),
}, required=("authentication",)), metadata=OWNED_METADATA)

# --- Prometheus Operator -------------------------------------------------------------

_ENDPOINT = closed({
    "port": STRING,
    "path": STRING,
    "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
    "scheme": {"enum": ["http", "https"]},
})
_SELECTOR = core("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")

SERVICE_MONITOR = resource("monitoring.coreos.com/v1", "ServiceMonitor", closed({
    "selector": _SELECTOR,
    "endpoints": {**array_of(_ENDPOINT), "minItems": 1},
    "namespaceSelector": {"type": "object"},
}, required=("selector", "endpoints")))

POD_MONITOR = resource("monitoring.coreos.com/v1", "PodMonitor", closed({
    "selector": _SELECTOR,
    "podMetricsEndpoints": {**array_of(_ENDPOINT), "minItems": 1},
    "namespaceSelector": {"type": "object"},
}, required=("selector", "podMetricsEndpoints")))

# --- kustomize -----------------------------------------------------------------------

KUSTOMIZATION = closed({
    "apiVersion": {"const": "kustomize.config.k8s.io/v1beta1"},
    "kind": {"const": "Kustomization"},
    "namespace": STRING,
    "resources": {**array_of(STRING), "minItems": 1},
}, required=("apiVersion", "kind", "resources"))

SCHEMAS = {
    ("sparkoperator.k8s.io/v1beta2", "SparkApplication"): SPARK_APPLICATION,
    (_STRIMZI, "Kafka"): KAFKA,
    (_STRIMZI, "KafkaNodePool"): KAFKA_NODE_POOL,
    (_STRIMZI, "KafkaTopic"): KAFKA_TOPIC,
    (_STRIMZI, "KafkaUser"): KAFKA_USER,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR,
    ("monitoring.coreos.com/v1", "PodMonitor"): POD_MONITOR,
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): KUSTOMIZATION,
}
"""(apiVersion, kind) -> JSON schema, for every custom resource kind used in ``k8s/``."""
