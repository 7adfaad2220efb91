"""``fink-like simulate``: replay real alert files into the survey topics at a chosen rate."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fink_like.errors import UsageError


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def register(sub) -> None:
    p = sub.add_parser("simulate", help="replay real ZTF/Rubin alert files into Kafka")
    p.add_argument("--data", metavar="DIR", action="append",
                   help="alert folder or file, repeatable (default: simulator.data_dir)")
    p.add_argument("--survey", choices=["ztf", "lsst", "auto"], default="auto",
                   help="replay only one survey's alerts (default: auto, both, detected per file)")
    p.add_argument("--topic", help="topic for every message (default: simulator.ztf_topic / lsst_topic)")
    p.add_argument("--rate", type=_positive(float), help="alerts/s (default: simulator.rate)")
    p.add_argument("--count", type=_positive(int), help="send only the first N messages")
    p.add_argument("--clone-factor", type=_positive(int), default=1, metavar="K",
                   help="send every alert K times: the original and K-1 clones with new ids")
    p.add_argument("--seed", type=int, default=0, help="seed of the clones' ids and shifts (and of --synthetic)")
    p.add_argument("--synthetic", type=_positive(int), metavar="N",
                   help="replay N alerts of a synthetic night from the light-curve simulator instead of files")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.kafka.conf import client_conf
    from fink_like.kafka.embedded import ensure_embedded
    from fink_like.simulator import load_alerts, replay_many

    sim = settings.simulator
    paths = args.data or [sim.data_dir]
    if args.synthetic:
        alerts = _synthetic(args)
    elif missing := [p for p in paths if not Path(p).exists()]:
        raise UsageError(f"alert path not found: {', '.join(missing)}")
    else:
        alerts = load_alerts(paths, args.survey, args.clone_factor, args.seed)
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
    print(json.dumps(report.as_dict()))
    return 0 if report.failed == 0 else 1


def _synthetic(args) -> list:
    from fink_like.simulator import synthetic_night

    if args.data or args.clone_factor != 1:
        raise UsageError("--synthetic makes its own alerts: drop --data and --clone-factor")
    if args.seed < 0:
        raise UsageError(f"--seed must be non-negative with --synthetic, got {args.seed}")
    surveys = ("ztf", "lsst") if args.survey == "auto" else (args.survey,)
    return synthetic_night(args.synthetic, seed=args.seed, surveys=surveys)
