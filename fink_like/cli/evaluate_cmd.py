"""``fink-like modules evaluate NAME --labels DIR``: a module's probability on labelled real objects.

Examples
--------
``fink-like modules evaluate snia --labels ../shared/data/labelled --ages 10,20,40,all
--json var/eval/snia.json --plots var/eval``
"""

from __future__ import annotations

import json
from pathlib import Path

from fink_like.errors import UsageError


def register(actions) -> None:
    ev = actions.add_parser("evaluate", help="AUC, purity, completeness, ECE per age on labelled real objects")
    ev.add_argument("reference", metavar="NAME", help="entry-point name or package.module:Class")
    ev.add_argument("--labels", required=True, metavar="DIR",
                    help="folder in the labelled format (objects.csv + lightcurves.parquet)")
    ev.add_argument("--positive", action="append", metavar="CLASS",
                    help="positive class (prefix; repeatable); default: the module's declared one")
    ev.add_argument("--ages", default="10,20,40,all", metavar="LIST",
                    help="days after the first detection, or all (default 10,20,40,all)")
    ev.add_argument("--history-days", type=float, metavar="DAYS",
                    help="keep only this many days of history per alert (ZTF packets: 30); default all")
    ev.add_argument("--split", choices=("train", "val", "test"),
                    help="evaluate only this part of the standard split by object (fink_like.science.training); "
                         "test = the held-out objects the shipped models never saw")
    ev.add_argument("--purity", type=float, metavar="TARGET",
                    help="also report, per age, the lowest threshold reaching this purity (use with --split val)")
    ev.add_argument("--json", metavar="OUT", help="write the metrics as JSON")
    ev.add_argument("--plots", metavar="DIR", help="write <name>-reliability.png and <name>-roc.png here")
    ev.add_argument("--params", metavar="JSON", help="module parameters as JSON, or @FILE")
    ev.set_defaults(handler=run_evaluate)


def run_evaluate(args, settings) -> int:
    from fink_like.cli.modules_cmd import params_for
    from fink_like.science import evaluate as ev
    from fink_like.science.labelled import LabelledDataError, build_alerts, parse_ages, read_labelled
    from fink_like.science.registry import load_module

    try:
        ages = parse_ages(args.ages)
    except LabelledDataError as exc:
        raise UsageError(f"--ages: {exc}") from exc
    module = load_module(args.reference, params_for(args.reference, args.params, settings))
    scorer = ev.module_scorer(module)
    positive = args.positive or list(type(module).positive)
    if not positive:
        raise UsageError(f"module {module.name!r} declares no positive class: pass --positive CLASS")
    lset = read_labelled(args.labels)
    if args.split:
        from fink_like.science.training import split_objects, subset

        split = split_objects(lset.objects)
        lset = subset(lset, split.index[split == args.split])
    alerts = build_alerts(lset, ages, args.history_days)
    if args.purity is not None and not 0.0 < args.purity <= 1.0:
        raise UsageError(f"--purity must be in (0, 1], got {args.purity}")
    result = ev.evaluate(scorer, alerts, positive, type(module).thresholds or (0.5,), args.purity)
    print(f"{module.name} {module.version} on {args.labels}: positive {positive}, "
          f"{result['scores']['object_id'].nunique()} objects")
    print(ev.format_table(result))
    for age, m in result["ages"].items():
        if "threshold_for_purity" in m:
            print(f"age {age}: purity >= {args.purity:g} from threshold {m['threshold_for_purity']['threshold']:.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(ev.to_json(result) | {"module": module.name,
                                   "version": module.version, "model_hash": module.model_hash,
                                   "labels": str(args.labels), "ages_requested": args.ages}, indent=2) + "\n")
    if args.plots:
        for path in ev.plot(result, args.plots, module.name):
            print(f"wrote {path}")
    return 0
