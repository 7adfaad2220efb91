"""The streaming jobs, one subcommand each: ``ingest``, ``science``, ``distribute``, ``archive``,
and ``pipeline`` (all of them in one query, straight from Kafka).

Each also runs under ``spark-submit bin/<job>.py``. By default a job runs until stopped
(Ctrl-C, or ``--timeout``); ``--available-now`` processes what is there and exits.
"""

from __future__ import annotations

import json

from fink_like.cli.args import positive_float

# job -> (help, source, stages)
JOBS = {
    "ingest": ("consume the survey topics into the raw lake (stream2raw)",
               "kafka", ("raw",)),
    "science": ("enrich the raw lake into the science lake (raw2science)",
                "raw", ("science",)),
    "distribute": ("publish the science lake on filtered topics",
                   "science", ("distribute",)),
    "archive": ("write the science lake into the archive",
                "science", ("archive",)),
    "pipeline": ("the combined job: survey topics -> raw and science lakes -> archive -> topics",
                 "kafka", ("raw", "science", "archive", "distribute")),
}


def register(sub) -> None:
    for name, (text, _source, _stages) in JOBS.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--available-now", action="store_true",
                       help="process what is available now, then stop")
        p.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                       help="stop after this many seconds")
        if name == "science":
            p.add_argument("--from-kafka", action="store_true",
                           help="combined mode: read the survey topics, write raw and science lakes")
        p.set_defaults(handler=run, job=name)


def run(args, settings) -> int:
    from fink_like.jobs.driver import run_job

    _text, source, stages = JOBS[args.job]
    if getattr(args, "from_kafka", False):
        source, stages = "kafka", ("raw", "science")
    totals = run_job(settings, source=source, stages=stages, name=args.job,
                     available_now=args.available_now, timeout=args.timeout)
    print(json.dumps(totals.as_dict(), indent=2))
    return 0 if totals.reconciles() else 1
