"""``fink-like al candidates | label | retrain``: active learning for a science module.

Examples
--------
``fink-like al candidates --module snia --input var/lake/science --n 20 --output todo.csv``
``fink-like al label labels.csv`` (CSV ``object_id,label``, e.g. ``ZTF21abcdefg,SN Ia``)
``fink-like al label --from-archive`` (the portal's annotations as the labelling oracle)
``fink-like al retrain``
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from fink_like.cli.args import input_path, output_file, positive_int
from fink_like.errors import UsageError

_CSV_COLUMNS = ("object_id", "alert_id", "survey", "mjd", "band", "mag", "ndethist")


def register(sub) -> None:
    p = sub.add_parser("al", help="active learning: propose alerts to label, ingest labels, retrain")
    actions = p.add_subparsers(dest="al_action", metavar="ACTION")
    cand = actions.add_parser("candidates", help="the most uncertain recent alerts (P closest to 0.5)")
    _module_flag(cand)
    cand.add_argument("--input", type=input_path, metavar="PATH",
                      help="science lake folder or Parquet file, or alert files/folders "
                           "(default: the science lake of the settings)")
    cand.add_argument("--n", type=positive_int, default=20, metavar="N", help="how many candidates (default 20)")
    cand.add_argument("--output", type=output_file, metavar="FILE", help="write the candidates to this CSV file")
    cand.set_defaults(handler=run_candidates)
    lab = actions.add_parser("label", help="ingest labels: a CSV object_id,label, the archive's annotations, "
                                           "or label tables as the oracle")
    lab.add_argument("file", type=input_path, metavar="FILE", nargs="?", help="CSV with header object_id,label")
    lab.add_argument("--from-archive", action="store_true",
                     help="use each object's current annotation in the archive (portal labels) instead")
    lab.add_argument("--oracle", type=input_path, action="append", metavar="TABLE",
                     help="label the stored candidates from this label table (ZTF object id or TNS name; "
                          "repeatable, the first wins; formats in fink_like.science.label_tables)")
    _module_flag(lab)
    lab.add_argument("--skip-invalid", action="store_true",
                     help="store the valid labels even if some are rejected (exit status stays 1)")
    lab.set_defaults(handler=run_label)
    ret = actions.add_parser("retrain", help="train a new model version on simulated + labelled alerts")
    _module_flag(ret)
    ret.set_defaults(handler=run_retrain)
    p.set_defaults(help_parser=p)  # no action: main() prints this help, exit 2


def _module_flag(parser) -> None:
    parser.add_argument("--module", default="snia", metavar="NAME",
                        help="science module implementing active learning (default snia)")


def learner_for(name: str, settings):
    """A freshly loaded module (not the per-process cache) that implements ActiveLearner."""
    from fink_like.science.active_learning import ActiveLearner
    from fink_like.science.registry import resolve

    cls = resolve(name)
    if not issubclass(cls, ActiveLearner):
        raise UsageError(f"science module {name!r} does not support active learning")
    params = next((dict(s.params) for s in settings.science.modules if s.name == name), {})
    learner = cls()
    learner.params = params
    learner.load(params)
    return learner


def read_alerts(path: str | Path):
    """Canonical alerts from a Parquet lake folder, a Parquet file, or Avro alert files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise UsageError(f"--input {path} does not exist")
    parquet = sorted(path.rglob("*.parquet")) if path.is_dir() else ([path] if path.suffix == ".parquet" else [])
    if parquet:
        tables = [pq.read_table(f) for f in parquet]
        table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    else:
        from fink_like.surveys import read_alert_files

        table = read_alert_files(path)
    if table.num_rows == 0:
        raise UsageError(f"no alerts found in {path}")
    return table


def run_candidates(args, settings) -> int:
    learner = learner_for(args.module, settings)
    source = args.input or settings.lake_path("science")
    chosen = learner.candidates(read_alerts(source), args.n)
    rows = chosen.select([*_CSV_COLUMNS, "al_score", "al_uncertainty"]).to_pylist()
    header = [*_CSV_COLUMNS, f"{args.module}_prob", "al_uncertainty"]
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows([list(r.values()) for r in rows])
    finally:
        if args.output:
            out.close()
    print(f"{len(rows)} candidate(s) from {source}; their light curves are kept in "
          f"{learner.workspace.candidates_path}", file=sys.stderr)
    return 0


def archive_labels(settings) -> list[tuple[str, str]]:
    """(object_id, label) of every annotated object: its newest annotation (the oracle)."""
    from fink_like.archive.labels import Labels

    labels = Labels(settings)
    try:
        return [(oid, entry["label"]) for oid, entry in labels.current().items()]
    finally:
        labels.close()


def run_label(args, settings) -> int:
    from fink_like.science.active_learning import read_label_file

    if sum((bool(args.file), bool(args.from_archive), bool(args.oracle))) != 1:
        raise UsageError("give either a label FILE, --from-archive or --oracle TABLE")
    learner = learner_for(args.module, settings)
    if args.oracle:
        pairs = oracle_labels(learner, args.oracle)
        print(f"the oracle knows {len(pairs)} of the stored candidates")
        report = learner.add_labels(pairs, strict=False)
        print(report.describe(learner.known_labels))
        print(f"labels stored in {learner.workspace.labels_path}")
        return 0
    pairs = archive_labels(settings) if args.from_archive else read_label_file(args.file)
    report = learner.add_labels(pairs, strict=not args.skip_invalid)
    print(report.describe(learner.known_labels))
    print(f"labels stored in {learner.workspace.labels_path}")
    return 0 if report.ok else 1


def oracle_labels(learner, tables) -> list[tuple[str, str]]:
    """Labels of the stored, not yet labelled candidates, from label tables, in the learner's vocabulary."""
    from fink_like.science.label_tables import LabelOracle

    oracle = LabelOracle.from_paths(tables)
    done = learner.workspace.labels()
    ids = [o for o in dict.fromkeys(learner.workspace.candidates()["object_id"].to_pylist()) if o not in done]
    pairs = []
    for obj, label in oracle.lookup(ids).items():
        label = learner.canonical_label(label)
        if label is not None:
            pairs.append((obj, label))
    return pairs


def _metric_lines(before: dict, after: dict) -> list[str]:
    lines = [f"{'set':<20}{'n':>6}{'acc before':>12}{'acc after':>11}{'AUC before':>12}{'AUC after':>11}"]
    sets = [(f"held-out {s}", before["held_out"][s], after["held_out"][s]) for s in after["held_out"]]
    sets.append(("labelled real", before["labelled"], after["labelled"]))
    for name, b, a in sets:
        lines.append(f"{name:<20}{a['n']:>6}{b['accuracy']:>12.3f}{a['accuracy']:>11.3f}"
                     f"{b['roc_auc']:>12.3f}{a['roc_auc']:>11.3f}")
    return lines


def run_retrain(args, settings) -> int:
    learner = learner_for(args.module, settings)
    result = learner.retrain()
    print(f"retrained {args.module}: {result.version} (from {result.previous}) "
          f"with {result.n_labelled} labelled real alert(s)")
    print("\n".join(_metric_lines(result.metrics_before, result.metrics_after)))
    print(f"written to {result.artifact}")
    print("enable it in the settings (it is not used until you do):\n"
          f"  science:\n    modules:\n      - name: {args.module}\n        params:\n"
          f"          model_version: {result.version}   # or \"latest\"")
    return 0
