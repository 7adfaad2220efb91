"""Alert files -> wire-format Kafka messages, cloned ``clone_factor`` times for load tests."""

from __future__ import annotations

from typing import Iterable

from fink_like.errors import UsageError
from fink_like.simulator.clone import Cloner
from fink_like.surveys import adapter_for
from fink_like.surveys.files import AlertMessage, PathLike, load_file_messages


def load_alerts(paths: PathLike | Iterable[PathLike], survey: str | None = None,
                clone_factor: int = 1, seed: int = 0) -> list[AlertMessage]:
    """Every alert under ``paths`` as its survey's Kafka message, plus clones.

    Parameters
    ----------
    paths
        Folders (walked for ``*.avro``) and files; ZTF and Rubin are told apart by schema.
    survey
        ``"ztf"`` or ``"lsst"`` to keep only one survey; ``None`` or ``"auto"`` keeps both.
    clone_factor
        K >= 1: each alert is sent K times, the original then K-1 clones with new unique
        ids and small shifts (see :mod:`fink_like.simulator.clone`).
    seed
        Seed of the clones' ids and shifts.

    Raises
    ------
    UsageError
        For ``clone_factor < 1``; AlertError for unreadable files.
    """
    if clone_factor < 1:
        raise UsageError(f"clone factor must be at least 1, got {clone_factor}")
    originals = load_file_messages(paths, None if survey in (None, "auto") else survey)
    if clone_factor == 1:
        return originals
    out = list(originals)
    for name in sorted({m.survey for m in originals}):
        mine = [m for m in originals if m.survey == name]
        adapter = adapter_for(name)
        records = [adapter.decode(m.value) for m in mine]
        cloner = Cloner(name, seed=seed)
        for record in records:
            cloner.reserve(record)
        for variant in range(1, clone_factor):
            for message, record in zip(mine, records):
                clone = cloner.clone(record, variant)
                value = adapter.encode(clone, message.schema_version)
                key = str(adapter.alert_id(clone)).encode()
                out.append(AlertMessage(name, message.schema_version, key, value, message.source))
    return out


def load_messages(path: PathLike | Iterable[PathLike], survey: str | None = None,
                  clone_factor: int = 1, seed: int = 0) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` pairs ready for :func:`~fink_like.simulator.replay.replay`."""
    return [(m.key, m.value) for m in load_alerts(path, survey, clone_factor, seed)]
