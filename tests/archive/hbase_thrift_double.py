"""TEST DOUBLE: a small HBase Thrift (v1) server, backed by the embedded SQLite store.

Not HBase. It speaks the Thrift API of HBase's Thrift gateway (the ``Hbase.thrift`` IDL
shipped inside happybase, served with thriftpy2) for exactly the calls happybase makes
for the archive: table admin, ``mutateRows``, ``getRowsWithColumns``, scanners and
``deleteAllRow``. It lets the archive's ``hbase`` backend be tested over the real wire
protocol where no HBase can run; docs/archive.md says how to run the same tests against
a real HBase instead (``FINK_LIKE_TEST_HBASE=host:port``).
"""

from __future__ import annotations

import itertools
import threading

import happybase  # noqa: F401  (loads the IDL as the module Hbase_thrift)
from Hbase_thrift import (AlreadyExists, BatchMutation, ColumnDescriptor, Hbase,  # noqa: F401
                          IllegalArgument, IOError as HbaseIOError, TCell, TRowResult)
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.server import TThreadedServer
from thriftpy2.thrift import TProcessor
from thriftpy2.transport import TBufferedTransportFactory, TServerSocket

from fink_like.archive.backends.embedded import EmbeddedBackend
from fink_like.errors import ArchiveError


def _name(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _result(key: bytes, cells: dict, columns=None) -> TRowResult:
    if columns:
        wanted = [c if b":" in c else c + b":" for c in columns]
        cells = {k: v for k, v in cells.items() if any(k == w or (w.endswith(b":") and k.startswith(w))
                                                       for w in wanted)}
    return TRowResult(row=key, columns={k: TCell(value=v, timestamp=0) for k, v in cells.items()})


class HbaseHandler:
    """The Thrift service implementation; HBase errors map to the IDL's IOError."""

    def __init__(self, store: EmbeddedBackend):
        self.store = store
        self._scanners: dict[int, list] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _guard(self, func, *args):
        try:
            return func(*args)
        except ArchiveError as exc:
            raise HbaseIOError(message=str(exc)) from exc

    def getTableNames(self):
        return [t.encode() for t in self.store.tables()]

    def isTableEnabled(self, tableName):
        return _name(tableName) in self.store.tables()

    def enableTable(self, tableName):
        return None

    def disableTable(self, tableName):
        return None

    def createTable(self, tableName, columnFamilies):
        name = _name(tableName)
        if name in self.store.tables():
            raise AlreadyExists(message=f"table {name} exists")
        fams = [_name(cd.name).rstrip(":") for cd in columnFamilies]
        self._guard(self.store.create_tables, {name: fams})

    def deleteTable(self, tableName):
        self._guard(self.store.drop_table, _name(tableName))

    def getColumnDescriptors(self, tableName):
        fams = self._guard(self.store.families, _name(tableName))
        return {f + b":": ColumnDescriptor(name=f + b":", maxVersions=1) for f in fams}

    def getRowWithColumns(self, tableName, row, columns, attributes):
        return self.getRowsWithColumns(tableName, [row], columns, attributes)

    def getRowsWithColumns(self, tableName, rows, columns, attributes):
        found = self._guard(self.store.get_many, _name(tableName), list(rows))
        return [_result(k, c, columns) for k, c in found]

    def mutateRow(self, tableName, row, mutations, attributes):
        self.mutateRows(tableName, [BatchMutation(row=row, mutations=mutations)], attributes)

    def mutateRows(self, tableName, rowBatches, attributes):
        table = _name(tableName)
        puts = []
        for batch in rowBatches:
            deletes = [m.column for m in batch.mutations if m.isDelete]
            if deletes:  # the archive never deletes single cells; whole rows only
                self._guard(self.store.delete, table, batch.row)
            puts.append((batch.row, {m.column: m.value for m in batch.mutations if not m.isDelete}))
        self._guard(self.store.put_many, table, [p for p in puts if p[1]])

    def deleteAllRow(self, tableName, row, attributes):
        self._guard(self.store.delete, _name(tableName), row)

    def scannerOpenWithScan(self, tableName, scan, attributes):
        if scan.reversed:
            raise IllegalArgument(message="reversed scans are not supported by this test double")
        if scan.filterString:
            raise IllegalArgument(message="filter strings are not supported by this test double")
        rows = self._guard(self.store.scan, _name(tableName), scan.startRow or b"", scan.stopRow or None)
        with self._lock:
            scan_id = next(self._ids)
            self._scanners[scan_id] = [_result(k, c, scan.columns) for k, c in rows]
        return scan_id

    def scannerGetList(self, id, nbRows):
        with self._lock:
            if id not in self._scanners:
                raise IllegalArgument(message=f"no scanner {id}")
            rows = self._scanners[id]
            out, self._scanners[id] = rows[:nbRows], rows[nbRows:]
        return out

    def scannerGet(self, id):
        return self.scannerGetList(id, 1)

    def scannerClose(self, id):
        with self._lock:
            self._scanners.pop(id, None)


class ThriftDouble:
    """Serve :class:`HbaseHandler` on a free loopback port in a daemon thread."""

    def __init__(self, store: EmbeddedBackend):
        self.socket = TServerSocket(host="127.0.0.1", port=0, client_timeout=None)
        self.server = TThreadedServer(TProcessor(Hbase, HbaseHandler(store)), self.socket,
                                      iprot_factory=TBinaryProtocolFactory(decode_response=False),
                                      itrans_factory=TBufferedTransportFactory(), daemon=True)
        self.socket.listen()
        self.port = self.socket.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="hbase-thrift-double", daemon=True)

    def _serve(self):
        while not self.server.closed:
            try:
                client = self.socket.accept()
            except OSError:
                return  # the listening socket was closed by stop()
            threading.Thread(target=self.server.handle, args=(client,), daemon=True).start()

    def start(self) -> "ThriftDouble":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.close()
        self.socket.close()
        self._thread.join(timeout=10)
