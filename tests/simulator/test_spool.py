"""The spool holds exactly load_alerts' clones, in the benchmark's order, and cleans up."""

from __future__ import annotations

import zlib

import pytest

from fink_like.errors import UsageError
from fink_like.simulator import load_alerts
from fink_like.simulator.spool import build_spool, check_disk

FOLDERS = ("ztf/alerts-3.3", "lsst/alerts-7.4")   # 164 + 100 alerts


@pytest.fixture(scope="module")
def paths(shared_data):
    return [shared_data / f for f in FOLDERS]


def _expected(paths, count: int, seed: int) -> dict[str, list[tuple[bytes, bytes]]]:
    """load_alerts' clones variant by variant (its output is variant-major), each variant
    sorted by crc, first ``count``."""
    base = len(load_alerts(paths))
    factor = -(-count // base)
    alerts = load_alerts(paths, clone_factor=factor, seed=seed)
    order = sorted(range(len(alerts)), key=lambda i: (i // base, zlib.crc32(alerts[i].key) ^ seed))
    alerts = [alerts[i] for i in order]
    out: dict[str, list] = {}
    for m in alerts[:count]:
        out.setdefault(m.survey, []).append((m.key, m.value))
    return out


@pytest.mark.parametrize("count, seed", [(2 * 264 + 17, 5), (100, 0)])
def test_spool_is_byte_identical_to_load_alerts(paths, tmp_path, count, seed):
    spool = build_spool(paths, count, tmp_path / "spool", seed=seed, workers=2)
    expected = _expected(paths, count, seed)
    assert list(spool.streams) == [s for s in ("ztf", "lsst") if s in expected]
    for survey, stream in spool.streams.items():
        assert len(stream) == len(expected[survey])
        assert list(stream) == expected[survey]
    assert spool.count == count
    assert spool.written == 264 * (-(-count // 264))
    assert spool.disk_bytes == sum(p.stat().st_size for p in (tmp_path / "spool").iterdir())
    spool.delete()
    assert not (tmp_path / "spool").exists()


def test_a_full_disk_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match=r"needs 1000000\.0 GB .* only [\d.]+ GB are free"):
        check_disk(tmp_path / "not-yet" / "spool", 10**15)
    check_disk(tmp_path / "spool", 1000)  # a small spool fits


def test_the_disk_check_counts_the_runs_outputs(paths, tmp_path, monkeypatch):
    """A spool that fits alone but not with three more copies of each alert is refused."""
    import shutil

    from fink_like.simulator import spool as spool_module

    total = sum(p.stat().st_size for folder in paths for p in folder.rglob("*.avro"))
    usage = shutil.disk_usage(tmp_path)
    free = int(2.5 * total) + spool_module.HEADROOM   # room for ~2.5 copies of the alerts
    monkeypatch.setattr(spool_module.shutil, "disk_usage", lambda _p: usage._replace(free=free))
    with pytest.raises(UsageError, match="the alert spool and the run's outputs needs"):
        build_spool(paths, 264, tmp_path / "spool", outputs=3)
    assert not (tmp_path / "spool").exists()


def test_count_must_be_positive(paths, tmp_path):
    with pytest.raises(UsageError, match="at least one alert"):
        build_spool(paths, 0, tmp_path / "spool")
