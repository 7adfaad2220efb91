"""``fink-like modules evaluate`` on a toy labelled set whose answers are known exactly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fink_like.cli import main
from fink_like.science.evaluate import ece, evaluate, is_positive, module_scorer
from fink_like.science.labelled import build_alerts, read_labelled

N_PER_CLASS = 100


def toy_folder(path, n=N_PER_CLASS, band="g", drop=None):
    """``n`` objects of class A (flux 1000 nJy) and ``n`` of class B (200 nJy), 6 points each over 25 days."""
    path.mkdir(parents=True, exist_ok=True)
    ids = [f"T_{c}{i}" for c in "AB" for i in range(n)]
    pd.DataFrame({"object_id": ids, "class": ["A"] * n + ["B"] * n, "source": "toy"}).to_csv(
        path / "objects.csv", index=False)
    rows = []
    for k, obj in enumerate(ids):
        flux = 1000.0 if obj.startswith("T_A") else 200.0
        for j, day in enumerate((0, 5, 10, 15, 20, 25)):
            rows.append({"object_id": obj, "mjd": 59000.0 + k + day, "band": band if j % 2 else "r",
                         "mag": 31.4 - 2.5 * np.log10(flux), "magerr": 0.05, "flux_njy": flux,
                         "fluxerr_njy": flux / 20, "kind": "forced"})
    frame = pd.DataFrame(rows, columns=["object_id", "mjd", "band", "mag", "magerr", "flux_njy", "fluxerr_njy", "kind"])
    if drop:
        frame = frame.drop(columns=drop)
    frame.to_parquet(path / "lightcurves.parquet")
    return path


@pytest.fixture()
def config(tmp_path, monkeypatch):
    monkeypatch.delenv("FINK_LIKE_CONFIG", raising=False)
    path = tmp_path / "settings.yaml"
    path.write_text("{}\n")
    return path


def test_toy_set_builds_one_alert_per_object_and_age(tmp_path):
    alerts = build_alerts(read_labelled(toy_folder(tmp_path / "toy")), (0.0, 12.0, "all"))
    assert alerts.table.num_rows == 3 * 2 * N_PER_CLASS
    n_det = dict(zip(alerts.meta["age"].astype(str), alerts.table["ndethist"].to_pylist()))
    assert n_det == {"0.0": 1, "12.0": 3, "all": 6}
    assert set(alerts.table["survey"].to_pylist()) == {"ztf"}


@pytest.mark.parametrize(("scorer", "auc", "purity", "completeness"), [
    ("toy_scorers:Perfect", 1.0, 1.0, 1.0),
    ("toy_scorers:Inverted", 0.0, 0.0, 0.0),
])
def test_exact_scorers_through_the_cli(tmp_path, config, capsys, scorer, auc, purity, completeness):
    folder = toy_folder(tmp_path / "toy")
    out = tmp_path / "eval.json"
    assert main(["--config", str(config), "modules", "evaluate", scorer, "--labels", str(folder),
                 "--ages", "10,all", "--json", str(out), "--plots", str(tmp_path / "plots")]) == 0
    result = json.loads(out.read_text())
    assert set(result["ages"]) == {"10.0", "all"}
    for m in result["ages"].values():
        assert (m["n"], m["n_positive"], m["unscored"]) == (2 * N_PER_CLASS, N_PER_CLASS, 0)
        assert m["auc"] == auc
        t = m["thresholds"][0]
        assert (t["purity"], t["completeness"]) == (purity, completeness)
        assert t["fpr_per_class"] == {"B": {"n": N_PER_CLASS, "fpr": 1.0 - auc}}
        assert m["ece"] == (0.0 if auc == 1.0 else 1.0)
    name = scorer.split(":")[1].lower()
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert pngs == [f"toy_{name}-reliability.png", f"toy_{name}-roc.png"]
    assert all((tmp_path / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_random_scorer_is_near_one_half(tmp_path):
    from toy_scorers import Coin

    module = Coin()
    module.load({})
    alerts = build_alerts(read_labelled(toy_folder(tmp_path / "toy")), ("all",))
    result = evaluate(module_scorer(module), alerts, ["A"])
    assert abs(result["ages"]["all"]["auc"] - 0.5) < 0.1


def test_ece_of_known_bins():
    y = np.array([1, 0, 1, 1])
    p = np.array([0.05, 0.05, 0.95, 0.95])
    # bin 0: mean p 0.05, positive rate 0.5 -> 0.45; bin 9: 0.95 vs 1.0 -> 0.05; weights 1/2 each
    assert ece(y, p) == pytest.approx(0.25)


def test_positive_classes_match_prefixes_without_case_or_dashes():
    assert is_positive(["SN Ia-norm", "SNIa", "SN II", "sn ia"], ["SN Ia"]).tolist() == [1, 1, 0, 1]


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda p: (p / "objects.csv").unlink(), "objects.csv: file not found"),
    (lambda p: toy_folder(p, drop=["fluxerr_njy"]), "missing column(s) ['fluxerr_njy']"),
    (lambda p: toy_folder(p, band="q"), "unknown band(s) ['q'] for kind 'forced'"),
    (lambda p: toy_folder(p, n=0), "empty set"),
])
def test_bad_labelled_folders_are_named(tmp_path, config, capsys, mutate, message):
    folder = toy_folder(tmp_path / "toy")
    mutate(folder)
    assert main(["--config", str(config), "modules", "evaluate", "toy_scorers:Perfect",
                 "--labels", str(folder)]) == 1
    assert message in capsys.readouterr().err


def test_a_module_without_probability_is_refused(tmp_path, config, capsys):
    folder = toy_folder(tmp_path / "toy")
    assert main(["--config", str(config), "modules", "evaluate", "toy_scorers:NoProbability",
                 "--labels", str(folder), "--positive", "A"]) == 1
    assert "declares no probability output" in capsys.readouterr().err


def test_bad_ages_and_missing_positive_class(tmp_path, config, capsys):
    folder = toy_folder(tmp_path / "toy")
    assert main(["--config", str(config), "modules", "evaluate", "toy_scorers:Perfect",
                 "--labels", str(folder), "--ages", "10,soon"]) == 2
    assert "'soon' is neither" in capsys.readouterr().err
    assert main(["--config", str(config), "modules", "evaluate", "toy_scorers:Perfect",
                 "--labels", str(folder), "--positive", "Kilonova"]) == 1
    assert "no positive object" in capsys.readouterr().err
