"""Fixtures for the deployment checks: the repository's manifests and cluster settings.

Everything here is offline and reads files only; nothing is built or deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
CLUSTER_YAML = ROOT / "conf" / "cluster.yaml"
IMAGE = "ghcr.io/fink-like/fink-like"
SECRET_ENV = {"FINK_LIKE__KAFKA__SASL_PASSWORD": "s3cr3t-from-env"}


@dataclass(frozen=True)
class Manifest:
    """One YAML document of ``k8s/``: the file it came from and its content."""

    path: Path
    doc: dict

    @property
    def kind(self) -> str:
        return self.doc["kind"]

    @property
    def name(self) -> str:
        return self.doc["metadata"]["name"]

    def __str__(self) -> str:
        return f"{self.path.name}:{self.kind}/{self.name}"


def read_manifests() -> list[Manifest]:
    """Every resource document under ``k8s/`` (the kustomization file excluded)."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append(Manifest(path, doc))
    return found


@pytest.fixture(scope="session")
def manifests() -> list[Manifest]:
    return read_manifests()


@pytest.fixture(scope="session")
def cluster_settings():
    """conf/cluster.yaml loaded as a pod loads it: the SASL password from the environment."""
    from fink_like.config import load_settings

    return load_settings(CLUSTER_YAML, env=SECRET_ENV)


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m.kind == kind]


def pod_specs(manifest: Manifest) -> list[dict]:
    """The container-like specs of a workload: SparkApplication driver/executor, containers."""
    doc = manifest.doc
    if manifest.kind == "SparkApplication":
        return [doc["spec"]["driver"], doc["spec"]["executor"]]
    if manifest.kind in ("Deployment", "StatefulSet"):
        return doc["spec"]["template"]["spec"]["containers"]
    return []
