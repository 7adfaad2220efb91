"""Discovery through entry points, resolution, per-process cache, collisions."""

from __future__ import annotations

import pyarrow as pa
import pytest
from toy_modules import Doubler

from fink_like.config import ModuleSpec
from fink_like.errors import PluginError
from fink_like.science import registry


def test_installed_builtin_is_found_by_entry_point():
    assert "xmatch" in registry.available()
    assert registry.resolve("xmatch").__name__ == "XmatchModule"


def test_unknown_name_lists_the_available_modules():
    with pytest.raises(PluginError) as err:
        registry.resolve("no_such_module")
    assert "unknown science module 'no_such_module'" in str(err.value)
    assert "xmatch" in str(err.value)


def test_reference_by_path():
    assert registry.resolve("toy_modules:Doubler") is Doubler


@pytest.mark.parametrize("reference, message", [
    ("no_such_package_zz.module:Thing", "failed to import: ModuleNotFoundError"),
    ("toy_modules:Missing", "toy_modules has no Missing"),
    ("toy_modules:np", "is not a ScienceModule subclass"),
    ("toy_modules:", "must look like package.module:Class"),
])
def test_bad_references(reference, message):
    with pytest.raises(PluginError, match=message):
        registry.resolve(reference)


def test_models_load_once_per_process_per_params():
    Doubler.loads = 0
    first = registry.load_module("toy_modules:Doubler", {"limit": 17})
    again = registry.load_module("toy_modules:Doubler", {"limit": 17})
    other = registry.load_module("toy_modules:Doubler", {"limit": 19})
    assert first is again and first is not other
    assert Doubler.loads == 2
    assert (first.limit, other.limit, first.params) == (17.0, 19.0, Doubler.Params(limit=17))


def test_load_modules_keeps_order_and_skips_disabled():
    specs = [ModuleSpec(name="toy_modules:Raiser"),
             ModuleSpec(name="toy_modules:BadType", enabled=False),
             ModuleSpec(name="toy_modules:Doubler", params={"limit": 15})]
    loaded = registry.load_modules(specs)
    assert [m.name for m in loaded] == ["raiser", "doubler"]
    assert loaded[1].limit == 15.0


def test_output_columns_must_not_collide():
    with pytest.raises(PluginError, match="output column 'mag' collides with a canonical column"):
        registry.check_collisions([("m", {"mag": pa.float64()})])
    with pytest.raises(PluginError, match="'a' and 'b' both write column 'x'"):
        registry.check_collisions([("a", {"x": pa.int8()}), ("b", {"x": pa.int8()})])
    with pytest.raises(PluginError, match="both write column 'twice_mag'"):
        registry.load_modules([ModuleSpec(name="toy_modules:Doubler"), ModuleSpec(name="toy_modules:Doubler")])


def test_load_failure_is_a_plugin_error():
    with pytest.raises(PluginError, match="'toy_modules:NeedsHistory' failed to load: OSError: no disk"):
        registry.load_module("toy_modules:NeedsHistory", {"fail_with": "no disk"})


@pytest.mark.parametrize("params, problem", [
    ({"limt": 17}, "science module 'doubler': unknown parameter 'limt'; known: limit"),
    ({"limit": "bright"}, "science module 'doubler': parameter 'limit': Input should be a valid number"),
])
def test_bad_parameters_fail_when_the_runner_is_built_naming_module_and_key(params, problem):
    from fink_like.science.runner import ScienceRunner

    Doubler.loads = 0
    with pytest.raises(PluginError, match=problem):
        ScienceRunner([ModuleSpec(name="toy_modules:Doubler", params=params)])  # on the driver
    with pytest.raises(PluginError, match=problem):
        registry.load_module("toy_modules:Doubler", params)
    assert Doubler.loads == 0  # refused before any model is loaded


def test_describe_installed_lists_builtin_modules():
    infos = {i.name: i for i in registry.describe_installed()}
    assert infos["xmatch"].package == "fink-like-xmatch"
    assert infos["xmatch"].inputs == ("ra", "dec")


def test_config_check_refuses_a_parameter_typo(tmp_path, capsys):
    from fink_like.cli import main

    config = tmp_path / "conf.yaml"
    config.write_text("science:\n  modules:\n    - name: bnn\n      params: {pases: 8}\n")
    assert main(["--config", str(config), "config", "check"]) == 2
    assert ("configuration error: science.modules: science module 'bnn': unknown parameter 'pases'"
            in capsys.readouterr().err)
    config.write_text("science:\n  modules:\n    - name: bnn\n      params: {passes: 8}\n")
    assert main(["--config", str(config), "config", "check"]) == 0
