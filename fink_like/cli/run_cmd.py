"""``fink-like run``: the main job (``make run``). Replays a night through the whole broker."""

from __future__ import annotations

import json
from pathlib import Path

from fink_like.cli.args import input_path, positive_float, positive_int


def register(sub) -> None:
    p = sub.add_parser("run", help="run the whole broker on a replayed night (embedded default)",
                       description="Start the embedded Kafka, replay real alerts at --rate, run "
                                   "ingestion -> science -> topics -> archive, print a report and "
                                   "the commands that read the run's data.")
    p.add_argument("--data", type=input_path, metavar="DIR",
                   help="folder with ztf/ and lsst/ alert folders to replay (default: simulator.data_dir; "
                        "without either folder, a synthetic night)")
    p.add_argument("--rate", type=positive_float, metavar="RATE",
                   help="alerts/s to replay (default: simulator.rate)")
    p.add_argument("--clone-factor", type=positive_int, default=1, metavar="K",
                   help="replay each alert K times with new ids (load tests)")
    p.add_argument("--limit", type=positive_int, metavar="N", help="at most N alerts per survey")
    p.add_argument("--timeout", type=positive_float, default=1800.0, metavar="SECONDS",
                   help="give up after SECONDS")
    p.add_argument("--serve", action="store_true", help="keep the REST API up after the run")
    p.add_argument("--keep-kafka", action="store_true",
                   help="leave the run's embedded Kafka up afterwards, so that `fink-like consume` "
                        "reads its topics (until `fink-like kafka stop` or the next run)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.jobs.main_job import RunOptions, run_broker
    from fink_like.jobs.preflight import preflight
    from fink_like.jobs.run_report import summarise
    from fink_like.jobs.runs import isolate_run, record_latest
    from fink_like.kafka.embedded import embedded_for_run

    preflight(settings)
    if args.serve:
        from fink_like.cli.serve_cmd import check_port_free

        check_port_free(settings.api.host, settings.api.port)
    _stop_kept_broker(settings)
    settings, run_dir = isolate_run(settings)
    options = RunOptions(
        data_dir=args.data or settings.simulator.data_dir,
        rate=args.rate or settings.simulator.rate,
        clone_factor=args.clone_factor,
        limit=args.limit,
        timeout=args.timeout,
        progress=not args.no_progress,
    )
    with embedded_for_run(settings, keep=args.keep_kafka):
        if run_dir:
            record_latest(run_dir)
        result = run_broker(settings, options)
        summary, files = summarise(settings, result, Path(run_dir or "var") / "report")
    print(json.dumps(summary, indent=2))
    for f in files:
        print(f"report written: {f}")
    print(next_commands(settings, run_dir, args.keep_kafka, dict(result.totals.published)))
    if args.serve:
        import uvicorn

        from fink_like.api.app import create_app

        base = f"http://{settings.api.host}:{settings.api.port}"
        print(f"serving the portal on {base}/portal/report and the API on {base}/docs (Ctrl-C to stop)")
        uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port)
    return 0 if result.totals.reconciles() else 1


def _stop_kept_broker(settings) -> None:
    """A broker kept by the previous run (``--keep-kafka``) goes when a new run starts."""
    from fink_like.jobs.runs import follow_run_broker
    from fink_like.kafka.embedded import EmbeddedKafka

    previous, run_dir = follow_run_broker(settings, None)
    if run_dir is not None:
        EmbeddedKafka(previous.kafka.embedded_dir).stop()


def next_commands(settings, run_dir: str, kept_kafka: bool, published: dict | None = None) -> str:
    """What to type next to read this run's data (they follow ``var/runs/latest``).

    ``published`` (topic -> alerts) picks the busiest topic for the ``consume`` example.
    """
    topics = [f.topic for f in settings.distribution.filters if f.enabled]
    topic = max(topics, key=lambda t: (published or {}).get(t, 0), default=None)
    where = f" (the run's data is in {run_dir}; --run picks an older run)" if run_dir else ""
    lines = [f"next{where}:",
             "  fink-like query latest --limit 10         # the archive, from the command line",
             "  fink-like serve                           # the REST API, docs at /docs"]
    if topic and (kept_kafka or not settings.kafka.embedded):
        lines.append(f"  fink-like consume --topic {topic} --from-beginning --max 10 --idle-timeout 10")
        if kept_kafka and settings.kafka.embedded:
            lines.append("  fink-like kafka stop                      # stops the run's Kafka when done")
    elif topic:
        lines.append("  (the run's Kafka stopped with it: `fink-like run --keep-kafka`, as `make run` "
                     "does, keeps its topics readable by `fink-like consume`)")
    return "\n".join(lines)
