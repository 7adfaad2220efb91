"""The ``embedded`` backend: the HBase-shaped store in one SQLite file (stdlib ``sqlite3``).

Each HBase table is one SQLite table ``(row BLOB PRIMARY KEY, cells BLOB)``: one blob
per row key holding its cells; scans read rows in key order (``ORDER BY row``, through
the key's index) exactly as in HBase. An upsert merges cells on conflict (SQL function
``hb_merge``), which keeps HBase's per-cell put semantics. WAL mode lets readers (the API)
work while the writer writes.

Rows are large (an alert's cutouts are ~60 KB), so new files use 64 KB pages and
ordinary rowid tables: a row's blob is written once into its own pages, and only the
small key index is rebalanced. (A ``WITHOUT ROWID`` table keeps whole rows in its B-tree
and moves them on every split: with it and 4 KB pages the archive took 1.6 times the
executor time in the pipeline at 450 alerts/s, see docs/benchmarks.md, "Third round".)
Files made before keep their layout and still work.
"""

from __future__ import annotations

import bisect
import fcntl
import re
import sqlite3
import struct
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from fink_like.archive.backends.base import ArchiveBackend, Cells, Row, prefix_stop
from fink_like.errors import ArchiveBusy, ArchiveError

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
_HEADER = struct.Struct(">I")
_CELL = struct.Struct(">HI")
PAGE_SIZE = 65536  # bytes, SQLite's largest: rows of ~60 KB span one or two pages


UPSERT = ('INSERT INTO "{table}" (row, cells) VALUES (?, ?) '
          "ON CONFLICT(row) DO UPDATE SET cells = hb_merge(cells, excluded.cells) WHERE cells != excluded.cells")
"""One row's put: cells merged into an existing row, HBase-style; a row put again with the
same cells (a replayed batch, an object's upper limits sent again) is neither merged nor
rewritten."""


def pack_cells(cells: Mapping[bytes, bytes]) -> bytes:
    """Serialise cells as ``count, (len(column), len(value), column, value)*``."""
    parts = [_HEADER.pack(len(cells))]
    for column, value in cells.items():
        parts.append(_CELL.pack(len(column), len(value)))
        parts.append(column)
        parts.append(value)
    return b"".join(parts)


def unpack_cells(blob: bytes) -> Cells:
    """Inverse of :func:`pack_cells` (plain slices of the blob: this runs for every row read)."""
    blob = bytes(blob)
    (count,) = _HEADER.unpack_from(blob, 0)
    pos, cells, unpack, size = _HEADER.size, {}, _CELL.unpack_from, _CELL.size
    for _ in range(count):
        ncol, nval = unpack(blob, pos)
        start = pos + size
        end = start + ncol
        pos = end + nval
        cells[blob[start:end]] = blob[end:pos]
    return cells


def _merge(old: bytes, new: bytes) -> bytes:
    cells = unpack_cells(old)
    cells.update(unpack_cells(new))
    return pack_cells(cells)


@contextmanager
def _setup_lock(path: Path):
    """Hold an exclusive lock on ``<path>.setup-lock`` while a connection sets the file up.

    Processes that open one new file at once (the executors' Python workers warming up)
    would otherwise race on the switch to WAL, which SQLite refuses with "database is
    locked" at once rather than waiting out the busy timeout
    (``tests/archive/test_backends.py`` opens one file from six processes at once).
    """
    with open(path.with_name(path.name + ".setup-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedBackend(ArchiveBackend):
    """SQLite file at ``path``; safe to share between threads of one process.

    Writes go through one connection under a lock; reads use one connection per thread,
    so that concurrent readers (the API's request threads) do not wait for each other:
    WAL mode lets them all read while the writer writes.

    Parameters
    ----------
    path
        The database file (created with its folder when missing).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _setup_lock(self.path):
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA busy_timeout=5000")
                self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file only; no-op otherwise
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.create_function("hb_merge", 2, _merge, deterministic=True)
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS _families (tbl TEXT PRIMARY KEY, families TEXT NOT NULL)"
                )
        except (sqlite3.Error, OSError) as exc:
            raise ArchiveError(f"cannot open the embedded archive {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        self._families: dict[str, frozenset[bytes]] = {}
        self._load_families()

    def _load_families(self) -> None:
        for name, fams in self._db.execute("SELECT tbl, families FROM _families"):
            self._families[name] = frozenset(f.encode() for f in fams.split(",") if f)

    def tables(self) -> dict[str, list[str]]:
        """Existing tables and their column families."""
        with self._lock:
            self._load_families()
            return {t: sorted(f.decode() for f in fams) for t, fams in self._families.items()}

    def create_tables(self, families: Mapping[str, Sequence[str]]) -> None:
        with self._lock:
            for table, fams in families.items():
                _check_name(table)
                self._run(table, f'CREATE TABLE IF NOT EXISTS "{table}" '
                                 "(row BLOB PRIMARY KEY, cells BLOB NOT NULL)")
                self._run(table, "INSERT OR IGNORE INTO _families VALUES (?, ?)",
                          (table, ",".join(fams)))
            self._load_families()

    def drop_table(self, table: str) -> None:
        """Remove a table and its rows (used by the Thrift test double's deleteTable)."""
        with self._lock:
            self._families_of(table)
            self._run(table, f'DROP TABLE "{table}"')
            self._run(table, "DELETE FROM _families WHERE tbl = ?", (table,))
            self._families.pop(table, None)

    def families(self, table: str) -> frozenset[bytes]:
        """The column families of ``table`` (ArchiveError when it does not exist)."""
        with self._lock:
            return self._families_of(table)

    def _families_of(self, table: str) -> frozenset[bytes]:
        if table not in self._families:
            self._load_families()
        try:
            return self._families[table]
        except KeyError:
            raise ArchiveError(f"archive table {table!r} does not exist in {self.path}") from None

    def put_many(self, table: str, rows: Iterable[Row]) -> int:
        return self.put_tables([(table, rows)])

    def put_tables(self, batches: Sequence[tuple[str, Iterable[Row]]]) -> int:
        # Cells are packed before the write lock is taken: other writers wait only for SQL.
        packed = [(table, self._packed(table, rows)) for table, rows in batches]
        with self._lock:
            table = None
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for table, params in packed:
                    self._db.executemany(UPSERT.format(table=table), params)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                kind = ArchiveBusy if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc) \
                    else ArchiveError
                raise kind(f"archive table {table!r}: write failed: {exc}") from exc
        return sum(len(params) for _table, params in packed)

    def _packed(self, table: str, rows: Iterable[Row]) -> list[tuple[bytes, bytes]]:
        fams = self._families_of(table)
        params = []
        for key, cells in rows:
            for column in cells:
                if column.partition(b":")[0] not in fams:
                    raise ArchiveError(
                        f"archive table {table!r} has no column family for {column!r} "
                        f"(families: {sorted(f.decode() for f in fams)})"
                    )
            params.append((bytes(key), pack_cells(cells)))
        return params

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (opened on first use, closed by :meth:`close`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise ArchiveError(f"cannot open the embedded archive {self.path}: {exc}") from exc
            with self._lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def _read(self, table: str, sql: str, params=()) -> list:
        try:
            return self._reader().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise ArchiveError(f"archive table {table!r} in {self.path}: {exc}") from exc

    def get_many(self, table: str, keys: Sequence[bytes]) -> list[Row]:
        self._families_of(table)
        found: dict[bytes, bytes] = {}
        keys = [bytes(k) for k in keys]
        for i in range(0, len(keys), 500):  # one query per 500 keys (SQLite's parameter limit is higher)
            chunk = keys[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._read(table, f'SELECT row, cells FROM "{table}" WHERE row IN ({marks})', chunk))
        return [(k, unpack_cells(found[k])) for k in keys if k in found]

    def scan(self, table: str, start: bytes = b"", stop: bytes | None = None,
             limit: int | None = None) -> Iterator[Row]:
        self._families_of(table)
        where, params = _key_range(bytes(start), None if stop is None else bytes(stop))
        sql = f'SELECT row, cells FROM "{table}" WHERE {where} ORDER BY row'
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return iter([(bytes(k), unpack_cells(v)) for k, v in self._read(table, sql, params)])

    def scan_prefixes(self, table: str, prefixes: Sequence[bytes]) -> list[list[Row]]:
        # One query per 200 prefixes (a range per prefix, OR-ed: SQLite walks the key index
        # once per range), the rows then split between the prefixes by bisection.
        self._families_of(table)
        ranges = [(bytes(p), prefix_stop(bytes(p))) for p in prefixes]
        cells: dict[bytes, bytes] = {}
        for i in range(0, len(ranges), 200):
            clauses = [_key_range(start, stop) for start, stop in ranges[i:i + 200]]
            where = " OR ".join(f"({clause})" for clause, _ in clauses)
            params = [b for _, bounds in clauses for b in bounds]
            cells.update(self._read(table, f'SELECT row, cells FROM "{table}" WHERE {where}', params))
        keys = sorted(cells)
        out = []
        for start, stop in ranges:
            lo = bisect.bisect_left(keys, start)
            hi = len(keys) if stop is None else bisect.bisect_left(keys, stop)
            out.append([(bytes(k), unpack_cells(cells[k])) for k in keys[lo:hi]])
        return out

    def delete(self, table: str, key: bytes) -> None:
        self._families_of(table)
        with self._lock:
            self._run(table, f'DELETE FROM "{table}" WHERE row = ?', (bytes(key),))

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database file and truncate it.

        Afterwards the ``.sqlite`` file alone holds everything (copying it loses nothing),
        even if another process keeps the database open. Readers in the middle of a read
        make SQLite checkpoint what it can; the log is then emptied by the next one.
        """
        with self._lock:
            self._run("_families", "PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Checkpoint (see :meth:`checkpoint`), then close the connection (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._readers:  # idle readers first, so the checkpoint can empty the log
                conn.close()
            self._readers.clear()
            self._local = threading.local()
            try:
                self.checkpoint()
            finally:
                self._db.close()

    def _run(self, table: str, sql: str, params=()):
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise ArchiveError(f"archive table {table!r} in {self.path}: {exc}") from exc


def _key_range(start: bytes, stop: bytes | None) -> tuple[str, list]:
    """SQL condition and parameters of ``start <= row < stop`` (``stop`` None: no upper bound)."""
    if stop is None:
        return "row >= ?", [start]
    return "row >= ? AND row < ?", [start, stop]


def _check_name(table: str) -> None:
    if not _NAME.match(table):
        raise ArchiveError(f"invalid archive table name {table!r}: use letters, digits, '_', '.', '-'")
