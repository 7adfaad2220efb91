"""Spectroscopic label tables as a labelling oracle (ZTF object id or TNS name -> class).

Reads the tables of ``shared/data/labelled/label_tables`` and any CSV with the same
columns. The format is recognised from the header:

=============================  ====================  ==========================
table                          id column(s)          class column
=============================  ====================  ==========================
ZTF x TNS crossmatch           ``objectId``          ``tns`` (empty = unknown)
superphot+ training set        ``NAME`` (ZTF id)     ``LABEL``
BTS explorer export            ``ZTFID``, ``IAUID``  ``type``
generic                        ``object_id``         ``label``
=============================  ====================  ==========================

TNS names are compared without their prefix, case or spaces (``SN 2021yjg``,
``SN2021yjg``, ``AT2021yjg`` and ``2021yjg`` are one name). When tables disagree, the
first one given wins.

Examples
--------
>>> oracle = LabelOracle.from_paths(["../shared/data/labelled/label_tables/ztf_tns_crossmatch.csv"])  # doctest: +SKIP
>>> oracle.label("ZTF21aciqppd")  # doctest: +SKIP
'SN Ia'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from fink_like.errors import FinkLikeError

FORMATS = (  # (id columns, class column)
    (("objectId",), "tns"),
    (("NAME",), "LABEL"),
    (("ZTFID", "IAUID"), "type"),
    (("object_id",), "label"),
)
_ZTF = re.compile(r"^ZTF\d{2}[a-z]{7}$")


class LabelTableError(FinkLikeError):
    """A label table is missing, unreadable, or has none of the known layouts."""


def tns_key(name: str) -> str:
    """``"SN 2021yjg"`` -> ``"2021yjg"``: prefix, spaces and case removed."""
    return re.sub(r"^(sn|at|tde|slsn|kn|frb|nova)", "", re.sub(r"\s+", "", str(name)).lower())


def _key(identifier: str) -> str:
    identifier = str(identifier).strip()
    return identifier if _ZTF.match(identifier) else tns_key(identifier)


class LabelOracle:
    """Look up the class of an object by ZTF object id or TNS name."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> "LabelOracle":
        """Merge the tables (earlier ones win). Raises LabelTableError naming the file."""
        labels: dict[str, str] = {}
        paths = list(paths)
        if not paths:
            raise LabelTableError("no label table given")
        for path in reversed(paths):
            labels.update(read_table(path))
        return cls(labels)

    def label(self, identifier: str) -> str | None:
        """The class of a ZTF object id or TNS name; None when no table knows it."""
        return self.labels.get(_key(identifier))

    def lookup(self, identifiers: Iterable[str]) -> dict[str, str]:
        """``{identifier: class}`` for the identifiers some table knows."""
        out = {}
        for identifier in identifiers:
            label = self.label(identifier)
            if label is not None:
                out[identifier] = label
        return out

    def __len__(self) -> int:
        return len(self.labels)


def read_table(path: str | Path) -> dict[str, str]:
    """``{key: class}`` of one table (keys: ZTF ids as they are, TNS names by :func:`tns_key`)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LabelTableError(f"cannot read label table {path}: {exc}") from exc
    for ids, label in FORMATS:
        if label in frame.columns and all(c in frame.columns for c in ids):
            out = {}
            rows = frame.dropna(subset=[label])
            for column in ids:
                for identifier, cls in zip(rows[column], rows[label]):
                    if isinstance(identifier, str) and identifier.strip() and cls.strip():
                        out[_key(identifier)] = cls.strip()
            return out
    raise LabelTableError(f"{path}: unknown layout (columns {list(frame.columns)}); expected one of "
                          + "; ".join(f"{'+'.join(i)} with {c}" for i, c in FORMATS))
