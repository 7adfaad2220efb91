"""``fink-like consume``: receive alerts of topics, show them, optionally save them.

Credentials come from the configuration (``kafka.*``, or ``FINK_LIKE__KAFKA__*``
variables), never from flags. With ``--save``, offsets are committed only after the
batch's file is in place, so a crash loses nothing (duplicates are possible: dedupe by key).
"""

from __future__ import annotations

import sys
import time

from fink_like.cli.args import non_negative_float, output_folder, positive_int
from fink_like.jobs.runs import add_run_flag


def register(sub) -> None:
    p = sub.add_parser("consume", help="receive alerts from fink-like topics")
    p.add_argument("--topic", "-t", action="append", required=True, metavar="TOPIC",
                   help="topic to read (repeat for several)")
    p.add_argument("--group", "-g", help="consumer group: resume where it stopped (default: a new group)")
    p.add_argument("--max", type=positive_int, metavar="N", help="stop after N alerts")
    p.add_argument("--from-beginning", action="store_true",
                   help="start at the oldest alert when the group has no committed offset")
    p.add_argument("--save", type=output_folder, metavar="DIR",
                   help="save alerts under DIR before committing their offsets")
    p.add_argument("--format", choices=["avro", "parquet"], default="avro", help="file format for --save")
    p.add_argument("--idle-timeout", type=non_negative_float, metavar="SECONDS",
                   help="stop after SECONDS without a new alert (default: wait forever)")
    p.add_argument("--batch", type=positive_int, default=100, metavar="N",
                   help="alerts per poll (and per saved file)")
    p.add_argument("--quiet", "-q", action="store_true", help="do not print one line per alert")
    add_run_flag(p)
    p.set_defaults(handler=run)


def describe(alert) -> str:
    """One line: topic, object, time, band, magnitude and the scores present."""
    d = alert.data
    scores = " ".join(f"{k}={v:.3f}" for k, v in d.items()
                      if isinstance(v, float) and (k.endswith("_prob") or k.startswith("bnn_")))
    mag = f"{d['mag']:.2f}" if d.get("mag") is not None else "-"
    return (f"{alert.topic} {d.get('object_id')} alert={alert.key} mjd={d.get('mjd'):.5f} "
            f"band={d.get('band')} mag={mag} {scores}").rstrip()


def run(args, settings) -> int:
    from fink_like.client.consumer import AlertConsumer
    from fink_like.client.sink import save_alerts
    from fink_like.kafka.conf import client_conf

    from fink_like.jobs.runs import follow_run_broker
    from fink_like.kafka.embedded import running_bootstrap

    settings, _run_dir = follow_run_broker(settings, args.run)
    conf = client_conf(settings.kafka, running_bootstrap(settings))
    total, last, started = 0, time.monotonic(), time.monotonic()
    with AlertConsumer(args.topic, conf, group=args.group, from_beginning=args.from_beginning,
                       schema_dirs=[settings.distribution.schema_dir],
                       schema_topic=settings.distribution.schema_topic) as consumer:
        while args.max is None or total < args.max:
            want = args.batch if args.max is None else min(args.batch, args.max - total)
            alerts = consumer.poll(want, timeout=1.0)
            if not alerts:
                if args.idle_timeout is not None and time.monotonic() - last >= args.idle_timeout:
                    break
                continue
            last = time.monotonic()
            if args.save:
                save_alerts(alerts, args.save, args.format, consumer.registry)
            consumer.commit(alerts)
            total += len(alerts)
            if not args.quiet:
                for alert in alerts:
                    print(describe(alert))
            rate = total / max(time.monotonic() - started, 1e-9)
            of = f"/{args.max}" if args.max else ""
            print(f"[{total}{of} alerts, {rate:.0f}/s, {consumer.skipped} skipped]", file=sys.stderr, flush=True)
    print(f"received {total} alert(s)" + (f", saved under {args.save}" if args.save else ""), file=sys.stderr)
    return 0
