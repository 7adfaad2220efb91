"""``fink-like modules list | validate | run``: the installed science modules, checked and applied.

Examples
--------
``fink-like modules list``
``fink-like modules validate my_module`` (or ``my_package.module:MyModule``)
``fink-like modules run xmatch --input ../shared/data/ztf/alerts-4.02 --output out.parquet``
"""

from __future__ import annotations

import json
from pathlib import Path

from fink_like.cli.args import input_path, output_file, positive_int
from fink_like.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("modules", help="list, validate and run science modules")
    actions = p.add_subparsers(dest="modules_action", metavar="ACTION")
    ls = actions.add_parser("list", help="installed modules: name, version, inputs, outputs, package")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(handler=run_list)

    val = actions.add_parser("validate", help="check a module on real alerts (exit 1 on failure)")
    val.add_argument("reference", metavar="NAME_OR_PATH",
                     help="entry-point name or package.module:Class")
    _common(val)
    val.add_argument("--per-folder", type=positive_int, default=40, metavar="N",
                     help="alerts per survey folder of the shared data when no --input (default 40)")
    val.set_defaults(handler=run_validate)

    run = actions.add_parser("run", help="apply modules to alert files or a Parquet file")
    run.add_argument("names", nargs="+", metavar="NAME", help="modules, in order")
    _common(run, input_required=True)
    run.add_argument("--output", type=output_file, metavar="FILE",
                     help="write the enriched alerts to this Parquet file")
    run.set_defaults(handler=run_modules)
    from fink_like.cli import evaluate_cmd

    evaluate_cmd.register(actions)
    p.set_defaults(help_parser=p)  # no action: main() prints this help, exit 2


def _common(parser, input_required: bool = False) -> None:
    parser.add_argument("--input", action="append", type=input_path, required=input_required, metavar="PATH",
                        help="Avro alert files/folders or canonical Parquet files (repeatable)")
    parser.add_argument("--params", metavar="JSON",
                        help="module parameters as JSON, or @FILE (YAML/JSON); default: the "
                             "module's params in science.modules of the configuration")


def run_list(args, settings) -> int:
    from fink_like.science.registry import describe_installed

    infos = describe_installed()
    if args.json:
        print(json.dumps([vars(i) for i in infos], indent=2))
        return 0
    if not infos:
        print("no science modules installed (entry-point group fink_like.science_modules)")
        return 0
    for info in infos:
        outputs = ", ".join(f"{c}:{t}" for c, t in info.outputs.items()) or "(set by params)"
        print(f"{info.name} {info.version}  [{info.package}: {info.target}]")
        print(f"    inputs:  {', '.join(info.inputs) or '-'}")
        print(f"    outputs: {outputs}")
    return 0


def params_for(name: str, raw: str | None, settings) -> dict:
    """Parameters from ``--params`` (JSON text or @file), else from the configuration."""
    if raw is None:
        for spec in settings.science.modules:
            if spec.name == name:
                return dict(spec.params)
        return {}
    import yaml

    try:
        text = Path(raw[1:]).read_text() if raw.startswith("@") else raw
        value = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"--params: cannot read {raw!r}: {exc}") from exc
    if not isinstance(value, dict):
        raise UsageError(f"--params must be a mapping, got {raw!r}")
    return value


def run_validate(args, settings) -> int:
    from fink_like.science.samples import read_input, real_sample
    from fink_like.science.validate import validate_module

    sample = read_input(args.input) if args.input else real_sample(settings.simulator.data_dir,
                                                                     args.per_folder)
    report = validate_module(args.reference, params_for(args.reference, args.params, settings), sample)
    print(report.format())
    return 0 if report.passed else 1


def run_modules(args, settings) -> int:
    from fink_like.config import ModuleSpec
    from fink_like.science.runner import ScienceRunner
    from fink_like.science.samples import non_null_counts, read_input

    if args.params is not None and len(args.names) > 1:
        raise UsageError("--params applies to one module; configure several in science.modules")
    specs = [ModuleSpec(name=n, params=params_for(n, args.params, settings)) for n in args.names]
    runner = ScienceRunner(specs)
    table = read_input(args.input)
    out = runner.process(table)
    added = [f.name for f in runner.output_fields()[:-1]]
    summary = {"alerts": table.num_rows, "modules": runner.stats,
               "non_null": non_null_counts(out, added)}
    if args.output:
        import pyarrow.parquet as pq

        pq.write_table(out, args.output)
        summary["output"] = args.output
    print(json.dumps(summary, indent=2))
    return 1 if any(s["errors"] for s in runner.stats.values()) else 0
