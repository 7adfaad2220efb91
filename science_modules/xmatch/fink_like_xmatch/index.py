"""A HEALPix index of a catalogue on disk: sorted coordinates, per-pixel offsets, labels.

Layout of one index folder (``<cache_dir>/<catalogue>-<key>/``, where the key is the
sha256 of the catalogue files and of the columns read)::

    coords.npy    float64 (N, 2) ra, dec in degrees, sorted by NESTED pixel
    offsets.npy   int64 (npix + 1): rows of pixel p are coords[offsets[p]:offsets[p+1]]
    labels.arrow  Arrow IPC file, same order: row, name, class, extra columns
    meta.json     nside, rows, source files

Everything is memory-mapped when opened, so a process touches only the pages of the
pixels it looks up: resident memory stays bounded by the sky area of the alerts, not
by the catalogue's size. A lookup takes the alert's pixel and its 8 neighbours (the
pixels are at least four times wider than the radius), gathers those rows, computes
exact separations and keeps the nearest within the radius.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import healpy as hp
import numpy as np
import pyarrow as pa

from fink_like.errors import PluginError
from fink_like_xmatch.catalogs import CatalogSpec, read_catalog

FORMAT = "2"
TARGET_PER_PIXEL = 1
MIN_NSIDE, MAX_NSIDE = 16, 4096


def choose_nside(rows: int, radius_arcsec: float) -> int:
    """Finest nside with ~TARGET_PER_PIXEL rows per pixel whose pixels stay >> the radius."""
    nside = MIN_NSIDE
    while (nside < MAX_NSIDE and rows / hp.nside2npix(nside) > TARGET_PER_PIXEL
           and neighbours_suffice(2 * nside, radius_arcsec)):
        nside *= 2
    return nside


def neighbours_suffice(nside: int, radius_arcsec: float) -> bool:
    """True when a disc of this radius never reaches beyond a pixel's 8 neighbours."""
    return np.radians(radius_arcsec / 3600.0) <= hp.nside2resol(nside) / 4.0


def cache_key(spec: CatalogSpec) -> str:
    """sha256 of the catalogue files' bytes and of how they are read."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for path in spec.paths:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    reading = {k: v for k, v in asdict(spec).items() if k not in ("name", "paths", "radius_arcsec")}
    digest.update(json.dumps(reading, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class HealpixIndex:
    """A built index, memory-mapped. Build (or reuse) one with :meth:`open`."""

    def __init__(self, folder: Path):
        meta = json.loads((folder / "meta.json").read_text())
        self.folder = folder
        self.nside = int(meta["nside"])
        self.rows = int(meta["rows"])
        self.coords = np.load(folder / "coords.npy", mmap_mode="r")
        self.offsets = np.load(folder / "offsets.npy", mmap_mode="r")
        reader = pa.ipc.open_file(pa.memory_map(str(folder / "labels.arrow")))
        self.labels = reader.read_all()
        self.key = ""

    @classmethod
    def open(cls, spec: CatalogSpec, cache_dir: str | Path) -> "HealpixIndex":
        """The index of ``spec``, built into ``cache_dir`` first if it is not there."""
        missing = [p for p in spec.paths if not Path(p).is_file()]
        if missing:
            raise PluginError(f"xmatch catalogue {spec.name!r}: file not found: {', '.join(missing)}")
        try:
            key = cache_key(spec)
        except OSError as exc:
            raise PluginError(f"xmatch catalogue {spec.name!r}: cannot read {exc.filename}: {exc}") from exc
        folder = Path(cache_dir) / f"{spec.name}-{key[:20]}"
        if not (folder / "meta.json").is_file():
            build(spec, folder)
        index = cls(folder)
        index.key = key
        return index

    def match(self, ra: np.ndarray, dec: np.ndarray, radius_arcsec: float):
        """Nearest catalogue row within the radius of each position.

        Returns
        -------
        positions : int64 array
            Row in the index order (``self.labels``), -1 where nothing is within radius.
        separations : float64 array
            Arcseconds to that row, NaN where there is none.
        """
        ra = np.asarray(ra, dtype=np.float64)
        dec = np.asarray(dec, dtype=np.float64)
        n = len(ra)
        positions = np.full(n, -1, dtype=np.int64)
        separations = np.full(n, np.nan)
        valid = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90))
        if len(valid) == 0 or self.rows == 0:
            return positions, separations
        alert, cand = self._candidates(ra[valid], dec[valid], radius_arcsec)
        if len(cand) == 0:
            return positions, separations
        rows = np.asarray(self.coords[cand])  # reads only the touched pages
        sep = separation_arcsec(ra[valid][alert], dec[valid][alert], rows[:, 0], rows[:, 1])
        inside = sep <= radius_arcsec
        alert, cand, sep = alert[inside], cand[inside], sep[inside]
        order = np.lexsort((cand, sep, alert))  # nearest first; ties -> lowest row, deterministic
        first = np.unique(alert[order], return_index=True)[1]
        best = order[first]
        positions[valid[alert[best]]] = cand[best]
        separations[valid[alert[best]]] = sep[best]
        return positions, separations

    def _candidates(self, ra, dec, radius_arcsec):
        """(alert index, catalogue position) pairs for every row in the pixels searched."""
        npix = hp.nside2npix(self.nside)
        if neighbours_suffice(self.nside, radius_arcsec):
            own = hp.ang2pix(self.nside, np.mod(ra, 360.0), dec, nest=True, lonlat=True)
            pix = np.vstack([own[None, :], hp.get_all_neighbours(self.nside, own, nest=True)]).T
            alert = np.repeat(np.arange(len(ra)), pix.shape[1])
            pix = pix.ravel()
        else:  # a radius wider than a quarter pixel: an exact disc query per position
            vecs = hp.ang2vec(np.mod(ra, 360.0), dec, lonlat=True)
            lists = [hp.query_disc(self.nside, v, np.radians(radius_arcsec / 3600.0),
                                   inclusive=True, nest=True) for v in vecs]
            alert = np.repeat(np.arange(len(ra)), [len(p) for p in lists])
            pix = np.concatenate(lists) if lists else np.zeros(0, np.int64)
        keep = pix >= 0  # get_all_neighbours gives -1 where a pixel has only 7 neighbours
        pairs = np.unique(alert[keep].astype(np.int64) * npix + pix[keep])
        alert, pix = pairs // npix, pairs % npix
        start = np.asarray(self.offsets[pix])
        count = np.asarray(self.offsets[pix + 1]) - start
        total = int(count.sum())
        shift = np.repeat(start - (np.cumsum(count) - count), count)
        return np.repeat(alert, count), shift + np.arange(total, dtype=np.int64)


def separation_arcsec(ra1, dec1, ra2, dec2) -> np.ndarray:
    """Great-circle distance in arcsec (haversine: accurate at arcsecond scales)."""
    ra1, dec1, ra2, dec2 = (np.radians(x) for x in (ra1, dec1, ra2, dec2))
    hav = (np.sin((dec2 - dec1) / 2) ** 2
           + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2)
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))) * 3600.0


def build(spec: CatalogSpec, folder: Path) -> None:
    """Read the catalogue and write its index to ``folder`` atomically."""
    ra, dec, labels = read_catalog(spec)
    ok = np.isfinite(ra) & np.isfinite(dec) & (np.abs(dec) <= 90)
    ra, dec, labels = ra[ok], dec[ok], labels.filter(pa.array(ok))
    nside = choose_nside(len(ra), spec.radius_arcsec)
    pix = hp.ang2pix(nside, np.mod(ra, 360.0), dec, nest=True, lonlat=True)
    order = np.argsort(pix, kind="stable")
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "coords.npy", np.column_stack([ra[order], dec[order]]))
    np.save(tmp / "offsets.npy", np.searchsorted(pix[order], np.arange(hp.nside2npix(nside) + 1)).astype(np.int64))
    sorted_labels = labels.take(pa.array(order))
    with pa.OSFile(str(tmp / "labels.arrow"), "wb") as sink, \
            pa.ipc.new_file(sink, sorted_labels.schema) as writer:
        writer.write_table(sorted_labels)
    meta = {"nside": nside, "rows": int(len(ra)), "skipped_rows": int((~ok).sum()),
            "paths": list(spec.paths), "format": FORMAT}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    try:
        os.replace(tmp, folder)
    except OSError:  # another process finished the same index first: use theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / "meta.json").is_file():
            raise
