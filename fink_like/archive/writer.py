"""One writer from the enriched alert table to the HBase-shaped archive.

Writes are idempotent upserts: the row keys depend only on the alert (object id, time,
alert id), so a retried or replayed batch rewrites the same rows and adds none. Order
of writes: cutouts and upper limits, then main rows, then the indexes, so an index
entry always points to an existing main row even if a write is cut short (a replay
then completes it).
"""

from __future__ import annotations

import logging

import healpy as hp
import numpy as np
import pyarrow as pa

from fink_like.archive import codec, model
from fink_like.archive.backends import LazyBackend
from fink_like.errors import ArchiveBusy, ArchiveError, FinkLikeError
from fink_like.retry import retry

log = logging.getLogger(__name__)
REQUIRED = ("survey", "alert_id", "object_id", "source_id", "mjd", "ra", "dec")


class ArchiveWriter(LazyBackend):
    """Writes enriched alert tables into the archive named by ``settings.archive``.

    Picklable (for Spark executors): the backend is opened on first use in each process.

    Examples
    --------
    >>> writer = ArchiveWriter(settings)          # doctest: +SKIP
    >>> writer.write(enriched_table)              # doctest: +SKIP
    120
    """

    def write(self, table: pa.Table | pa.RecordBatch, stamps: list[dict] | None = None) -> int:
        """Upsert every alert of ``table`` with its index entries; return the number of alerts.

        ``stamps`` (optional, one entry per row) are the packets' stamp fields as the
        decoder left them (:class:`fink_like.surveys.Decoded`); without them each
        packet's stamps are read from its bytes.
        """
        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        missing = [c for c in REQUIRED if c not in table.column_names]
        if missing:
            raise ArchiveError(f"cannot archive: the alert table lacks column(s) {', '.join(missing)}")
        if table.num_rows == 0:
            return 0
        if stamps is not None and len(stamps) != table.num_rows:
            raise ArchiveError(f"{len(stamps)} stamp entries for {table.num_rows} alerts")
        rows = build_rows(table, stamps)
        # Cutouts and upper limits first, the main row next, index rows last: a reader
        # that finds an index entry finds its row (the embedded store writes it all at once).
        order = ("cutouts", "upperlim", "alerts", "pixel", "class", "time", "source", "sso")
        size = self.settings.archive.batch_size
        batches = [(self.table(which), rows[which][start:start + size])
                   for which in order for start in range(0, len(rows[which]), size)]
        # Upserts are idempotent, so a write refused by a busy archive is simply repeated.
        retry(lambda: self.backend.put_tables(batches), "archive write", transient=(ArchiveBusy,))
        return table.num_rows

    def table(self, which: str) -> str:
        return model.table_name(self.settings.archive.table_prefix, which)


def build_rows(table: pa.Table, stamps: list[dict] | None = None) -> dict[str, list]:
    """Every archive row of an alert table, by archive table name (without prefix)."""
    columns = [c for c in table.column_names if c not in codec.NOT_IN_MAIN]
    values = {c: codec.python_values(table, c) for c in columns}
    encoded = {c: codec.encode_column(values[c]) for c in columns}
    qualifiers = {c: codec.qualifier(c) for c in columns}
    n = table.num_rows
    for column in REQUIRED:
        if any(v is None for v in values[column]):
            raise ArchiveError(f"cannot archive: column {column} has null values")
    ra = np.asarray(values["ra"], dtype=float)
    dec = np.asarray(values["dec"], dtype=float)
    bad = ~((dec >= -90) & (dec <= 90) & np.isfinite(ra))
    if bad.any():
        raise ArchiveError(f"cannot archive alert {values['alert_id'][int(np.argmax(bad))]}: bad ra/dec")
    pixels = hp.ang2pix(model.NSIDE, ra % 360.0, dec, nest=True, lonlat=True)
    class_columns = [c for c in model.CLASS_COLUMNS if c in values]
    out = {t: [] for t in model.TABLES}
    for i in range(n):
        oid, mjd, aid = values["object_id"][i], values["mjd"][i], values["alert_id"][i]
        key = model.main_key(oid, mjd, aid)
        cells = {qualifiers[c]: encoded[c][i] for c in columns if encoded[c][i] is not None}
        label = model.classify({c: values[c][i] for c in class_columns})
        cells[b"a:class"] = codec.encode_value(label)
        out["alerts"].append((key, cells))
        pointer = {b"i:key": key}
        out["pixel"].append((model.pixel_key(int(pixels[i]), key), {
            b"i:ra": codec.encode_value(float(ra[i])), b"i:dec": codec.encode_value(float(dec[i])),
            b"i:mjd": codec.encode_value(mjd)}))
        out["class"].append((model.class_key(label, oid, mjd, aid), pointer))
        out["time"].append((model.time_key(oid, mjd, aid), pointer))
        out["source"].append((model.source_key(values["source_id"][i], values["survey"][i]), pointer))
        name = values["ssnamenr"][i] if "ssnamenr" in values else None
        if name:
            out["sso"].append((model.sso_key(name, mjd, key), pointer))
    out["upperlim"] = _upper_limits(table, values["object_id"])
    out["cutouts"] = _cutouts(table, values["alert_id"], stamps)
    return out


def _upper_limits(table: pa.Table, object_ids: list) -> list:
    if "ul_mjd" not in table.column_names:
        return []
    rows = {}
    lists = [table.column(c).to_pylist() for c in codec.UPPER_LIMIT_COLUMNS]
    for oid, mjds, bands, maglims in zip(object_ids, *lists):
        for mjd, band, maglim in zip(mjds or (), bands or (), maglims or ()):
            if mjd is None or band is None:
                continue
            cells = {b"u:mjd": codec.encode_value(mjd), b"u:band": codec.encode_value(band)}
            if maglim is not None:
                cells[b"u:maglim"] = codec.encode_value(maglim)
            rows[model.upper_limit_key(oid, mjd, band)] = cells
    return sorted(rows.items())


def _cutouts(table: pa.Table, alert_ids: list, stamps: list[dict] | None) -> list:
    """Gzipped FITS stamps, from the decoder's ``stamps`` or read from each packet."""
    from fink_like.surveys.batch import adapter_for

    if stamps is None and "packet" not in table.column_names:
        return []
    if stamps is not None:
        surveys = table.column("survey").to_pylist()
        found = ((aid, adapter_for(survey).cutouts(fields)) for aid, survey, fields in zip(alert_ids, surveys, stamps))
    else:
        found = ((aid, _read_stamps(aid, packet)) for aid, packet in zip(alert_ids, table.column("packet").to_pylist()))
    rows = []
    for aid, found_stamps in found:
        cells = {f"c:{kind}".encode(): found_stamps[kind] for kind in model.CUTOUT_KINDS if found_stamps.get(kind)}
        if cells:
            rows.append((model.cutout_key(aid), cells))
    return rows


def _read_stamps(aid, packet: bytes | None) -> dict[str, bytes]:
    from fink_like.surveys.batch import sniff

    if not packet:
        return {}  # hand-made or stripped rows carry no stamps
    try:
        return sniff(packet).read_cutouts(packet)
    except FinkLikeError as exc:
        raise ArchiveError(f"cannot read the cutouts of alert {aid}: {exc}") from exc
