"""The combined job on a real Spark standalone cluster (``fink-like cluster``), on loopback.

* 2 workers give exactly the lake, archive and topics of local mode;
* ``kill -9`` of one worker (and its executors) mid-stream: the job goes on and every
  alert is still exactly once.

Each run is ``spark-submit --master spark://127.0.0.1:PORT bin/pipeline.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fink_like.archive import model
from fink_like.archive.query import Archive
from fink_like.client import consume
from fink_like.config import EMBEDDED_CONFIG, load_settings
from fink_like.errors import ConfigError
from fink_like.jobs import lake
from fink_like.jobs.cluster import ClusterError, LocalCluster, check_master
from fink_like.jobs.driver import run_job
from fink_like.kafka.conf import client_conf
from fink_like.kafka.embedded import free_port
from fink_like.simulator import load_alerts, replay

pytestmark = [pytest.mark.spark, pytest.mark.kafka]
ROOT = Path(__file__).resolve().parents[2]
SPARK_SUBMIT = Path(sys.executable).parent / "spark-submit"
FILTERS = [{"name": "bright", "expression": "mag < 18.5"}, {"name": "rubin", "expression": "survey = 'lsst'"}]
SELECT = {"bright": lambda lake_rows: lake_rows["mag"] < 18.5,  # the filters, in plain pandas
          "rubin": lambda lake_rows: lake_rows["survey"] == "lsst"}
STAGES = ("raw", "science", "archive", "distribute")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    settings = load_settings(None, env={}, overrides={"cluster": {
        "state_dir": str(tmp_path_factory.mktemp("cluster")), "workers": 2, "worker_memory": "1g"}})
    local = LocalCluster(settings.cluster)
    url = local.start()
    try:
        yield local, url
    finally:
        local.stop()


def _env(bootstrap: str, topic: str, root: Path, prefix: str) -> dict:
    filters = [{**f, "topic": f"{prefix}.{f['name']}"} for f in FILTERS]
    return {
        "FINK_LIKE__KAFKA__EMBEDDED": "false", "FINK_LIKE__KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "FINK_LIKE__INPUT__TOPICS": json.dumps([topic]), "FINK_LIKE__INPUT__MAX_OFFSETS_PER_TRIGGER": "200",
        "FINK_LIKE__LAKE__ROOT": str(root / "lake"), "FINK_LIKE__SPARK__CHECKPOINT_DIR": str(root / "ckpt"),
        "FINK_LIKE__ARCHIVE__PATH": str(root / "archive.sqlite"), "FINK_LIKE__METRICS__ENABLED": "false",
        "FINK_LIKE__SPARK__TRIGGER_SECONDS": "0",
        "FINK_LIKE__SCIENCE__MODULES": json.dumps([{"name": "microlensing"}]),
        "FINK_LIKE__DISTRIBUTION__SCHEMA_TOPIC": f"{prefix}.schemas",
        "FINK_LIKE__DISTRIBUTION__FILTERS": json.dumps(filters),
    }


def _submit(url: str, env: dict) -> subprocess.Popen:
    """spark-submit the combined job; its Python driver's stderr (the JSON logs) comes on stdout."""
    full = {**os.environ, "PYSPARK_PYTHON": sys.executable, **env}
    full.pop("FINK_LIKE_CONFIG", None)
    return subprocess.Popen([str(SPARK_SUBMIT), "--master", url, "--conf", "spark.executor.memory=900m",
                             "bin/pipeline.py", "--available-now"], cwd=ROOT, env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _outputs(env: dict, prefix: str) -> dict:
    """Lakes, archive keys and topic keys of one run; topics read to their end, then checked.

    Each topic must hold exactly the alerts its filter selects from the science lake,
    computed here with pandas (an alert may come twice: at least once, keyed by alert id).
    """
    settings = load_settings(EMBEDDED_CONFIG, env=env)
    science = lake.read_lake(settings.lake_path("science")).to_pandas().sort_values("alert_id")
    archive = Archive(settings)
    keys = sorted(k for k, _ in archive.backend.scan(model.table_name(settings.archive.table_prefix, "alerts")))
    topics = {f["name"]: sorted({a.key for a in consume([f"{prefix}.{f['name']}"], client_conf(settings.kafka),
                                                        from_beginning=True, until_end=True, idle_timeout=60.0,
                                                        schema_topic=f"{prefix}.schemas")})
              for f in FILTERS}
    for name, select in SELECT.items():
        expected = sorted(science.loc[select(science).fillna(False).astype(bool), "alert_id"].astype(str))
        assert topics[name] == expected, f"{prefix}.{name}: exactly what its filter selects from the lake"
    raw = sorted(lake.read_lake(settings.lake_path("raw"), columns=["alert_id"])["alert_id"].to_pylist())
    columns = science[["alert_id", "mulens_prob", "mag"]]
    columns = columns.astype(object).where(columns.notna(), None)  # NaN != NaN in list equality
    return {"raw": raw, "science": columns.to_dict("list"),
            "archive": keys, "topics": topics}


def test_two_workers_give_what_local_mode_gives(spark, cluster, kafka_bootstrap, fresh_topic, shared_data,
                                                tmp_path):
    local_cluster, url = cluster
    topic = fresh_topic("cluster")
    alerts = load_alerts([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    replay([(m.key, m.value) for m in alerts], topic, {"bootstrap.servers": kafka_bootstrap})

    on_cluster = _env(kafka_bootstrap, topic, tmp_path / "cluster", f"{topic}.c")
    proc = _submit(url, on_cluster)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    lines = out.splitlines()  # the job's totals: the last JSON document on stdout
    start = max(i for i, line in enumerate(lines) if line == "{")
    totals, _ = json.JSONDecoder().raw_decode("\n".join(lines[start:]))  # log lines may follow it
    assert totals["consumed"] == len(alerts)

    in_local = _env(kafka_bootstrap, topic, tmp_path / "local", f"{topic}.l")
    # the settings spark-submit bin/pipeline.py loads: the embedded configuration + environment
    run_job(load_settings(EMBEDDED_CONFIG, env=in_local), source="kafka", stages=STAGES, name="pipeline",
            available_now=True)
    got, expected = _outputs(on_cluster, f"{topic}.c"), _outputs(in_local, f"{topic}.l")
    assert got["raw"] == sorted(int(m.key) for m in alerts)
    assert got == expected


def test_kill_9_of_a_worker_mid_stream(cluster, kafka_bootstrap, fresh_topic, shared_data, tmp_path):
    local_cluster, url = cluster
    topic = fresh_topic("workerkill")
    alerts = load_alerts([shared_data / "ztf" / "alerts-4.02", shared_data / "lsst" / "alerts-9.0"])
    replay([(m.key, m.value) for m in alerts], topic, {"bootstrap.servers": kafka_bootstrap})
    env = _env(kafka_bootstrap, topic, tmp_path / "kill", f"{topic}.k")
    env["FINK_LIKE__INPUT__MAX_OFFSETS_PER_TRIGGER"] = "120"
    proc = _submit(url, env)
    killed = None
    try:
        for line in proc.stdout:  # the driver logs one JSON line per finished batch
            if line.startswith('{"') and json.loads(line).get("msg") == "batch done":
                killed = local_cluster.kill_worker(0)
                break
        out, _ = proc.communicate(timeout=900)
    finally:
        proc.kill()
    assert killed is not None, "no batch finished before the kill"
    assert proc.returncode == 0, out[-3000:]
    got = _outputs(env, f"{topic}.k")
    assert got["raw"] == sorted(int(m.key) for m in alerts), "raw lake: every alert exactly once"
    assert sorted(got["science"]["alert_id"]) == got["raw"], "science lake: every alert exactly once"
    assert len(got["archive"]) == len(alerts), "archive: one row per alert"


def test_a_master_that_cannot_bind_is_restarted_on_new_ports(tmp_path, monkeypatch, caplog):
    """The free port is taken before the master binds it (Spark's own port retries off): a new one is used."""
    import socket

    import fink_like.jobs.cluster as cluster_module

    monkeypatch.setenv("SPARK_MASTER_OPTS", "-Dspark.port.maxRetries=0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])
        monkeypatch.setattr(cluster_module, "free_port", lambda: next(ports, None) or free_port())
        settings = load_settings(None, env={}, overrides={"cluster": {"state_dir": str(tmp_path), "workers": 1,
                                                                      "worker_memory": "512m"}})
        local = LocalCluster(settings.cluster)
        try:
            url = local.start()
            assert url != f"spark://127.0.0.1:{taken.getsockname()[1]}"
            assert local.status()["master"] == url
        finally:
            local.stop()
    retried = [r.getMessage() for r in caplog.records if "could not bind" in r.getMessage()]
    assert len(retried) == 1 and "attempt 2 of 3" in retried[0]


def test_a_taken_master_port_of_the_settings_is_one_clear_error(tmp_path):
    """``cluster.master_port`` is the user's: Spark moving off it is refused, naming the key."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings(None, env={}, overrides={"cluster": {"state_dir": str(tmp_path), "workers": 1,
                                                                      "master_port": port}})
        local = LocalCluster(settings.cluster)
        with pytest.raises(ClusterError, match=f"cluster.master_port {port} is taken"):
            local.start()
    assert local.status() is None and not list(tmp_path.glob("*.pid")), "nothing left running"


def test_an_unreachable_master_is_one_clear_error():
    port = free_port()
    with pytest.raises(ConfigError, match=rf"spark.master: no Spark master answers at spark://127.0.0.1:{port}"):
        check_master(f"spark://127.0.0.1:{port}", timeout=1.0)


def test_bad_cluster_settings_name_the_key():
    with pytest.raises(ConfigError, match="cluster.worker_memory"):
        load_settings(None, env={"FINK_LIKE__CLUSTER__WORKER_MEMORY": "lots"})
    with pytest.raises(ConfigError, match="cluster.workers"):
        load_settings(None, env={"FINK_LIKE__CLUSTER__WORKERS": "0"})
