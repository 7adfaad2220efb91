"""``fink-like bench-api``: latency of the portal and the REST API on a large embedded archive."""

from __future__ import annotations

import json
from pathlib import Path

from fink_like.cli.args import positive_int


def register(sub) -> None:
    p = sub.add_parser("bench-api", help="benchmark the portal and API on a large cloned archive",
                       description="Build (once) an embedded archive of cloned real alerts, serve it, "
                                   "and measure server-side latency per request type (docs/benchmarks.md).")
    p.add_argument("--alerts", type=positive_int, default=100_000, metavar="N", help="archive size (default 100000)")
    p.add_argument("--archive", default="var/bench/api-archive.sqlite", metavar="FILE",
                   help="where the benchmark archive is built and kept")
    p.add_argument("--requests", type=positive_int, default=200, metavar="N", help="requests per scenario")
    p.add_argument("--clients", type=positive_int, default=4, metavar="N", help="concurrent client threads")
    p.add_argument("--rebuild", action="store_true", help="rebuild the archive even if it exists")
    p.add_argument("--output", default="var/bench/api.json", metavar="FILE", help="JSON results file")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.api import bench
    from fink_like.config import Settings

    data = settings.model_dump()
    data["archive"].update(backend="embedded", path=args.archive)
    data["api"].update(rate_limit_per_minute=0, public_read=True)
    settings = Settings.model_validate(data)
    report = bench.run(settings, Path(settings.simulator.data_dir), args.alerts, args.requests,
                       args.clients, args.rebuild)
    bench.write(report, args.output)
    print(json.dumps(report, indent=1))
    return 0
