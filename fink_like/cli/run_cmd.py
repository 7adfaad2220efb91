"""``fink-like run``: the main job (``make run``). Replays a night through the whole broker."""

from __future__ import annotations

import json
from pathlib import Path

from fink_like.cli.args import positive_float, positive_int


def register(sub) -> None:
    p = sub.add_parser("run", help="run the whole broker on a replayed night (embedded default)",
                       description="Start the embedded Kafka, replay real alerts at --rate, run "
                                   "ingestion -> science -> topics -> archive, print a report.")
    p.add_argument("--data", metavar="DIR", help="alert folders to replay (default: simulator.data_dir)")
    p.add_argument("--rate", type=positive_float, help="alerts/s to replay (default: simulator.rate)")
    p.add_argument("--clone-factor", type=positive_int, default=1,
                   help="replay each alert K times with new ids (load tests)")
    p.add_argument("--limit", type=positive_int, help="at most N alerts per survey")
    p.add_argument("--timeout", type=positive_float, default=1800.0, help="give up after SECONDS")
    p.add_argument("--serve", action="store_true", help="keep the REST API up after the run")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.jobs.main_job import RunOptions, isolate_run, run_broker
    from fink_like.jobs.run_report import summarise
    from fink_like.kafka.embedded import embedded_for_run

    settings, run_dir = isolate_run(settings)
    options = RunOptions(
        data_dir=args.data or settings.simulator.data_dir,
        rate=args.rate or settings.simulator.rate,
        clone_factor=args.clone_factor,
        limit=args.limit,
        timeout=args.timeout,
        progress=not args.no_progress,
    )
    with embedded_for_run(settings):
        result = run_broker(settings, options)
        summary, files = summarise(settings, result, Path(run_dir or "var") / "report")
    print(json.dumps(summary, indent=2))
    for f in files:
        print(f"report written: {f}")
    if args.serve:
        import uvicorn

        from fink_like.api.app import create_app

        base = f"http://{settings.api.host}:{settings.api.port}"
        print(f"serving the portal on {base}/portal/report and the API on {base}/docs (Ctrl-C to stop)")
        uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port)
    return 0 if result.totals.reconciles() else 1
