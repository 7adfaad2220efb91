"""Alert files on disk (one Avro container per alert, as the surveys archive them).

Each file becomes the Kafka message its survey would have sent: ZTF containers as they
are, Rubin records re-framed in the Confluent wire format. The simulator replays these
messages; :func:`read_alert_files` decodes them straight into a canonical table.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import fastavro
import pyarrow as pa

from fink_like.errors import AlertError
from fink_like.surveys.avro import read_bodies, split_container, write_container
from fink_like.surveys.batch import adapter_for, decode_batch

_RUBIN_NAME = re.compile(r"^lsst\.v(\d+)_(\d+)\.alert$")
PathLike = str | os.PathLike


@dataclass(frozen=True)
class AlertMessage:
    """One alert as its survey puts it on Kafka."""

    survey: str            # "ztf" | "lsst"
    schema_version: str
    key: bytes             # the alert id in ASCII digits
    value: bytes           # wire format
    source: str            # the file it came from


def alert_paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """Every ``*.avro`` file under the given folders and files, folders walked recursively, sorted.

    Raises
    ------
    AlertError
        ``no_such_file`` for a path that does not exist.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.avro")))
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise AlertError("not_a_file", f"alert path {path} is neither a file nor a folder")
        else:
            raise AlertError("no_such_file", f"alert path {path} does not exist")
    return found


def _survey_of(schema_json: str) -> tuple[str, str]:
    schema = json.loads(schema_json)
    name = schema.get("name", "")
    if "." not in name and schema.get("namespace"):
        name = f"{schema['namespace']}.{name}"
    match = _RUBIN_NAME.match(name)
    if match:
        return "lsst", f"{match[1]}.{match[2]}"
    if name.startswith("ztf."):
        return "ztf", str(schema.get("version", ""))
    raise AlertError("unknown_survey", f"schema {name!r} is neither ZTF (ztf.alert) nor Rubin (lsst.vM_m.alert)")


def messages_from_file(path: PathLike) -> list[AlertMessage]:
    """The wire-format messages of every alert in one container file.

    Raises
    ------
    AlertError
        ``unreadable_file`` when the file cannot be read, ``not_an_alert_file`` when it is
        not an Avro container of alerts; the message names the file.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AlertError("unreadable_file", f"{path}: {exc.strerror}") from exc
    try:
        container = split_container(data)
        survey, version = _survey_of(container.schema_json)
        adapter = adapter_for(survey)
        if survey == "ztf" and container.count == 1:
            record = adapter.decode(data)
            pairs = [(record, data)]
        elif survey == "ztf":
            parsed = adapter._writer_schema(container.schema_json)
            records = [r for n, block in container.blocks for r in read_bodies(block, parsed, n)]
            pairs = [(r, write_container(parsed, [r])) for r in records]
        else:
            with open(path, "rb") as stream:
                pairs = [(r, adapter.encode(r, version)) for r in fastavro.reader(stream)]
        return [
            AlertMessage(survey, adapter.schema_version(value, record) if survey == "ztf" else version,
                         str(adapter.alert_id(record)).encode(), value, str(path))
            for record, value in pairs
        ]
    except AlertError as exc:
        raise AlertError(exc.reason, f"{path}: {exc.detail}") from exc
    except Exception as exc:  # fastavro and struct on a malformed container: any error type
        raise AlertError("not_an_alert_file", f"{path}: {type(exc).__name__}: {exc}") from exc


def load_file_messages(paths: PathLike | Iterable[PathLike], survey: str | None = None,
                       skipped: list[tuple[str, str]] | None = None) -> list[AlertMessage]:
    """Messages of every alert file under ``paths``; only one survey's when ``survey`` is given.

    A file that cannot be read raises :class:`AlertError`, unless ``skipped`` is a list:
    then ``(file, reason)`` is appended to it and the other files are still read.
    """
    wanted = adapter_for(survey).name if survey else None
    messages = []
    for path in alert_paths(paths):
        try:
            messages.extend(messages_from_file(path))
        except AlertError as exc:
            if skipped is None:
                raise
            skipped.append((str(path), str(exc)))
    return [m for m in messages if wanted is None or m.survey == wanted]


def messages_table(messages: list[AlertMessage], topic: str = "file") -> pa.Table:
    """Messages as rows of the Kafka source schema: topic ``topic``, partition 0, offset = position."""
    return pa.table({
        "key": pa.array([m.key for m in messages], pa.binary()),
        "value": pa.array([m.value for m in messages], pa.binary()),
        "topic": pa.array([topic] * len(messages), pa.string()),
        "partition": pa.array([0] * len(messages), pa.int32()),
        "offset": pa.array(range(len(messages)), pa.int64()),
        "timestamp": pa.nulls(len(messages), pa.timestamp("ms", tz="UTC")),
    })


def read_alert_files(paths: PathLike | Iterable[PathLike]) -> pa.Table:
    """The canonical table of every alert in the given files and folders.

    Transport columns are synthetic: topic ``"file"``, partition 0, offset = position.

    Raises
    ------
    AlertError
        When a file is not an alert, or an alert fails validation (reason and file named).
    """
    messages = load_file_messages(paths)
    canonical, quarantine = decode_batch(messages_table(messages))
    if len(quarantine):
        first = quarantine.slice(0, 1).to_pylist()[0]
        raise AlertError(first["reason"], f"{messages[first['offset']].source}: {first['detail']}")
    return canonical
