"""Clone real alerts for load tests: new unique ids, small consistent shifts in time and sky.

Variant ``k`` of an object gets one time shift and one sky offset, applied to every
epoch of its history, so a cloned light curve is the original light curve moved a
little. Ids are remapped consistently within a variant: an id that appears in several
alerts (a ZTF ``candid`` repeated in later ``prv_candidates``, a Rubin ``diaObjectId``)
maps to the same new id everywhere in that variant, and never to an id used elsewhere.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class CloneSpec:
    """Which fields of a survey's record are ids, times and positions."""

    id_kinds: dict[str, str]                     # field -> id family
    time_fields: frozenset[str]
    positions: tuple[tuple[str, str], ...]       # (ra field, dec field) pairs in one record
    object_paths: tuple[tuple[str, ...], ...]    # where the object id is; first non-null wins

    def object_of(self, record: dict):
        """The object an alert belongs to (its clones share one shift)."""
        for path in self.object_paths:
            node = record
            for name in path:
                node = node.get(name) if isinstance(node, dict) else None
            if node:
                return node
        return None


SPECS = {
    "ztf": CloneSpec(
        id_kinds={"candid": "candid", "objectId": "objectId"},
        time_fields=frozenset({"jd", "jdstarthist", "jdendhist"}),
        positions=(("ra", "dec"),),
        object_paths=(("objectId",),),
    ),
    "lsst": CloneSpec(
        id_kinds={
            "alertId": "source", "diaSourceId": "source", "parentDiaSourceId": "source",
            "diaObjectId": "object", "diaForcedSourceId": "forced", "ssObjectId": "ss",
        },
        time_fields=frozenset({
            "midpointMjdTai", "firstDiaSourceMjdTai", "lastDiaSourceMjdTai", "radecMjdTai",
        }),
        positions=(("ra", "dec"), ("psfRa", "psfDec"), ("trailRa", "trailDec"), ("dipoleRa", "dipoleDec")),
        object_paths=(("diaSource", "diaObjectId"), ("diaSource", "ssObjectId")),
    ),
}


class Cloner:
    """Makes variants of alert records of one survey.

    Parameters
    ----------
    survey
        ``"ztf"`` or ``"lsst"``.
    seed
        Seed of the random ids and shifts: the same seed gives the same clones.
    max_shift_arcsec, max_shift_days
        Bounds of the per-object sky offset (great-circle) and time shift.
    reserved
        Ids already in use (the originals'), as ``(family, id)`` pairs, never reissued.
    """

    def __init__(self, survey: str, seed: int = 0, max_shift_arcsec: float = 3.0,
                 max_shift_days: float = 0.5, reserved: set | None = None):
        self.spec = SPECS[survey]
        self.rng = random.Random(seed)
        self.max_shift_arcsec = max_shift_arcsec
        self.max_shift_days = max_shift_days
        self.used: set = set(reserved or ())
        self._ids: dict[tuple, object] = {}
        self._shifts: dict[tuple, tuple[float, float, float]] = {}

    def reserve(self, record: dict) -> None:
        """Mark every id in an original record as taken."""
        for kind, value in _ids(record, self.spec.id_kinds):
            self.used.add((kind, value))

    def clone(self, record: dict, variant: int) -> dict:
        """Variant ``variant`` (>= 1) of ``record``: a new record, the original untouched."""
        key = (variant, self.spec.object_of(record))
        if key not in self._shifts:
            angle = self.rng.uniform(0.0, 2.0 * math.pi)
            radius = self.max_shift_arcsec * math.sqrt(self.rng.random())
            self._shifts[key] = (self.rng.uniform(-self.max_shift_days, self.max_shift_days),
                                 radius * math.cos(angle) / 3600.0, radius * math.sin(angle) / 3600.0)
        return self._walk(record, variant, self._shifts[key])

    def _walk(self, node, variant: int, shift):
        if isinstance(node, list):
            return [self._walk(item, variant, shift) for item in node]
        if not isinstance(node, dict):
            return node
        spec = self.spec
        out = {}
        for name, value in node.items():
            if isinstance(value, (dict, list)):
                out[name] = self._walk(value, variant, shift)
            elif value and name in spec.id_kinds:
                out[name] = self._new_id(variant, spec.id_kinds[name], value)
            elif value is not None and name in spec.time_fields:
                out[name] = value + shift[0]
            else:
                out[name] = value
        for ra_name, dec_name in spec.positions:
            if out.get(ra_name) is not None and out.get(dec_name) is not None:
                out[ra_name], out[dec_name] = offset_position(out[ra_name], out[dec_name], shift[1], shift[2])
        return out

    def _new_id(self, variant: int, kind: str, old):
        key = (variant, kind, old)
        new = self._ids.get(key)
        if new is None:
            while new is None or (kind, new) in self.used:
                new = self._draw(kind, old)
            self.used.add((kind, new))
            self._ids[key] = new
        return new

    def _draw(self, kind: str, old):
        if kind == "objectId":  # ZTF names: "ZTF" + two-digit year + 7 lowercase letters
            return old[:5] + "".join(self.rng.choices(string.ascii_lowercase, k=7))
        if kind == "candid":
            return self.rng.randrange(10**18, 2**63 - 1)
        return self.rng.randrange(1, 2**62)


def offset_position(ra: float, dec: float, east_deg: float, north_deg: float) -> tuple[float, float]:
    """Move a position by small tangent-plane offsets; dec stays in range and ra wraps to [0, 360)."""
    new_dec = dec + north_deg
    if not -90.0 <= new_dec <= 90.0:
        new_dec = dec - north_deg
    cos_dec = max(math.cos(math.radians(new_dec)), 1e-9)
    new_ra = (ra + east_deg / cos_dec) % 360.0
    return (0.0 if new_ra >= 360.0 else new_ra), new_dec


def _ids(node, id_kinds):
    if isinstance(node, list):
        for item in node:
            yield from _ids(item, id_kinds)
    elif isinstance(node, dict):
        for name, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _ids(value, id_kinds)
            elif value and name in id_kinds:
                yield id_kinds[name], value
