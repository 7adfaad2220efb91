"""``fink-like filters``: the lifecycle from the command line (main(argv) called directly)."""

import json

import pytest
import yaml

from fink_like.cli import main


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "conf.yaml"
    path.write_text(yaml.safe_dump({"archive": {"path": str(tmp_path / "a.sqlite")},
                                    "lake": {"root": str(tmp_path / "lake")}}))
    return str(path)


def run(config, *args):
    return main(["--config", config, "filters", *args])


def test_lifecycle(config, tmp_path, capsys):
    assert run(config, "add", "bright", "--topic", "t.bright", "--owner", "ana", "--expression", "mag < 18") == 0
    assert "bright: version 1 stored (add); columns mag; selected 0 of 0 sample alerts (no lake sample)" in \
        capsys.readouterr().out
    assert run(config, "add", "bright", "--topic", "t.bright", "--owner", "ana", "--expression", "mag < 19") == 2
    assert "a filter named 'bright' exists already" in capsys.readouterr().err
    assert run(config, "add", "bright", "--topic", "t.bright", "--owner", "ana", "--expression", "mag < 19",
               "--replace") == 0
    (tmp_path / "wl.yaml").write_text("cones: [{ra: 10, dec: 20, radius_arcsec: 5}]\nmoc: '6/100-103'\n")
    assert run(config, "add", "wl", "--topic", "t.wl", "--owner", "bob", "--watchlist", str(tmp_path / "wl.yaml"),
               "--thin") == 0
    assert run(config, "disable", "bright", "--reason", "noisy") == 0
    capsys.readouterr()
    assert run(config, "list", "--format", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(f["name"], f["version"], f["enabled"], f["kind"]) for f in listed] == [
        ("bright", 2, False, "expression"), ("wl", 1, True, "watchlist")]
    assert run(config, "show", "wl") == 0
    shown = json.loads(capsys.readouterr().out)
    # stored inline, the MOC normalised by mocpy (cells 6/100-103 are the one cell 5/25)
    assert shown["spec"]["watchlist"] == {"cones": [{"ra": 10.0, "dec": 20.0, "radius_arcsec": 5.0}],
                                          "moc": "5/25 29/"}
    assert shown["spec"]["cutouts"] is False
    assert run(config, "history", "bright", "--format", "json") == 0
    assert [(h["action"], h["reason"]) for h in json.loads(capsys.readouterr().out)] == [
        ("add", ""), ("update", ""), ("disable", "noisy")]
    assert run(config, "show", "nope") == 2
    assert "no filter named 'nope' (known: bright, wl)" in capsys.readouterr().err
    assert run(config, "deliveries") == 0


@pytest.mark.parametrize("args, fragment", [
    (["test", "bright", "--since", "2024-13", "--until", "20240102"], "write YYYYMMDD or YYYY-MM-DD"),
    (["test", "bright", "--since", "20240105", "--until", "20240102"], "is after --until"),
    (["add", "x", "--topic", "t", "--owner", "o"], "one of the arguments"),
    (["add", "x", "--topic", "t", "--owner", "o", "--expression", "mag <"], "position"),
    (["add", "x", "--topic", "t", "--owner", "o", "--plugin-file", "missing.py"], "cannot be read"),
])
def test_usage_and_config_errors_exit_2(config, capsys, args, fragment):
    assert run(config, *args) == 2
    assert fragment in capsys.readouterr().err
