"""Every manifest in k8s/ validates offline: built-in kinds with kubernetes-validate
(strict: unknown fields fail), custom resources against tests/deploy/crd_schemas.py,
and all deployment YAML passes yamllint."""

from __future__ import annotations

import copy
import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

from .conftest import CLUSTER_YAML, K8S, ROOT, read_manifests
from .crd_schemas import SCHEMAS

K8S_VERSION = "1.33.0"


def _core_registry() -> Registry:
    """The Kubernetes core definitions that kubernetes-validate ships, for ``$ref`` in CRDs."""
    folder = importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"
    definitions = json.loads((folder / f"v{K8S_VERSION}-local-strict" / "_definitions.json").read_text())
    return Registry().with_resource(definitions["$id"], Resource.from_contents(definitions))


REGISTRY = _core_registry()


def crd_errors(doc: dict) -> list[str]:
    """Validation errors of a custom resource against its schema (empty when valid)."""
    schema = SCHEMAS[(doc["apiVersion"], doc["kind"])]
    validator = jsonschema.Draft202012Validator(schema, registry=REGISTRY)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def is_custom(doc: dict) -> bool:
    return (doc["apiVersion"], doc["kind"]) in SCHEMAS


@pytest.mark.parametrize("manifest", read_manifests(), ids=str)
def test_manifest_validates(manifest):
    if is_custom(manifest.doc):
        assert crd_errors(manifest.doc) == []
    else:
        kubernetes_validate.validate(manifest.doc, K8S_VERSION, strict=True)


def test_kustomization_validates_and_lists_every_manifest_but_the_alternative():
    doc = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert crd_errors(doc) == []
    listed = set(doc["resources"])
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    # spark-science-from-kafka.yaml replaces spark-ingest.yaml + spark-science.yaml.
    assert listed == on_disk - {"spark-science-from-kafka.yaml"}


def test_crd_schemas_reject_broken_resources(manifests):
    app = next(m.doc for m in manifests if m.kind == "SparkApplication")
    for path, value in (
        (("spec", "mode"), "clusterr"),                    # not an operator mode
        (("spec", "driver", "cores"), 0),                  # below the minimum
        (("spec", "executor", "memry"), "2g"),             # misspelt field
        (("spec", "driver", "env"), [{"value": "x"}]),     # EnvVar without name (core schema)
    ):
        broken = copy.deepcopy(app)
        node = broken
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert crd_errors(broken), f"{path}={value!r} should be rejected"
    user = next(m.doc for m in manifests if m.kind == "KafkaUser")
    broken = copy.deepcopy(user)
    broken["spec"]["authorization"]["acls"][0]["operations"] = ["Publish"]
    assert crd_errors(broken)
    topic = copy.deepcopy(next(m.doc for m in manifests if m.kind == "KafkaTopic"))
    del topic["metadata"]["labels"]["strimzi.io/cluster"]
    assert crd_errors(topic), "a KafkaTopic must name its Strimzi cluster"


def test_kubernetes_validate_rejects_bad_types_and_unknown_fields(manifests):
    deployment = copy.deepcopy(next(m.doc for m in manifests if m.kind == "Deployment"))
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    deployment = copy.deepcopy(next(m.doc for m in manifests if m.kind == "Deployment"))
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_yamllint_passes():
    targets = [str(p) for p in [K8S, CLUSTER_YAML, ROOT / ".yamllint"]]
    done = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-c", str(ROOT / ".yamllint"), *targets],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_yamllint_config_catches_problems(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\nb:   [x,y]\n")
    done = subprocess.run(
        [sys.executable, "-m", "yamllint", "-c", str(ROOT / ".yamllint"), str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode != 0 and "duplication of key" in done.stdout
