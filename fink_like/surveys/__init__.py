"""Survey adapters (ZTF, Rubin), the canonical Arrow schema and batch decoding.

Others depend on exactly these names: :func:`decode_batch` (and :func:`decode_messages`,
which also keeps the stamps), :func:`read_alert_files`, :func:`decode_packet`,
:func:`adapter_for`, and the schemas in :mod:`.canonical`.
"""

from fink_like.surveys.base import SurveyAdapter
from fink_like.surveys.batch import Decoded, adapter_for, decode_batch, decode_messages, decode_packet
from fink_like.surveys.canonical import CANONICAL_COLUMNS, CANONICAL_SCHEMA, QUARANTINE_SCHEMA
from fink_like.surveys.files import read_alert_files

__all__ = [
    "CANONICAL_COLUMNS", "CANONICAL_SCHEMA", "QUARANTINE_SCHEMA", "Decoded", "SurveyAdapter",
    "adapter_for", "decode_batch", "decode_messages", "decode_packet", "read_alert_files",
]
