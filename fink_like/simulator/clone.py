"""Clone real alerts for load tests: new unique ids, consistent shifts in time and sky.

Variant ``k`` of an object gets one time shift and one sky offset, applied to every
epoch of its history, so a cloned light curve is the original light curve moved: a few
arcseconds on the sky and ``k`` x ``night_step_days`` (+- ``max_shift_days``) in time.
The whole-night step keeps every variant of an object on nights of its own: clones a
few arcseconds and a few hours apart on the same night would look like one moving
object to the solar-system linker, which a real stream never shows. Ids are remapped
consistently within a variant: an id that appears in several alerts (a ZTF ``candid``
repeated in later ``prv_candidates``, a Rubin ``diaObjectId``) maps to the same new id
everywhere in that variant, and never to an id used elsewhere.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass

from fink_like.errors import FinkLikeError


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
        Bounds of the per-object sky offset (great-circle) and of the random part of the
        time shift.
    night_step_days
        Variant ``k``'s time shift is ``k * night_step_days`` plus the random part; with
        ``night_step_days >= 2 * max_shift_days + 1`` no two variants of an object share a
        night (a 24-hour window).
    reserved
        Ids already in use (the originals'), as ``(family, id)`` pairs, never reissued.

    Every random draw (a new object's shift, then each new id in the record's walk order)
    comes from one generator, so variants must be made in order. :meth:`plan` makes
    exactly the draws :meth:`clone` would, without building the record; :meth:`take`
    hands a variant's draws to another process, whose cloner :meth:`put` them and then
    clones that variant with the same result and no draw of its own.
    """

    def __init__(self, survey: str, seed: int = 0, max_shift_arcsec: float = 3.0,
                 max_shift_days: float = 0.5, night_step_days: float = 2.0, reserved: set | None = None):
        self.spec = SPECS[survey]
        self.rng = random.Random(seed)
        self.max_shift_arcsec = max_shift_arcsec
        self.max_shift_days = max_shift_days
        self.night_step_days = night_step_days
        self.used: set = set(reserved or ())
        self._ids: dict[int, dict[tuple, object]] = {}                     # variant -> (kind, old) -> new
        self._shifts: dict[int, dict[object, tuple[float, float, float]]] = {}  # variant -> object -> shift
        self._frozen: set[int] = set()   # variants given by put(): drawing for them is an error

    def reserve(self, record: dict) -> None:
        """Mark every id in an original record as taken."""
        for kind, value in _ids(record, self.spec.id_kinds):
            self.used.add((kind, value))

    def clone(self, record: dict, variant: int) -> dict:
        """Variant ``variant`` (>= 1) of ``record``: a new record, the original untouched."""
        shift = self._shift(variant, self.spec.object_of(record))
        return self._walk(record, self._ids.setdefault(variant, {}), variant, shift)

    def plan(self, record: dict, variant: int, ids: list | None = None) -> None:
        """Make the draws of ``clone(record, variant)`` only (``ids``: ``id_walk(record)``)."""
        self._shift(variant, self.spec.object_of(record))
        table = self._ids.setdefault(variant, {})
        for kind, old in (ids if ids is not None else self.id_walk(record)):
            if (kind, old) not in table:
                self._new_id(table, variant, kind, old)

    def id_walk(self, record: dict) -> list[tuple[str, object]]:
        """The record's ``(family, id)`` pairs in the order :meth:`clone` meets them."""
        return list(_ids(record, self.spec.id_kinds))

    def take(self, variant: int) -> tuple[dict, dict]:
        """Forget variant ``variant`` and return its draws (picklable) for :meth:`put`."""
        return self._ids.pop(variant, {}), self._shifts.pop(variant, {})

    def put(self, variant: int, draws: tuple[dict, dict]) -> None:
        """Clone variant ``variant`` with another cloner's draws (from :meth:`take`)."""
        self._ids[variant], self._shifts[variant] = draws
        self._frozen.add(variant)

    def _shift(self, variant: int, obj) -> tuple[float, float, float]:
        shifts = self._shifts.setdefault(variant, {})
        shift = shifts.get(obj)
        if shift is None:
            self._check(variant)
            angle = self.rng.uniform(0.0, 2.0 * math.pi)
            radius = self.max_shift_arcsec * math.sqrt(self.rng.random())
            days = variant * self.night_step_days + self.rng.uniform(-self.max_shift_days, self.max_shift_days)
            shift = shifts[obj] = (days,
                                   radius * math.cos(angle) / 3600.0, radius * math.sin(angle) / 3600.0)
        return shift

    def _walk(self, node, table: dict, variant: int, shift):
        if isinstance(node, list):
            return [self._walk(item, table, variant, shift) for item in node]
        if not isinstance(node, dict):
            return node
        spec = self.spec
        id_kinds, time_fields = spec.id_kinds, spec.time_fields
        out = {}
        for name, value in node.items():
            if isinstance(value, (dict, list)):
                out[name] = self._walk(value, table, variant, shift)
            elif value and name in id_kinds:
                kind = id_kinds[name]
                new = table.get((kind, value))
                out[name] = new if new is not None else self._new_id(table, variant, kind, value)
            elif value is not None and name in time_fields:
                out[name] = value + shift[0]
            else:
                out[name] = value
        for ra_name, dec_name in spec.positions:
            if out.get(ra_name) is not None and out.get(dec_name) is not None:
                out[ra_name], out[dec_name] = offset_position(out[ra_name], out[dec_name], shift[1], shift[2])
        return out

    def _new_id(self, table: dict, variant: int, kind: str, old):
        self._check(variant)
        new = None
        while new is None or (kind, new) in self.used:
            new = self._draw(kind, old)
        self.used.add((kind, new))
        table[(kind, old)] = new
        return new

    def _check(self, variant: int) -> None:
        if variant in self._frozen:
            raise FinkLikeError(f"variant {variant} was planned elsewhere and lacks a draw: "
                                "plan() and clone() disagree on the record")

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
