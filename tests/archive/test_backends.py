"""The backend contract, run on every backend of the matrix (embedded, hbase over Thrift)."""

from __future__ import annotations

import pytest

from fink_like.archive.backends import open_backend, prefix_stop
from fink_like.errors import ArchiveError


@pytest.fixture
def backend(archive_settings):
    """A backend with one empty table, named ``<prefix>_kv`` (unique per test)."""
    store = open_backend(archive_settings)
    table = f"{archive_settings.archive.table_prefix}_kv"
    store.create_tables({table: ["s", "b"]})
    yield store, table
    store.close()


def test_put_get_merge_and_missing(backend):
    backend, kv = backend
    backend.put_many(kv, [(b"a_1", {b"s:x": b"1"}), (b"a_2", {b"s:x": b"2"})])
    backend.put(kv, b"a_1", {b"b:y": b"9", b"s:x": b"10"})
    assert backend.get(kv, b"a_1") == {b"s:x": b"10", b"b:y": b"9"}
    assert backend.get(kv, b"zz") is None
    assert backend.get_many(kv, [b"a_2", b"nope", b"a_1"]) == [
        (b"a_2", {b"s:x": b"2"}), (b"a_1", {b"s:x": b"10", b"b:y": b"9"})]


def test_scans_are_sorted_bounded_and_limited(backend):
    backend, kv = backend
    keys = [b"obj1_3", b"obj1_1", b"obj10_1", b"obj1_2", b"obj2_1"]
    backend.put_many(kv, [(k, {b"s:k": k}) for k in keys])
    assert [k for k, _ in backend.scan_prefix(kv, b"obj1_")] == [b"obj1_1", b"obj1_2", b"obj1_3"]
    assert [k for k, _ in backend.scan_prefix(kv, b"obj1_", limit=2)] == [b"obj1_1", b"obj1_2"]
    assert [k for k, _ in backend.scan(kv, b"obj1_2", b"obj2")] == [b"obj1_2", b"obj1_3"]
    assert [k for k, _ in backend.scan(kv)] == sorted(keys)


def test_delete_and_idempotent_rewrite(backend):
    backend, kv = backend
    rows = [(f"k{i:03d}".encode(), {b"s:v": str(i).encode()}) for i in range(50)]
    backend.put_many(kv, rows)
    backend.put_many(kv, rows)
    backend.delete(kv, b"k007")
    backend.delete(kv, b"absent")
    assert [k for k, _ in backend.scan(kv)] == [k for k, _ in rows if k != b"k007"]


def test_unknown_family_and_table_are_clear_errors(backend):
    backend, kv = backend
    with pytest.raises(ArchiveError, match="column family"):
        backend.put(kv, b"x", {b"zz:q": b"1"})
    with pytest.raises(ArchiveError):
        backend.get("no_such_table", b"x")


def test_put_tables_writes_every_batch(backend):
    backend, kv = backend
    sent = backend.put_tables([(kv, [(b"t_1", {b"s:x": b"1"})]), (kv, [(b"t_2", {b"b:y": b"2"})]), (kv, [])])
    assert sent == 2
    assert backend.get_many(kv, [b"t_1", b"t_2"]) == [(b"t_1", {b"s:x": b"1"}), (b"t_2", {b"b:y": b"2"})]


def test_embedded_put_tables_is_all_or_nothing(tmp_path):
    from fink_like.archive.backends.embedded import EmbeddedBackend

    store = EmbeddedBackend(tmp_path / "a.sqlite")
    store.create_tables({"one": ["s"], "two": ["s"]})
    with pytest.raises(ArchiveError, match="column family"):
        store.put_tables([("one", [(b"k", {b"s:x": b"1"})]), ("two", [(b"k", {b"zz:x": b"1"})])])
    assert store.get("one", b"k") is None   # the first batch was not written either
    store.close()


def test_prefix_stop():
    assert prefix_stop(b"ab_") == b"ab`"
    assert prefix_stop(b"a\xff") == b"b"
    assert prefix_stop(b"\xff\xff") is None


def test_embedded_files_made_with_without_rowid_tables_still_work(tmp_path):
    """Archives written before the 64 KB-page, rowid layout keep theirs and stay usable."""
    import sqlite3

    from fink_like.archive.backends.embedded import PAGE_SIZE, EmbeddedBackend

    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE _families (tbl TEXT PRIMARY KEY, families TEXT NOT NULL)")
        db.execute('CREATE TABLE "t" (row BLOB PRIMARY KEY, cells BLOB NOT NULL) WITHOUT ROWID')
        db.execute("INSERT INTO _families VALUES ('t', 's')")
    db.close()
    store = EmbeddedBackend(old)
    store.put_tables([("t", [(b"b", {b"s:x": b"2"}), (b"a", {b"s:x": b"1"})])])
    store.put("t", b"a", {b"s:y": b"3"})
    assert list(store.scan("t")) == [(b"a", {b"s:x": b"1", b"s:y": b"3"}), (b"b", {b"s:x": b"2"})]
    store.close()
    with sqlite3.connect(old) as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == 4096   # unchanged
    db.close()

    new = EmbeddedBackend(tmp_path / "new.sqlite")
    new.create_tables({"t": ["s"]})
    new.put("t", b"k", {b"s:x": b"v" * 70_000})
    assert new.get("t", b"k") == {b"s:x": b"v" * 70_000}
    new.close()
    with sqlite3.connect(tmp_path / "new.sqlite") as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 't'").fetchone()[0]
    db.close()
    assert "WITHOUT ROWID" not in sql


def _open_at_once(path, barrier, results):
    from fink_like.archive.backends.embedded import EmbeddedBackend

    barrier.wait()
    try:
        store = EmbeddedBackend(path)
        store.create_tables({"events": ["d"]})
        store.close()
        results.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_embedded_file_opened_by_many_processes_at_once(tmp_path):
    """Executors' workers warming up open one new file together: none is refused as locked."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    failures = []
    for round_ in range(30):
        path = tmp_path / f"r{round_}" / "events.sqlite"
        barrier, results = ctx.Barrier(6), ctx.Queue()
        workers = [ctx.Process(target=_open_at_once, args=(path, barrier, results)) for _ in range(6)]
        for w in workers:
            w.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for w in workers:
            w.join(timeout=60)
        failures += [o for o in outcomes if o != "ok"]
    assert not failures, failures[:3]
