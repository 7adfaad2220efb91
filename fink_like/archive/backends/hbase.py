"""The ``hbase`` backend: happybase over HBase's Thrift (v1) server.

A connection pool (``archive.hbase_pool_size``), batched puts (``archive.batch_size``
mutations per Thrift call) and retries with exponential backoff on transport errors
(``archive.retries``). Tables are created with their column families when missing.
"""

from __future__ import annotations

import logging
from typing import Iterable, Iterator, Mapping, Sequence

from fink_like.archive.backends.base import ArchiveBackend, Cells, Row
from fink_like.errors import ArchiveBusy, ArchiveError, require

log = logging.getLogger(__name__)
BACKOFF_S = 0.2


class HBaseBackend(ArchiveBackend):
    """HBase through its Thrift gateway at ``host:port``.

    Parameters
    ----------
    host, port
        The HBase Thrift server (``hbase thrift start``, buffered transport, binary protocol).
    pool_size
        Connections kept open; one per concurrent caller.
    retries
        Extra attempts after a transport failure, waiting ``0.2 s * 2**attempt`` between them.
    batch_size
        Mutations per ``mutateRows`` call.
    """

    def __init__(self, host: str, port: int, pool_size: int = 4, retries: int = 3,
                 batch_size: int = 500, timeout_ms: int = 30000):
        self._happybase = require("happybase")
        self.address = f"{host}:{port}"
        self.retries = retries
        self.batch_size = batch_size
        self._pool_args = dict(size=pool_size, host=host, port=port, timeout=timeout_ms)
        self._pool = None  # opened on first use, inside the retry loop

    def _call(self, what: str, func):
        """Run ``func(connection)`` with a pooled connection, retrying transport failures."""
        from thriftpy2.transport import TTransportException

        from fink_like.retry import Backoff, retry

        def attempt():
            try:
                if self._pool is None:
                    self._pool = self._happybase.ConnectionPool(**self._pool_args)
                with self._pool.connection() as conn:
                    return func(conn)
            except (TTransportException, OSError) as exc:
                raise ArchiveBusy(f"HBase at {self.address}: {what} failed: {exc}") from exc
            except Exception as exc:  # IOError/IllegalArgument answered by the server
                raise ArchiveError(f"HBase at {self.address}: {what} failed: {exc}") from exc

        backoff = Backoff(tries=self.retries + 1, first=BACKOFF_S, cap=BACKOFF_S * 2 ** self.retries)
        try:
            return retry(attempt, f"hbase {what}", backoff, transient=(ArchiveBusy,))
        except ArchiveBusy as exc:
            raise ArchiveError(f"{exc} (after {self.retries + 1} attempts)") from exc

    def create_tables(self, families: Mapping[str, Sequence[str]]) -> None:
        def create(conn):
            existing = {t.decode() if isinstance(t, bytes) else t for t in conn.tables()}
            for table, fams in families.items():
                if table not in existing:
                    conn.create_table(table, {f: dict(max_versions=1) for f in fams})
        self._call("create tables", create)

    def put_many(self, table: str, rows: Iterable[Row]) -> int:
        rows = list(rows)

        def send(conn):
            with conn.table(table).batch(batch_size=self.batch_size) as batch:
                for key, cells in rows:
                    batch.put(key, cells)
        self._call(f"put into {table}", send)
        return len(rows)

    def get_many(self, table: str, keys: Sequence[bytes]) -> list[Row]:
        if not keys:
            return []
        found = dict(self._call(f"get from {table}", lambda c: c.table(table).rows(list(keys))))
        return [(k, found[k]) for k in keys if k in found]

    def scan(self, table: str, start: bytes = b"", stop: bytes | None = None,
             limit: int | None = None) -> Iterator[Row]:
        if limit is not None and limit < 1:
            return iter([])
        batch = min(limit or 1000, 1000)
        rows = self._call(f"scan {table}", lambda c: list(
            c.table(table).scan(row_start=start, row_stop=stop, limit=limit, batch_size=batch)))
        return iter(rows)

    def delete(self, table: str, key: bytes) -> None:
        self._call(f"delete from {table}", lambda c: c.table(table).delete(key))

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        while True:  # close every idle pooled connection
            try:
                conn = pool._queue.get_nowait()
            except Exception:
                break
            conn.close()
