"""``fink-like bench``: full-pipeline throughput, latency, CPU and memory at target rates."""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from fink_like.cli.args import positive_float, positive_int, rates
from fink_like.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the whole pipeline at target rates",
                       description="Replay real alerts (cloned) through the main job at each rate "
                                   "for --duration seconds; with --search, keep raising the rate "
                                   "until it is no longer sustainable.")
    p.add_argument("--rates", type=rates, default=[300.0], metavar="RATE,RATE,...",
                   help="alerts/s to try (default 300)")
    p.add_argument("--duration", type=positive_float, default=60.0, metavar="SECONDS",
                   help="seconds of replay per trial")
    p.add_argument("--p95-target", type=positive_float, default=30.0, metavar="SECONDS",
                   help="sustainable if p95 latency <= this")
    p.add_argument("--search", action="store_true",
                   help="after --rates, multiply the rate by 1.5 until a trial is not sustainable")
    p.add_argument("--max-trials", type=positive_int, default=6, metavar="N")
    p.add_argument("--burst", type=positive_int, default=None, metavar="N",
                   help="instead of rate trials: send N alerts at once (a Rubin visit is ~10,000) into "
                        "the running main job and measure until the last is processed")
    p.add_argument("--burst-target", type=positive_float, default=30.0, metavar="SECONDS",
                   help="a burst meets the target when every alert is processed within this (default 30)")
    p.add_argument("--output", default=None, metavar="FILE",
                   help="JSON results file (default var/bench/pipeline.json, var/bench/burst.json with --burst)")
    p.add_argument("--keep-data", action="store_true",
                   help="keep each trial's alert spool, lake, archive and checkpoints under var/bench/<time>/ "
                        "(by default they are removed after the trial: several GB each)")
    p.add_argument("--settle-memory", action="store_true",
                   help="before each trial, fill the machine's free memory with page cache (a file of that size under "
                        "var/bench/<time>/, deleted after the trial), as on a broker that has been running: "
                        "on a VM that hands free memory back to its host, the first touch of each page is "
                        "several times dearer (docs/benchmarks.md)")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.jobs.bench import ceiling_messages, decode_ceiling, trial_settings
    from fink_like.kafka.embedded import embedded_for_run

    if args.burst and args.search:
        raise UsageError("bench: --burst and --search are separate benchmarks, give one")
    root = Path("var/bench") / time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    ceiling = decode_ceiling(ceiling_messages(settings.simulator.data_dir))
    result = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": f"{platform.node()} {psutil_cpus()} cores",
        "ceiling_fastavro_decode_alerts_per_s_one_core": round(ceiling, 1),
    }
    try:
        with embedded_for_run(trial_settings(settings, root, 0)) as bootstrap:
            if args.burst:
                result.update(_burst(args, settings, root, bootstrap))
            else:
                result.update(_rates(args, settings, root, bootstrap))
    finally:
        if not args.keep_data:
            shutil.rmtree(root, ignore_errors=True)
    out = Path(args.output or ("var/bench/burst.json" if args.burst else "var/bench/pipeline.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


def _rates(args, settings, root, bootstrap: str) -> dict:
    from fink_like.jobs.bench import drop_trial, run_trial, settled_memory, trial_settings

    rates, trials = list(args.rates), []
    while rates and len(trials) < args.max_trials:
        rate = rates.pop(0)
        index = len(trials)
        # Per trial: the files of the one before were deleted, and their memory freed.
        with settled_memory(root, size=_settle_size(args)) as settled:
            trial = run_trial(settings, root, index, rate, args.duration, args.p95_target, args.keep_data)
        trial.settled_memory = settled
        trials.append(trial)
        if not args.keep_data:
            drop_trial(trial_settings(settings, root, index), bootstrap, root / f"trial-{index}")
        print(json.dumps(asdict(trial)), flush=True)
        if args.search and not rates and trial.sustainable:
            rates.append(round(rate * 1.5))
    sustainable = [t.rate for t in trials if t.sustainable]
    return {"duration_s": args.duration, "p95_target_s": args.p95_target,
            "trials": [asdict(t) for t in trials],
            "highest_sustainable_rate": max(sustainable) if sustainable else None}


def _burst(args, settings, root, bootstrap: str) -> dict:
    from fink_like.jobs.bench import drop_trial, settled_memory, trial_settings
    from fink_like.jobs.burst import run_burst

    with settled_memory(root, size=_settle_size(args)) as settled:
        burst = run_burst(settings, root, args.burst, args.burst_target, args.keep_data)
    burst.settled_memory = settled
    if not args.keep_data:
        drop_trial(trial_settings(settings, root, 0), bootstrap, root / "trial-0")
    return {"burst": asdict(burst)}


def _settle_size(args) -> int | None:
    """``settled_memory``'s size: None (the free memory) with --settle-memory, else 0 (nothing)."""
    return None if args.settle_memory else 0


def psutil_cpus() -> int:
    import os

    return os.cpu_count() or 1
