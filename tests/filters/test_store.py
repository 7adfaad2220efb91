"""The filter store and the submission checks, on both archive backends (embedded, hbase double)."""

import pytest

from fink_like.errors import ConfigError, PluginError
from fink_like.filters.service import submit
from fink_like.filters.store import FilterStore, user_filter
from fink_like.jobs import lake

GOOD_PLUGIN = '''
import pyarrow.compute as pc
from fink_like.filters.base import AlertFilter


class Bright(AlertFilter):
    name = "bright"
    required_columns = ("mag",)

    def mask(self, table):
        return pc.less(table["mag"], 18.0)
'''


@pytest.fixture
def store(archive_settings):
    s = FilterStore.open(archive_settings)
    yield s
    s.close()


def spec(name="sn", **kw):
    return user_filter({"name": name, "topic": f"t.{name}", "owner": "ana", "expression": "ndethist >= 2", **kw})


def test_versions_and_history(store):
    first = store.add(spec())
    assert (first.spec.version, first.revision, first.action) == (1, 1, "add")
    with pytest.raises(ConfigError, match="a filter named 'sn' exists already \\(version 1, owner ana\\)"):
        store.add(spec(expression="ndethist >= 3"))
    with pytest.raises(ConfigError, match="definition is unchanged"):
        store.add(spec(description="same filter"), replace=True)
    second = store.add(spec(expression="ndethist >= 3"), replace=True)
    assert (second.spec.version, second.revision, second.action) == (2, 2, "update")
    off = store.set_enabled("sn", False, by="bob", reason="too many")
    assert (off.spec.version, off.revision, off.spec.enabled) == (2, 3, False)
    store.add(spec("other"))
    assert [f.name for f in store.active()] == ["other"]
    store.set_enabled("sn", True)
    assert [(f.name, f.version) for f in store.active()] == [("other", 1), ("sn", 2)]
    assert [(r.revision, r.action, r.spec.version) for r in store.history("sn")] == [
        (1, "add", 1), (2, "update", 2), (3, "disable", 2), (4, "enable", 2)]
    assert store.history("sn")[2].reason == "too many" and store.history("sn")[2].by == "bob"
    assert store.get("sn").expression == "ndethist >= 3"
    with pytest.raises(ConfigError, match="no filter named 'nope' \\(known: other, sn\\)"):
        store.get("nope")
    with pytest.raises(ConfigError, match="no filter named 'nope' to replace"):
        store.add(spec("nope"), replace=True)


@pytest.mark.parametrize("data, fragment", [
    ({"name": "bad name"}, "filter name 'bad name'"),
    ({"name": "x", "expression": None}, "exactly one of"),
    ({"name": "x", "plugin": "p"}, "exactly one of"),
    ({"name": "x", "topic": " "}, "topic is empty"),
    ({"name": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
])
def test_bad_fields(data, fragment):
    base = {"topic": "t", "owner": "o", "expression": "ndethist > 1"}
    with pytest.raises(ConfigError) as info:
        user_filter({**base, **data})
    assert fragment in str(info.value)


@pytest.fixture
def lake_settings(archive_settings, shared_data, tmp_path):
    """The archive settings with a science lake holding real alerts (the speed sample)."""
    from fink_like.surveys.files import read_alert_files

    data = archive_settings.model_dump()
    data["lake"]["root"] = str(tmp_path / "lake")
    data["notifications"] = {"channels": {"ops": {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}}}
    settings = type(archive_settings).model_validate(data)
    alerts = read_alert_files(sorted((shared_data / "ztf" / "alerts-4.02").glob("*.avro"))[:200])
    lake.write_partitioned(alerts, settings.lake_path("science"), "part-sample.parquet")
    return settings


def plugin_file(tmp_path, text, name="plug.py"):
    (tmp_path / name).write_text(text)
    return {"plugin_file": name, "expression": None}


@pytest.mark.parametrize("change, error, fragment", [
    ({"expression": "ndethist >= 2 and (mag < "}, ConfigError, "position 25"),
    ({"expression": "ndethist >= 2 and magg < 18"}, ConfigError, "did you mean mag"),
    ({"expression": "nope = 1"}, ConfigError, "unknown column 'nope'"),
    ({"expression": None, "plugin": "not_installed"}, ConfigError, "unknown filter plugin 'not_installed'"),
    ("import", PluginError, "cannot be imported: ModuleNotFoundError: No module named 'not_a_module'"),
    ("syntax", PluginError, "cannot be imported: SyntaxError"),
    ("contract", PluginError, "mask must be `def mask(self, table)`"),
    ("two", PluginError, "define exactly one AlertFilter subclass (found Bright, Dim)"),
    ("columns", ConfigError, "needs column(s) score"),
    ("raises", PluginError, "failed on 200 sample alerts: ZeroDivisionError"),
    ({"notify": ["ops", "pager"]}, ConfigError, "unknown notification channel(s) pager (notifications.channels: ops)"),
    ({"watchlist": {"moc": "8/"}, "expression": None}, ConfigError, "MOC is empty"),
    ({"watchlist": {"moc": "31/1"}, "expression": None}, ConfigError, "order 31 is outside"),
    ({"name": "dup"}, ConfigError, "a filter named 'dup' exists already"),
])
def test_nothing_stored_when_a_check_fails(lake_settings, tmp_path, change, error, fragment):
    plugins = {
        "import": GOOD_PLUGIN + "\nimport not_a_module\n",
        "syntax": GOOD_PLUGIN + "\ndef broken(:\n",
        "contract": GOOD_PLUGIN.replace("def mask(self, table)", "def mask(self, batch, extra)"),
        "two": GOOD_PLUGIN + GOOD_PLUGIN.replace("class Bright", "class Dim").replace('"bright"', '"dim"'),
        "columns": GOOD_PLUGIN.replace('("mag",)', '("mag", "score")'),
        "raises": GOOD_PLUGIN.replace('return pc.less(table["mag"], 18.0)', "return 1 / 0"),
    }
    data = {"name": "f1", "topic": "t.f1", "owner": "ana", "expression": "ndethist >= 2"}
    data.update(plugin_file(tmp_path, plugins[change]) if isinstance(change, str) else change)
    with FilterStore.open(lake_settings) as store:
        submit(lake_settings, {**data, "name": "dup", "expression": "ndethist >= 1", "plugin_file": None,
                               "plugin": None, "watchlist": None, "notify": []}, store=store)
        before = {name: len(store.history(name)) for name in store.heads()}
        with pytest.raises(error) as info:
            submit(lake_settings, data, base_dir=tmp_path, store=store)
        assert fragment in str(info.value)
        assert {name: len(store.history(name)) for name in store.heads()} == before  # nothing half-applied


def test_plugin_file_and_speed_check(lake_settings, tmp_path):
    from fink_like.surveys.files import read_alert_files

    data = {"name": "bright", "topic": "t.bright", "owner": "ana", **plugin_file(tmp_path, GOOD_PLUGIN)}
    rev, report = submit(lake_settings, data, base_dir=tmp_path)
    sample = lake.read_lake(lake_settings.lake_path("science"))
    assert (report.sample_size, report.selected) == (200, sum(m < 18.0 for m in sample["mag"].to_pylist()))
    assert report.columns == ("mag",) and report.ms_per_alert > 0
    assert rev.spec.plugin_source == GOOD_PLUGIN and rev.spec.plugin_file == "plug.py"
    del read_alert_files
    slow = lake_settings.model_copy(update={"distribution": lake_settings.distribution.model_copy(
        update={"check_max_ms_per_alert": 1e-9})})
    with pytest.raises(ConfigError, match="is too slow: .* ms per alert on 200 sample alerts"):
        submit(slow, {**data, "name": "bright2"}, base_dir=tmp_path)
