"""``fink-like kafka start|stop|status``: the embedded broker (tansu) on loopback."""

from __future__ import annotations

import json

from fink_like.jobs.runs import add_run_flag


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "kafka", help="start, stop or inspect the embedded Kafka broker",
        description="Manage the embedded tansu broker that kafka.embedded=true uses. "
                    "Its pid, port and log live in kafka.embedded_dir.",
    )
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--state-dir", metavar="DIR",
                        help="folder of the pid/port/log files (default: kafka.embedded_dir)")
    parser.add_argument("--json", action="store_true", help="print status as JSON")
    add_run_flag(parser)
    parser.set_defaults(handler=handle)


def handle(args, settings) -> int:
    from fink_like.kafka.embedded import EmbeddedKafka

    if not settings.kafka.embedded and args.action != "status":
        print(f"kafka.embedded is false: this broker is managed elsewhere "
              f"({settings.kafka.bootstrap_servers})")
        return 1
    if not settings.kafka.embedded:
        return _external_status(settings)
    if not args.state_dir and (args.action != "start" or args.run):
        from fink_like.jobs.runs import follow_run_broker  # status and stop: the latest run's broker

        settings, _run_dir = follow_run_broker(settings, args.run)
    broker = EmbeddedKafka(args.state_dir or settings.kafka.embedded_dir)
    if args.action == "start":
        bootstrap = broker.start()
        info = broker.status() or {}
        print(f"kafka running at {bootstrap} (pid {info.get('pid')}, log {broker.log_file})")
        return 0
    if args.action == "stop":
        if broker.status() is None:
            print(f"kafka is not running (state dir {broker.state_dir})")
            return 0
        broker.stop()
        print("kafka stopped")
        return 0
    info = broker.status()
    if args.json:
        print(json.dumps({"running": info is not None, "state_dir": str(broker.state_dir), **(info or {})}))
    elif info is None:
        print(f"kafka is not running (state dir {broker.state_dir})")
    else:
        state = "healthy" if info["healthy"] else "NOT answering"
        print(f"kafka running at {info['bootstrap']} (pid {info['pid']}), {state}; log {info['log']}")
    return 0 if info and info["healthy"] else 1


def _external_status(settings) -> int:
    from fink_like.errors import KafkaError
    from fink_like.kafka.conf import client_conf
    from fink_like.kafka.errors import check_connection

    try:
        meta = check_connection(client_conf(settings.kafka))
    except KafkaError as exc:
        print(str(exc))
        return 1
    print(f"kafka reachable at {settings.kafka.bootstrap_servers} ({len(meta.brokers)} brokers)")
    return 0
