"""The filter tests reuse the archive's backend matrix (embedded, hbase over the Thrift double)."""

import importlib.util
from pathlib import Path

_ARCHIVE = Path(__file__).resolve().parents[1] / "archive" / "conftest.py"
_spec = importlib.util.spec_from_file_location("archive_fixtures", _ARCHIVE)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

thrift_double = _fixtures.thrift_double
archive_settings = _fixtures.archive_settings
