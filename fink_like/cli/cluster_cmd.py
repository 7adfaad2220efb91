"""``fink-like cluster start|stop|status [--workers N]``: a Spark standalone cluster on loopback."""

from __future__ import annotations

import json

from fink_like.cli.args import positive_int


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "cluster", help="start, stop or inspect a local Spark standalone cluster",
        description="A Spark master and N workers on 127.0.0.1, from pyspark's own bin/spark-class. "
                    "Pid, port and log files live in cluster.state_dir. Then run a job on it with "
                    "`spark-submit --master spark://127.0.0.1:PORT bin/pipeline.py`.",
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="workers to start (default: cluster.workers)")
    parser.add_argument("--json", action="store_true", help="print status as JSON")
    parser.set_defaults(handler=handle)


def handle(args, settings) -> int:
    from fink_like.jobs.cluster import LocalCluster

    cluster = LocalCluster(settings.cluster)
    if args.action == "start":
        url = cluster.start(args.workers)
        info = cluster.status() or {}
        print(f"spark master at {url} with {len(info.get('workers', []))} worker(s); "
              f"web UI {info.get('webui')}; logs in {cluster.state}")
        return 0
    if args.action == "stop":
        running = cluster.status() is not None
        cluster.stop()
        print("cluster stopped" if running else f"no cluster running (state dir {cluster.state})")
        return 0
    info = cluster.status()
    if args.json:
        print(json.dumps(info))
    elif info is None:
        print(f"no cluster running (state dir {cluster.state})")
    else:
        alive = sum(w["state"] == "ALIVE" for w in info["workers"])
        print(f"spark master at {info['master']}: {alive} worker(s) alive; web UI {info['webui']}")
    return 0 if info else 1
