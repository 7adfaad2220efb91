"""``fink-like simulate``: replay real alert files into the survey topics at a chosen rate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fink_like.cli.args import non_negative_int, positive_float, positive_int
from fink_like.errors import UsageError


def register(sub) -> None:
    text = "replay real ZTF/Rubin alert files into Kafka"
    p = sub.add_parser("simulate", help=text,
                       description=f"{text[0].upper()}{text[1:]} at a chosen rate (or a synthetic "
                                   "night from the light-curve simulator). A file that cannot be "
                                   "read is skipped and reported; --strict stops at the first one.")
    p.add_argument("--data", metavar="DIR", action="append",
                   help="alert folder or file, repeatable (default: simulator.data_dir)")
    p.add_argument("--survey", choices=["ztf", "lsst", "auto"], default="auto",
                   help="replay only one survey's alerts (default: auto, both, detected per file)")
    p.add_argument("--topic", metavar="TOPIC",
                   help="topic for every message (default: simulator.ztf_topic / lsst_topic)")
    p.add_argument("--rate", type=positive_float, metavar="RATE", help="alerts/s (default: simulator.rate)")
    p.add_argument("--count", type=positive_int, metavar="N", help="send only the first N messages")
    p.add_argument("--clone-factor", type=positive_int, default=1, metavar="K",
                   help="send every alert K times: the original and K-1 clones with new ids")
    p.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                   help="seed of the clones' ids and shifts (and of --synthetic)")
    p.add_argument("--synthetic", type=positive_int, metavar="N",
                   help="replay N alerts of a synthetic night from the light-curve simulator instead of files")
    p.add_argument("--strict", action="store_true",
                   help="stop at the first file that cannot be read (default: skip it, report it, send the rest)")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.kafka.conf import client_conf
    from fink_like.kafka.embedded import ensure_embedded
    from fink_like.simulator import load_alerts, replay_many

    sim = settings.simulator
    paths = args.data or [sim.data_dir]
    skipped: list[tuple[str, str]] | None = None if args.strict else []
    if args.synthetic:
        alerts = _synthetic(args)
    elif missing := [p for p in paths if not Path(p).exists()]:
        raise UsageError(f"alert path not found: {', '.join(missing)}")
    else:
        alerts = load_alerts(paths, args.survey, args.clone_factor, args.seed, skipped)
    if not alerts:
        raise UsageError(f"no {'' if args.survey == 'auto' else args.survey + ' '}alert files under "
                         f"{', '.join(paths)}")
    if args.count is not None:
        if args.count > len(alerts):
            raise UsageError(f"--count {args.count} exceeds the {len(alerts)} alerts available; "
                             "raise --clone-factor to make more")
        alerts = alerts[: args.count]
    topics = {"ztf": sim.ztf_topic, "lsst": sim.lsst_topic}
    batches: dict[str, list] = {}
    for alert in alerts:
        batches.setdefault(args.topic or topics[alert.survey], []).append((alert.key, alert.value))
    conf = client_conf(settings.kafka, ensure_embedded(settings))
    # With kafka.roll_messages, streams go to topic segments that the jobs delete once read.
    roll = settings.kafka.roll_messages if not args.topic else 0
    report = replay_many(list(batches.items()), conf, rate=args.rate or sim.rate, roll=roll)
    for path, reason in skipped or ():
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(json.dumps({**report.as_dict(), "skipped_files": [p for p, _r in skipped or ()]}))
    # Like `al label --skip-invalid`: what could be sent was sent, the status still says "not all".
    return 0 if report.failed == 0 and not skipped else 1


def _synthetic(args) -> list:
    from fink_like.simulator import synthetic_night

    if args.data or args.clone_factor != 1:
        raise UsageError("--synthetic makes its own alerts: drop --data and --clone-factor")
    surveys = ("ztf", "lsst") if args.survey == "auto" else (args.survey,)
    return synthetic_night(args.synthetic, seed=args.seed, surveys=surveys)
