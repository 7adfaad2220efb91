"""The engine: validation at load, one pass, plugins from a registry."""

import threading

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fink_like.config import FilterSpec, load_settings
from fink_like.errors import ConfigError, PluginError
from fink_like.filters.base import AlertFilter, load_plugin
from fink_like.filters.engine import FilterEngine


@pytest.fixture
def table():
    return pa.table({
        "alert_id": pa.array([1, 2, 3, 4], pa.int64()),
        "object_id": ["a", "b", "c", "d"],
        "ra": [10.0, 20.0, 30.0, 40.0],
        "dec": [0.0, 1.0, 2.0, 3.0],
        "snia_prob": [0.9, 0.2, None, 0.7],
        "ndethist": pa.array([1, 5, 2, 30], pa.int32()),
    })


class Bright(AlertFilter):
    """Test plugin (registered through the ``plugins`` mapping, standing in for an entry point)."""

    name = "bright"
    required_columns = ("ndethist",)

    def mask(self, table):
        return pc.greater(table["ndethist"], 4)


def test_one_mask_per_enabled_filter(table):
    specs = [
        FilterSpec(name="sn", topic="t.sn", expression="snia_prob > 0.5 and ndethist < 20"),
        FilterSpec(name="off", topic="t.off", expression="snia_prob > 0", enabled=False),
        FilterSpec(name="watch", topic="t.w", watchlist={"objects": ["c"], "cones": [[40.0, 3.0, 1.0]]}),
        FilterSpec(name="plug", topic="t.p", plugin="bright"),
    ]
    engine = FilterEngine(specs, table.schema, plugins={"bright": Bright})
    masks = engine.evaluate(table)
    assert {k: v.to_pylist() for k, v in masks.items()} == {
        "sn": [True, False, False, False],
        "watch": [False, False, True, True],
        "plug": [False, True, False, True],
    }
    assert engine.topics == {"sn": "t.sn", "watch": "t.w", "plug": "t.p"}
    assert engine.required_columns == {"snia_prob", "ndethist", "object_id", "ra", "dec"}


@pytest.mark.parametrize("spec, fragments", [
    (dict(expression="snia_prb > 0.5"), ["distribution.filters[f]", "unknown column 'snia_prb'", "snia_prob"]),
    (dict(expression="snia_prob >> 0.5"), ["distribution.filters[f]", "position 11"]),
    (dict(plugin="nope"), ["unknown filter plugin 'nope'", "bright"]),
    (dict(watchlist={"cones": [[1, 100, 3]]}), ["distribution.filters[f]", "-90 <= dec"]),
])
def test_rejected_at_load(table, spec, fragments):
    with pytest.raises(ConfigError) as info:
        FilterEngine([FilterSpec(name="f", topic="t", **spec)], table.schema, plugins={"bright": Bright})
    for fragment in fragments:
        assert fragment in str(info.value)


def test_from_settings_file(table, tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("distribution:\n  filters:\n    - {name: x, topic: t, expression: 'ndethist >= 2 and nope = 1'}\n")
    settings = load_settings(conf, env={})
    with pytest.raises(ConfigError, match=r"distribution.filters\[x\]: .*unknown column 'nope' at position 18"):
        FilterEngine.from_settings(settings, table.schema)


def test_builtin_topics_validate_against_the_enriched_schema():
    """conf/local.yaml's filters compile on canonical columns + the modules' declared outputs."""
    from pathlib import Path

    from fink_like.science.runner import science_output_schema
    from fink_like.surveys.canonical import CANONICAL_SCHEMA

    from fink_like.config import ModuleSpec
    from fink_like.science.registry import available

    settings = load_settings(Path(__file__).parents[2] / "conf" / "local.yaml", env={})
    configured = {m.name for m in settings.science.modules}
    extra = [ModuleSpec(name=n) for n in ("microlensing", "bnn") if n in available() and n not in configured]
    schema = science_output_schema(CANONICAL_SCHEMA, [*settings.science.modules, *extra])
    for name in ("snia_prob", "mulens_prob"):  # modules not installed in this build: their declared type
        if name not in schema.names:
            schema = schema.append(pa.field(name, pa.float64()))
    engine = FilterEngine.from_settings(settings, schema)
    assert set(engine.topics) == {"sn_candidates", "early_sn_ia", "microlensing", "variable_stars", "sso_candidates",
                                  "mm", "new_unknown"}


def test_plugin_contract_checked_at_class_creation():
    with pytest.raises(PluginError, match="non-empty class attribute `name`"):
        class NoName(AlertFilter):
            def mask(self, table):
                return table

    with pytest.raises(PluginError, match="mask must be"):
        class BadSignature(AlertFilter):
            name = "bad"

            def mask(self, table, extra):
                return table


def test_plugin_missing_column_and_wrong_class(table):
    class NeedsScore(Bright):
        name = "needs"
        required_columns = ("score",)

    with pytest.raises(ConfigError, match="needs column"):
        load_plugin("needs", table.schema, {"needs": NeedsScore})
    with pytest.raises(PluginError, match="not a subclass of AlertFilter"):
        load_plugin("x", table.schema, {"x": dict})


RELEASE = threading.Event()  # lets the hanging plugin's abandoned thread end with the test


class Broken(Bright):
    name = "broken"

    def mask(self, table):
        raise RuntimeError("boom")


class Hangs(Bright):
    name = "hangs"

    def mask(self, table):
        RELEASE.wait(60)
        return super().mask(table)


class TooShort(Bright):
    name = "short"

    def mask(self, table):
        return pa.array([True])


@pytest.mark.parametrize("plugin, reason", [
    ("broken", "RuntimeError: boom"),
    ("hangs", "ran past its budget of 0.3 s"),
    ("short", "gave 1 booleans for"),
])
def test_failing_plugin_is_isolated(table, plugin, reason):
    specs = [FilterSpec(name="ok_before", topic="t1", expression="ndethist >= 2"),
             FilterSpec(name="bad", topic="t2", plugin=plugin),
             FilterSpec(name="ok_after", topic="t3", plugin="bright")]
    engine = FilterEngine(specs, table.schema, plugins={"broken": Broken, "hangs": Hangs, "short": TooShort,
                                                        "bright": Bright}, plugin_budget=0.3)
    RELEASE.clear()
    try:
        masks = engine.evaluate(table)
    finally:
        RELEASE.set()
    assert set(masks) == {"ok_before", "ok_after"}
    assert masks["ok_after"].to_pylist() == Bright().mask(table).to_pylist()
    assert reason in engine.failures["bad"]
    assert [f.spec.name for f in engine.healthy] == ["ok_before", "ok_after"]
    assert set(engine.evaluate(table)) == {"ok_before", "ok_after"}  # not called again
