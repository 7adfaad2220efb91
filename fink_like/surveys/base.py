"""The survey adapter contract: one small class per survey maps its packets to the canonical view."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

from fink_like.errors import AlertError
from fink_like.surveys.photometry import valid_mjd


CUTOUT_NAMES = frozenset({"cutoutScience", "cutoutTemplate", "cutoutDifference"})
"""The alert record's stamp fields (both surveys name them alike, and put them last)."""
CUTOUT_FIELDS = {"alert": CUTOUT_NAMES}
"""The projection that keeps only the stamps."""


class SurveyAdapter(ABC):
    """Decode, encode and map one survey's alert packets.

    Contract
    --------
    * ``decode`` and ``encode`` are inverses: ``decode(encode(r, v)) == r`` for every
      record ``r`` of schema version ``v``.
    * Every failure is an :class:`~fink_like.errors.AlertError` whose ``reason`` is a
      short tag (``truncated``, ``not_avro``, ``unknown_schema_id``, ``missing_field``,
      ``invalid_position``, ``invalid_time``, ``invalid_flux``, ...): the caller turns it
      into a quarantine row, never a crash.
    * Instances are stateless apart from schema caches, so one per process is shared by
      all batches (and is picklable: caches are rebuilt lazily on the executor).
    """

    name: ClassVar[str]
    """Stable survey tag written to the ``survey`` column (``"ztf"``, ``"lsst"``)."""

    def __getstate__(self):  # only caches: they are rebuilt where the adapter is unpickled
        return {}

    def __setstate__(self, state):
        self.__init__()

    @staticmethod
    @abstractmethod
    def sniff(value: bytes) -> bool:
        """Whether ``value`` is framed the way this survey frames its messages."""

    @abstractmethod
    def decode(self, value: bytes) -> dict:
        """The Avro record carried by one Kafka message value."""

    def decode_view(self, value: bytes, fields: dict | None = None) -> dict:
        """Like :meth:`decode`, but may leave out fields that :meth:`to_canonical` does not read.

        The batch decoder uses it: the full packet is kept as bytes anyway, so building
        Python objects for unused history fields is wasted work. The default view keeps
        the stamp fields (:data:`CUTOUT_NAMES`) so that the archive and the distribution
        need not decode the packet again. ``fields`` maps record names to the fields to
        keep.
        """
        return self.decode(value)

    def read_cutouts(self, value: bytes) -> dict[str, bytes]:
        """The stamps of one message, decoding only the alert's cutout fields."""
        return self.cutouts(self.decode_view(value, CUTOUT_FIELDS))

    @abstractmethod
    def schema_version(self, value: bytes, record: dict) -> str:
        """The schema version (``"4.02"``, ``"9.0"``) of a decoded message."""

    @abstractmethod
    def encode(self, record: dict, schema_version: str) -> bytes:
        """One Kafka message value, in the survey's wire format, carrying ``record``."""

    @abstractmethod
    def to_canonical(self, record: dict, schema_version: str | None = None) -> dict:
        """The canonical columns (identity, quality, history, ``night``) of one record.

        Transport columns and ``packet`` are added by the batch decoder.
        """

    @abstractmethod
    def cutouts(self, record: dict) -> dict[str, bytes]:
        """The ``science``/``template``/``difference`` stamps as the survey stores them."""

    @abstractmethod
    def alert_id(self, record: dict) -> int:
        """The alert's unique id (the Kafka message key in the simulator)."""

    def validate(self, row: dict) -> None:
        """Reject canonical rows with impossible values.

        Raises
        ------
        AlertError
            ``invalid_time`` (mjd not finite or outside 1950-2100), ``invalid_position``
            (ra outside [0, 360), dec outside [-90, 90], or not finite), ``invalid_flux``
            (a flux or flux error that is not finite, or a negative flux error).
        """
        if not valid_mjd(row["mjd"]):
            raise AlertError("invalid_time", f"mjd {row['mjd']!r} is not a date between 1950 and 2100")
        ra, dec = row["ra"], row["dec"]
        if not (_finite(ra) and _finite(dec) and 0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
            raise AlertError("invalid_position", f"ra={ra!r} dec={dec!r} is not a sky position")
        flux, fluxerr = row["flux"], row["fluxerr"]
        if flux is not None and not _finite(flux):
            raise AlertError("invalid_flux", f"flux {flux!r} is not finite")
        if fluxerr is not None and not (_finite(fluxerr) and fluxerr >= 0):
            raise AlertError("invalid_flux", f"flux error {fluxerr!r} is not a finite positive number")


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def required(mapping: dict, key: str, where: str):
    """``mapping[key]``, or ``AlertError("missing_field")`` naming ``where.key``."""
    value = mapping.get(key) if mapping is not None else None
    if value is None:
        raise AlertError("missing_field", f"{where}.{key} is missing or null")
    return value


def history_columns(prefix: str, names: tuple[str, ...], points: list) -> dict[str, list]:
    """History points (tuples) turned into one list per ``<prefix>_<name>`` column."""
    if not points:
        return {f"{prefix}_{name}": [] for name in names}
    return {f"{prefix}_{name}": list(values) for name, values in zip(names, zip(*points))}
