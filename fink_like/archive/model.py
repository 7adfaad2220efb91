"""The archive's data model, defined once: HBase tables, row keys, column families, values.

Every table is named ``<settings.archive.table_prefix>_<name>``. Keys are ASCII so that
they read well in the HBase shell and sort correctly as bytes (docs/archive.md):

========== ==================================================== ==================
table      row key                                              families
========== ==================================================== ==================
alerts     ``objectId_mjd_alertId``                             ``s`` ``b`` ``a``
pixel      ``pixel_objectId_mjd_alertId`` (HEALPix nested)      ``i``
class      ``class_invmjd_objectId_alertId``                    ``i``
time       ``invmjd_objectId_alertId``                          ``i``
source     ``sourceId_survey``                                  ``i``
cutouts    ``alertId``                                          ``c``
upperlim   ``objectId_mjd_band``                                ``u``
sso        ``designation_mjd_objectId_mjd_alertId`` (time order)``i``
events     ``eventId`` (multi-messenger events, fink_like.mm)   ``e``
matches    ``eventId_alertId`` (alerts matched to an event)     ``m``
labels     ``objectId_utcTime_user``: every annotation (audit)  ``l``
users      ``userName``                                         ``u``
tokens     ``sha256(token)`` (hex): who holds the token         ``t``
========== ==================================================== ==================

``mjd`` is written ``%012.6f`` (``60123.123456``: fixed width, so byte order is time
order for 0 <= MJD < 100000, micro-day resolution ~0.09 s) and ``invmjd`` is
``100000 - mjd`` in the same format, so the newest rows come first. Ids are zero-padded
to 19 digits. The suffix of every index key after its first field is the main row key.
"""

from __future__ import annotations

import re

from fink_like.errors import ArchiveError

NSIDE = 128
"""HEALPix resolution of the cone index (nested scheme): pixels of ~27.5 arcmin."""

TABLES = {
    "alerts": ("s", "b", "a"),
    "pixel": ("i",),
    "class": ("i",),
    "time": ("i",),
    "source": ("i",),
    "cutouts": ("c",),
    "upperlim": ("u",),
    "sso": ("i",),
    "events": ("e",),
    "matches": ("m",),
    "labels": ("l",),
    "users": ("u",),
    "tokens": ("t",),
}
"""Each table's column families."""

CUTOUT_KINDS = ("science", "template", "difference")
MJD_MAX = 100000.0
_MICRO = 1_000_000
_OBJECT_ID = re.compile(r"^[A-Za-z0-9.+\-]{1,64}$")

# Classification rule, first match wins (docs/archive.md): known catalogue sources
# before machine-learned scores, because a catalogue match is an identification.
CLASS_RULES = (
    ("Solar System object", lambda r: r.get("sso_class") == "known_sso"),
    ("Known variable star", lambda r: _matched(r, "vsx") or _matched(r, "gcvs")),
    ("Young stellar object", lambda r: _matched(r, "spicy")),
    ("Blazar", lambda r: _matched(r, "4lac") or _matched(r, "3hsp")),
    ("SN Ia candidate", lambda r: _above(r, "snia_prob") or _above(r, "bnn_snia_mean")),
    ("Microlensing candidate", lambda r: _above(r, "mulens_prob")),
    ("Galaxy-hosted transient", lambda r: _matched(r, "mangrove")),
)
CLASS_COLUMNS = ("sso_class", "xm_vsx_name", "xm_gcvs_name", "xm_spicy_name", "xm_4lac_name", "xm_3hsp_name",
                 "snia_prob", "bnn_snia_mean", "mulens_prob", "xm_mangrove_name")
"""Every column :data:`CLASS_RULES` reads: :func:`classify` needs a row of these only."""
CLASS_THRESHOLD = 0.5
UNKNOWN_CLASS = "Unclassified"
CLASSES = tuple(name for name, _ in CLASS_RULES) + (UNKNOWN_CLASS,)


def _matched(row: dict, catalog: str) -> bool:
    return row.get(f"xm_{catalog}_name") not in (None, "", "Unknown")


def _above(row: dict, column: str) -> bool:
    value = row.get(column)
    return value is not None and value == value and value > CLASS_THRESHOLD


def classify(row: dict) -> str:
    """The archive class of one enriched alert (a dict of its columns).

    Examples
    --------
    >>> classify({"snia_prob": 0.9, "xm_vsx_name": None})
    'SN Ia candidate'
    >>> classify({"snia_prob": 0.9, "xm_vsx_name": "V* AB Cet"})
    'Known variable star'
    >>> classify({})
    'Unclassified'
    """
    for name, rule in CLASS_RULES:
        if rule(row):
            return name
    return UNKNOWN_CLASS


def table_name(prefix: str, table: str) -> str:
    """The full name of one archive table, e.g. ``fink_like_alerts``."""
    if table not in TABLES:
        raise ArchiveError(f"unknown archive table {table!r}; known: {', '.join(TABLES)}")
    return f"{prefix}_{table}"


def _micro_days(mjd: float) -> int:
    micro = round(float(mjd) * _MICRO)
    if not (0 < micro < int(MJD_MAX) * _MICRO):
        raise ArchiveError(f"mjd {mjd!r} is outside (0, {MJD_MAX:.0f}): cannot build a row key")
    return micro


def _fixed(micro: int) -> str:
    text = f"{micro:011d}"
    return text[:-6] + "." + text[-6:]


def encode_mjd(mjd: float) -> str:
    """Fixed-width, byte-sortable MJD.

    Examples
    --------
    >>> encode_mjd(60123.5)
    '60123.500000'
    """
    return _fixed(_micro_days(mjd))


def encode_invmjd(mjd: float) -> str:
    """``100000 - mjd`` in the format of :func:`encode_mjd`: the newest sorts first.

    Examples
    --------
    >>> encode_invmjd(60123.5)
    '39876.500000'
    """
    return _fixed(int(MJD_MAX) * _MICRO - _micro_days(mjd))


def encode_id(value: int, what: str = "alert_id") -> str:
    """Zero-padded, non-negative 64-bit id."""
    if value is None or value < 0:
        raise ArchiveError(f"{what} {value!r} must be a non-negative integer to build a row key")
    return f"{int(value):019d}"


def check_object_id(object_id: str) -> str:
    """Object ids become key prefixes: refuse the separator ``_`` and odd characters."""
    if not isinstance(object_id, str) or not _OBJECT_ID.match(object_id):
        raise ArchiveError(
            f"object id {object_id!r} cannot be archived: use 1-64 letters, digits, '.', '+', '-'"
        )
    return object_id


def main_key(object_id: str, mjd: float, alert_id: int) -> bytes:
    """``objectId_mjd_alertId``: a prefix scan on ``objectId_`` is the light curve in time order."""
    return f"{check_object_id(object_id)}_{encode_mjd(mjd)}_{encode_id(alert_id)}".encode()


def object_prefix(object_id: str) -> bytes:
    """The key prefix of every main row of one object."""
    return f"{check_object_id(object_id)}_".encode()


def pixel_key(pixel: int, main: bytes) -> bytes:
    return f"{pixel:06d}_".encode() + main


def pixel_prefix(pixel: int) -> bytes:
    return f"{pixel:06d}_".encode()


def class_prefix(name: str) -> bytes:
    return f"{name}_".encode()


def class_key(name: str, object_id: str, mjd: float, alert_id: int) -> bytes:
    return f"{name}_{encode_invmjd(mjd)}_{object_id}_{encode_id(alert_id)}".encode()


def time_key(object_id: str, mjd: float, alert_id: int) -> bytes:
    return f"{encode_invmjd(mjd)}_{object_id}_{encode_id(alert_id)}".encode()


def source_key(source_id: int, survey: str) -> bytes:
    return f"{encode_id(source_id, 'source_id')}_{survey}".encode()


def cutout_key(alert_id: int) -> bytes:
    return encode_id(alert_id).encode()


def designation(name: str) -> str:
    """A solar-system designation as the ``sso`` index spells it: no spaces, ``_`` as ``-``.

    Examples
    --------
    >>> designation(" 2009 PB15 ")
    '2009PB15'
    """
    text = "".join(str(name).split()).replace("_", "-")
    if not text or len(text) > 64:
        raise ArchiveError(f"designation {name!r} must have 1-64 characters")
    return text


def sso_prefix(name: str) -> bytes:
    return f"{designation(name)}_".encode()


def sso_key(name: str, mjd: float, main: bytes) -> bytes:
    """``designation_mjd_`` + the main key: a prefix scan is the object's detections in time order."""
    return sso_prefix(name) + f"{encode_mjd(mjd)}_".encode() + main
def label_key(object_id: str, utc_time: str, user: str) -> bytes:
    """``objectId_2026-12-01T00:52:03.123456Z_user``: an object's annotations in time order."""
    return f"{check_object_id(object_id)}_{utc_time}_{user}".encode()


def upper_limit_key(object_id: str, mjd: float, band: str) -> bytes:
    return f"{object_id}_{encode_mjd(mjd)}_{band}".encode()
