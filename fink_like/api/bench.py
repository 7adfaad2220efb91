"""``fink-like bench-api``: server-side latency of the portal and the API on a large archive.

1. Build (once) an embedded archive of ``n`` alerts: every real alert of
   ``../shared/data`` cloned with new ids, each clone of an object moved as a whole by
   up to ``spread`` degrees (so a 1 degree cone holds many objects, as in a survey field).
2. Serve the application with uvicorn on loopback and send requests from ``clients``
   threads: object pages, REST light curves, 1 degree cones (portal page and REST),
   and a static file as the reference ceiling (the cost of the HTTP stack alone). Server-side time is read from
   the ``Server-Timing`` header every answer carries; client time is measured too.

Prints and writes JSON. It is a benchmark, not a test: numbers depend on the machine.
``bin/bench_api_load`` measures large pages under parallel load (any version of the code).
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

REAL = ["ztf/alerts-4.02", "ztf/alerts-3.3", "lsst/alerts-9.0", "lsst/alerts-7.4"]


def cloned_alerts(data_dir: Path, n: int, spread_deg: float = 3.0, seed: int = 7):
    """Batches of real alerts cloned until ``n``: new alert and object ids, objects moved together."""
    from fink_like.simulator.clone import offset_position
    from fink_like.surveys import read_alert_files

    real = read_alert_files([data_dir / f for f in REAL])
    real = real.append_column("snia_prob", pa.array(np.random.default_rng(seed).uniform(0, 1, real.num_rows)))
    rng = random.Random(seed)
    objects = real.column("object_id").to_pylist()
    made, variant = 0, 0
    while made < n:
        variant += 1
        take = min(real.num_rows, n - made)
        batch = real.slice(0, take)
        moves = {o: (rng.uniform(-spread_deg, spread_deg), rng.uniform(-spread_deg, spread_deg)) for o in set(objects)}
        ras, decs = [], []
        for o, ra, dec in zip(objects, batch.column("ra").to_pylist(), batch.column("dec").to_pylist()):
            new = offset_position(ra, dec, *moves[o])
            ras.append(new[0])
            decs.append(new[1])
        ids = np.asarray(batch.column("alert_id")) % 10**15 + variant * 10**15
        batch = batch.set_column(batch.schema.get_field_index("alert_id"), "alert_id", pa.array(ids, pa.int64()))
        batch = batch.set_column(batch.schema.get_field_index("object_id"), "object_id",
                                 pa.array([f"{o[:50]}c{variant}" for o in objects[:take]]))
        batch = batch.set_column(batch.schema.get_field_index("ra"), "ra", pa.array(ras))
        batch = batch.set_column(batch.schema.get_field_index("dec"), "dec", pa.array(decs))
        made += take
        yield batch


def build_archive(settings, data_dir: Path, n: int) -> dict:
    from fink_like.archive.writer import ArchiveWriter

    start, written = time.perf_counter(), 0
    writer = ArchiveWriter(settings)
    try:
        for batch in cloned_alerts(data_dir, n):
            written += writer.write(batch)
    finally:
        writer.close()
    return {"alerts": written, "seconds": round(time.perf_counter() - start, 1)}


def serve(settings):
    """(base url, stop function) of the application on a free loopback port."""
    import uvicorn

    from fink_like.api import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()

    def stop():
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop


def timed(client, url: str) -> tuple[float, float, int]:
    """(server ms from Server-Timing, client ms, status) of one GET."""
    start = time.perf_counter()
    reply = client.get(url)
    client_ms = (time.perf_counter() - start) * 1000
    timing = reply.headers.get("server-timing", "app;dur=nan")
    return float(timing.rpartition("dur=")[2]), client_ms, reply.status_code


def percentiles(samples: list[tuple[float, float, int]]) -> dict:
    server, client = np.array([s[0] for s in samples]), np.array([s[1] for s in samples])
    return {"n": len(samples), "errors": sum(1 for s in samples if s[2] >= 400),
            "server_ms": {"p50": round(float(np.percentile(server, 50)), 1), "p95": round(float(np.percentile(server, 95)), 1)},
            "client_ms": {"p50": round(float(np.percentile(client, 50)), 1), "p95": round(float(np.percentile(client, 95)), 1)}}


def run_load(base: str, urls: list[str], clients: int) -> dict:
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client, ThreadPoolExecutor(clients) as pool:
        return percentiles(list(pool.map(lambda u: timed(client, u), urls)))


def scenarios(settings, rng: random.Random, requests: int) -> dict[str, list[str]]:
    """The URLs of each scenario, drawn from what the archive holds."""
    from fink_like.archive.query import Archive

    archive = Archive(settings)
    try:
        sample = archive.latest(limit=2000).table.select(["object_id", "ra", "dec"]).to_pylist()
    finally:
        archive.close()
    picks = [rng.choice(sample) for _ in range(requests)]
    return {
        "reference_static_file": ["/static/favicon.svg"] * requests,
        "object_page": [f"/portal/objects/{p['object_id']}" for p in picks],
        "object_rest": [f"/objects/{p['object_id']}" for p in picks],
        "cone_1deg_rest": [f"/cone?ra={p['ra']:.5f}&dec={p['dec']:.5f}&radius=3600" for p in picks],
        "cone_1deg_page": [f"/portal/search?ra={p['ra']:.5f}&dec={p['dec']:.5f}&radius=1+deg&go=1" for p in picks],
    }


def run(settings, data_dir: Path, n: int, requests: int, clients: int, rebuild: bool) -> dict:
    path = Path(settings.archive.path)
    if rebuild and path.exists():
        path.unlink()
    built = build_archive(settings, data_dir, n) if not path.exists() else {"alerts": "existing"}
    base, stop = serve(settings)
    try:
        rng = random.Random(11)
        results = {name: run_load(base, urls, clients) for name, urls in scenarios(settings, rng, requests).items()}
    finally:
        stop()
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "archive": str(path),
            "build": built, "requests_per_scenario": requests, "clients": clients, "results": results}


def write(report: dict, output: str) -> None:
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(json.dumps(report, indent=1))
