"""Alert files -> wire-format Kafka messages, cloned ``clone_factor`` times for load tests."""

from __future__ import annotations

from typing import Iterable

from fink_like.errors import UsageError
from fink_like.simulator.clone import Cloner
from fink_like.surveys import adapter_for
from fink_like.surveys.files import AlertMessage, PathLike, load_file_messages


def load_alerts(paths: PathLike | Iterable[PathLike], survey: str | None = None,
                clone_factor: int = 1, seed: int = 0,
                skipped: list[tuple[str, str]] | None = None) -> list[AlertMessage]:
    """Every alert under ``paths`` as its survey's Kafka message, plus clones.

    Parameters
    ----------
    paths
        Folders (walked for ``*.avro``) and files; ZTF and Rubin are told apart by schema.
    survey
        ``"ztf"`` or ``"lsst"`` to keep only one survey; ``None`` or ``"auto"`` keeps both.
    clone_factor
        K >= 1: each alert is sent K times, the original then K-1 clones with new unique
        ids and small shifts (see :mod:`fink_like.simulator.clone`). The output is
        variant-major: all originals in input order, then every first clone, and so on.
    seed
        Seed of the clones' ids and shifts.
    skipped
        If a list, unreadable files are appended to it as ``(file, reason)`` and the rest
        are loaded; if None, the first one raises.

    Raises
    ------
    UsageError
        For ``clone_factor < 1``; AlertError for unreadable files (``skipped`` None).
    """
    if clone_factor < 1:
        raise UsageError(f"clone factor must be at least 1, got {clone_factor}")
    originals = load_file_messages(paths, None if survey in (None, "auto") else survey, skipped)
    if clone_factor == 1:
        return originals
    out = list(originals)
    cloners, records = prepare_clones(originals, seed)
    for variant in range(1, clone_factor):  # variant-major: the input order, K - 1 more times
        out.extend(clone_message(m, r, cloners[m.survey], variant) for m, r in zip(originals, records))
    return out


def prepare_clones(originals: list[AlertMessage], seed: int) -> tuple[dict[str, Cloner], list[dict]]:
    """One cloner per survey with every original id reserved, and the decoded records."""
    cloners = {name: Cloner(name, seed=seed) for name in sorted({m.survey for m in originals})}
    records = []
    for message in originals:
        record = adapter_for(message.survey).decode(message.value)
        cloners[message.survey].reserve(record)
        records.append(record)
    return cloners, records


def clone_message(message: AlertMessage, record: dict, cloner: Cloner, variant: int) -> AlertMessage:
    """Variant ``variant`` of ``message`` (whose decoded record is ``record``) as a Kafka message."""
    adapter = adapter_for(message.survey)
    clone = cloner.clone(record, variant)
    value = adapter.encode(clone, message.schema_version)
    return AlertMessage(message.survey, message.schema_version, str(adapter.alert_id(clone)).encode(),
                        value, message.source)


def load_messages(path: PathLike | Iterable[PathLike], survey: str | None = None,
                  clone_factor: int = 1, seed: int = 0,
                  skipped: list[tuple[str, str]] | None = None) -> list[tuple[bytes, bytes]]:
    """``(key, value)`` pairs ready for :func:`~fink_like.simulator.replay.replay`."""
    return [(m.key, m.value) for m in load_alerts(path, survey, clone_factor, seed, skipped)]
