"""The one small interface every archive backend implements: an HBase-shaped key-value store.

A *table* holds rows; a row is a byte-string key and a mapping of cells
``b"family:qualifier" -> bytes``. Rows are kept in byte order of their keys, so a
prefix scan or a range scan returns them sorted, exactly as HBase does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable, Iterator, Mapping, Sequence

Cells = dict[bytes, bytes]
Row = tuple[bytes, Cells]


def prefix_stop(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no bound).

    Examples
    --------
    >>> prefix_stop(b"ZTF18abc_")
    b'ZTF18abc`'
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


class ArchiveBackend(ABC):
    """An HBase-shaped store: tables of sorted rows of ``family:qualifier`` cells.

    Contract, for every implementation:

    * ``put``/``put_many`` are upserts: cells of an existing row are replaced one by one,
      other cells of that row are kept (HBase semantics). Writing the same rows twice
      leaves the store as if written once, which is what makes replays idempotent.
    * scans return rows in ascending byte order of their keys, ``start`` inclusive and
      ``stop`` exclusive, at most ``limit`` rows.
    * failures raise :class:`fink_like.errors.ArchiveError` naming the table.
    * an instance is not shared between processes: an executor opens its own (the
      writer opens its backend lazily and drops it when pickled).
    """

    @abstractmethod
    def create_tables(self, families: Mapping[str, Sequence[str]]) -> None:
        """Create the missing tables, each with its column families (existing ones are kept)."""

    @abstractmethod
    def put_many(self, table: str, rows: Iterable[Row]) -> int:
        """Upsert ``(key, cells)`` rows in one batch; return how many rows were sent."""

    def put_tables(self, batches: Sequence[tuple[str, Sequence[Row]]]) -> int:
        """Upsert several ``(table, rows)`` batches; return how many rows were sent.

        One call per micro-batch partition: a backend that can (the embedded one) writes
        them all in one transaction, so concurrent writers hand the lock over once per
        call, not once per table. Others send the batches one after the other.
        """
        return sum(self.put_many(table, rows) for table, rows in batches)

    def put(self, table: str, key: bytes, cells: Cells) -> None:
        """Upsert one row."""
        self.put_many(table, [(key, cells)])

    @abstractmethod
    def get_many(self, table: str, keys: Sequence[bytes]) -> list[Row]:
        """The rows that exist among ``keys``, in the order asked."""

    def get(self, table: str, key: bytes) -> Cells | None:
        """The cells of one row, or None when the row does not exist."""
        found = self.get_many(table, [key])
        return found[0][1] if found else None

    @abstractmethod
    def scan(self, table: str, start: bytes = b"", stop: bytes | None = None,
             limit: int | None = None) -> Iterator[Row]:
        """Rows with ``start <= key < stop`` (``stop=None``: to the end), sorted by key."""

    def scan_prefix(self, table: str, prefix: bytes, limit: int | None = None) -> Iterator[Row]:
        """Rows whose key starts with ``prefix``, sorted by key."""
        return self.scan(table, prefix, prefix_stop(prefix), limit)

    def scan_prefixes(self, table: str, prefixes: Sequence[bytes]) -> list[list[Row]]:
        """The rows of each prefix (as :meth:`scan_prefix`), one list per prefix, in order.

        One call for many small scans (the object groups look up the cells around every new
        object of a batch at once); a backend that can answer them in one request does.
        """
        return [list(self.scan_prefix(table, prefix)) for prefix in prefixes]

    @abstractmethod
    def delete(self, table: str, key: bytes) -> None:
        """Remove a whole row (no error when it does not exist)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections and files; the instance is unusable afterwards."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
