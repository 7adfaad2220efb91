"""Annotations: labels that people give to objects, kept in the archive with their history.

Every annotation is one row of the ``labels`` table (``objectId_utcTime_user``): nothing
is overwritten, so the table is its own audit trail (who said what, when). An object's
current label is its newest row. ``fink-like al label --from-archive`` reads the current
labels as a labelling oracle for active learning.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from fink_like.archive import model
from fink_like.archive.backends import LazyBackend
from fink_like.archive.query import object_prefix
from fink_like.errors import QueryError
from fink_like.secrets import echo

MAX_COMMENT = 2000
_LABEL = re.compile(r"^[\w .+\-/()]{1,64}$")


def check_label(label, comment) -> tuple[str, str]:
    """A clean (label, comment): a label of 1-64 word characters, a comment of at most 2000."""
    label = str(label or "").strip()
    if not _LABEL.match(label):
        raise QueryError(f"invalid label {echo(label)}: use 1-64 letters, digits, spaces or . + - / ( )")
    comment = str(comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise QueryError(f"comment is {len(comment)} characters long: at most {MAX_COMMENT}")
    return label, comment


class Labels(LazyBackend):
    """Read and add annotations on the archive named by ``settings.archive``."""

    def _table(self) -> str:
        return model.table_name(self.settings.archive.table_prefix, "labels")

    def add(self, object_id: str, label: str, comment: str, user: str) -> dict:
        """Store one annotation and return it; QueryError (404) when the object is not archived."""
        from fink_like.archive.query import NotFoundError

        label, comment = check_label(label, comment)
        prefix = object_prefix(object_id)
        alerts = model.table_name(self.settings.archive.table_prefix, "alerts")
        if not list(self.backend.scan_prefix(alerts, prefix, limit=1)):
            raise NotFoundError(f"object {echo(object_id)} is not in the archive")
        when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entry = {"object_id": object_id, "label": label, "comment": comment, "user": user, "time": when}
        cells = {f"l:{k}".encode(): json.dumps(v).encode() for k, v in entry.items()}
        self.backend.put(self._table(), model.label_key(object_id, when, user), cells)
        return entry

    def history(self, object_id: str) -> list[dict]:
        """Every annotation of one object, oldest first (the audit trail)."""
        return [_decode(c) for _, c in self.backend.scan_prefix(self._table(), object_prefix(object_id))]

    def current(self) -> dict[str, dict]:
        """The newest annotation of every annotated object, by object id."""
        latest: dict[str, dict] = {}
        for _, cells in self.backend.scan(self._table()):
            entry = _decode(cells)
            latest[entry["object_id"]] = entry  # rows come in time order per object
        return latest


def _decode(cells: dict[bytes, bytes]) -> dict:
    return {k.decode().partition(":")[2]: json.loads(v) for k, v in cells.items()}
