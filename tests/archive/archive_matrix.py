"""The backend matrix shared by the archive and API tests: embedded, and hbase over Thrift.

``hbase`` talks to the Thrift test double (fixture ``thrift_double``) unless
``FINK_LIKE_TEST_HBASE=host:port`` names a real HBase Thrift server.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

REAL_HBASE = os.environ.get("FINK_LIKE_TEST_HBASE")
BACKENDS = ["embedded", "hbase"]


def backend_settings(request, folder: Path):
    """Settings for a fresh, empty archive (unique table prefix) on ``request.param``."""
    from fink_like.config import load_settings

    archive = {"backend": "embedded", "path": str(folder / "archive.sqlite"),
               "table_prefix": f"t{uuid.uuid4().hex[:10]}"}
    if request.param == "hbase" and REAL_HBASE:
        host, _, port = REAL_HBASE.rpartition(":")
        archive.update(backend="hbase", hbase_host=host, hbase_port=int(port))
    elif request.param == "hbase":
        double = request.getfixturevalue("thrift_double")
        archive.update(backend="hbase", hbase_host="127.0.0.1", hbase_port=double.port, retries=0)
    return load_settings(None, env={}, overrides={"archive": archive})
