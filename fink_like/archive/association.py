"""ZTF x Rubin association: alerts of the two surveys within a radius share one group.

Table ``<archive.table_prefix>_groups``, family ``g``::

    m/OBJECT            g:group, g:survey, g:latest (JSON of the object's newest values)
    p/SURVEY/PIX/OBJECT position index (HEALPix nested, order 14, ~13" cells)
    g/GROUP/OBJECT      membership, so a group lists its objects

An object is looked up once, when it first appears: the position index of the *other*
survey is scanned in its cell and the 8 around it (cells are larger than the radius),
and the object joins the group of its nearest counterpart within
``archive.association_radius_arcsec`` (1.5" by default), or founds its own group
(``survey:object``). Writes are upserts keyed by object, so a replayed batch changes
nothing. Filters read the counterpart's newest values as ``other_*`` columns
(:func:`other_columns`), as archived up to the previous micro-batch.
"""

from __future__ import annotations

import json

import healpy as hp
import numpy as np
import pyarrow as pa

from fink_like.sky import pairs_within

TABLE = "groups"
FAMILY = "g"
ORDER = 14
LATEST = {"object_id": pa.string(), "survey": pa.string(), "alert_id": pa.int64(), "mjd": pa.float64(),
          "mag": pa.float64(), "band": pa.string(), "ra": pa.float64(), "dec": pa.float64(),
          "ndethist": pa.int64()}
OTHER_FIELDS = [pa.field(f"other_{name}", kind) for name, kind in LATEST.items()]
"""The columns a filter can read about the other survey's counterpart (null without one)."""


class Associator:
    """Links objects of a batch to their other-survey counterparts; reads groups back.

    Parameters
    ----------
    backend
        An open archive backend (the table is created).
    prefix, radius_arcsec
        ``archive.table_prefix`` and ``archive.association_radius_arcsec``.
    """

    def __init__(self, backend, prefix: str, radius_arcsec: float = 1.5):
        self.backend, self.radius = backend, float(radius_arcsec)
        self.table = f"{prefix}_{TABLE}"
        backend.create_tables({self.table: (FAMILY,)})

    def update(self, table: pa.Table) -> int:
        """Record the newest values of each object of ``table``, linking new ones; returns links made."""
        latest = _newest_per_object(table)
        if not latest:
            return 0
        known = {k[2:].decode(): c for k, c in self.backend.get_many(self.table, [_m(o) for o in latest])}
        new = [oid for oid in latest if oid not in known]
        cells = _cells([latest[oid] for oid in new])
        archived = self._archived_near(new, latest, cells)
        rows, links = [], 0
        # (survey, cell) -> (order, values, group) of the objects new in this batch so far
        fresh: dict[tuple[str, int], list[tuple[int, dict, str]]] = {}
        for order, (oid, values) in enumerate(latest.items()):
            cells_of = cells.get(oid)
            if cells_of is None:
                old = json.loads(known[oid][b"g:latest"])
                if old["mjd"] >= values["mjd"]:
                    continue
                group = known[oid][b"g:group"].decode()
            else:
                group, linked = self._group_for(values, cells_of, archived, fresh)
                fresh.setdefault((values["survey"], cells_of[0]), []).append((order, values, group))
                links += linked
                rows.append((_p(values, cells_of[0]), {b"g:object": oid.encode()}))
                rows.append((f"g/{group}/{oid}".encode(), {b"g:survey": values["survey"].encode()}))
            rows.append((_m(oid), {b"g:group": group.encode(), b"g:survey": values["survey"].encode(),
                                   b"g:latest": json.dumps(values).encode()}))
        self.backend.put_many(self.table, rows)
        return links

    def _archived_near(self, new: list[str], latest: dict, cells: dict) -> dict[tuple[str, int], list]:
        """``(survey, cell) -> [(values, group)]`` of archived objects in the cells around the
        new objects, of the other survey; every cell is scanned once, all its objects read at once."""
        wanted = sorted({(_other(latest[oid]["survey"]), cell) for oid in new for cell in cells[oid]})
        prefixes = [_cell_prefix(survey, cell) for survey, cell in wanted]
        in_cell = {key: [c[b"g:object"].decode() for _, c in rows]
                   for key, rows in zip(wanted, self.backend.scan_prefixes(self.table, prefixes))}
        found = {k[2:].decode(): (json.loads(c[b"g:latest"]), c[b"g:group"].decode()) for k, c in
                 self.backend.get_many(self.table, [_m(o) for objs in in_cell.values() for o in objs])}
        return {key: [found[o] for o in objs if o in found] for key, objs in in_cell.items()}

    def _group_for(self, values: dict, cells: list[int], archived: dict, fresh: dict) -> tuple[str, int]:
        """The group of the nearest other-survey object within the radius, archived or new
        earlier in this batch, with the cells scanned in order; else a group of its own."""
        other = _other(values["survey"])
        candidates = [vg for cell in sorted(set(cells)) for vg in archived.get((other, cell), ())]
        candidates += [(v, g) for _, v, g in sorted(x for cell in set(cells) for x in fresh.get((other, cell), ()))]
        pairs = pairs_within([values["ra"]], [values["dec"]], [v["ra"] for v, _ in candidates],
                             [v["dec"] for v, _ in candidates], self.radius)
        if not pairs:
            return f"{values['survey']}:{values['object_id']}", 0
        return candidates[min(pairs, key=lambda p: p[2])[1]][1], 1

    def group(self, object_id: str) -> dict | None:
        """``{"group", "members": [{"object_id", "survey", "latest"}]}`` of an object, or None."""
        cells = self.backend.get(self.table, _m(object_id))
        if cells is None:
            return None
        group = cells[b"g:group"].decode()
        members = [k.decode().rsplit("/", 1)[1] for k, _ in
                   self.backend.scan_prefix(self.table, f"g/{group}/".encode())]
        rows = self.backend.get_many(self.table, [_m(m) for m in members])
        return {"group": group, "members": [
            {"object_id": k[2:].decode(), "survey": c[b"g:survey"].decode(), "latest": json.loads(c[b"g:latest"])}
            for k, c in rows]}

    def other_columns(self, table: pa.Table) -> pa.Table:
        """``table`` with the :data:`OTHER_FIELDS` of each alert's other-survey counterpart."""
        values = {f.name: [None] * table.num_rows for f in OTHER_FIELDS}
        cache: dict[str, dict | None] = {}
        for i, (oid, survey) in enumerate(zip(table["object_id"].to_pylist(), table["survey"].to_pylist())):
            if oid not in cache:
                cache[oid] = self._counterpart(oid, survey)
            for name, value in (cache[oid] or {}).items():
                values[f"other_{name}"][i] = value
        for f in OTHER_FIELDS:
            column = pa.array(values[f.name], type=f.type)
            index = table.schema.get_field_index(f.name)
            table = table.set_column(index, f, column) if index >= 0 else table.append_column(f, column)
        return table

    def _counterpart(self, object_id: str, survey: str) -> dict | None:
        group = self.group(object_id)
        if group is None:
            return None
        others = [m["latest"] for m in group["members"] if m["survey"] != survey]
        return max(others, key=lambda v: v["mjd"]) if others else None


def _m(object_id: str) -> bytes:
    return f"m/{object_id}".encode()


def _cell_prefix(survey: str, cell: int) -> bytes:
    """Key prefix of one survey's objects in one cell of the position index."""
    return f"p/{survey}/{cell:012d}/".encode()


def _p(values: dict, cell: int) -> bytes:
    return _cell_prefix(values["survey"], cell) + values["object_id"].encode()


def _other(survey: str) -> str:
    return "lsst" if survey == "ztf" else "ztf"


def _cells(objects: list[dict]) -> dict[str, list[int]]:
    """``object_id -> [its cell, then the cells around it]`` (HEALPix nested, :data:`ORDER`)."""
    if not objects:
        return {}
    nside = 2**ORDER
    centre = hp.ang2pix(nside, [o["ra"] for o in objects], [o["dec"] for o in objects], nest=True, lonlat=True)
    around = hp.get_all_neighbours(nside, centre, nest=True)  # (8, n), -1 where a cell has fewer
    return {o["object_id"]: [int(centre[i])] + [int(c) for c in around[:, i] if c >= 0]
            for i, o in enumerate(objects)}


def _newest_per_object(table: pa.Table) -> dict[str, dict]:
    if table.num_rows == 0:
        return {}
    columns = {name: table[name].to_pylist() if name in table.column_names else [None] * table.num_rows
               for name in LATEST}
    out: dict[str, dict] = {}
    for i in np.argsort(np.asarray(columns["mjd"], dtype=float), kind="stable"):
        row = {name: _plain(columns[name][i]) for name in LATEST}
        out[row["object_id"]] = row  # in time order: the newest stays
    return out


def _plain(value):
    if isinstance(value, float) and value != value:
        return None
    return value
