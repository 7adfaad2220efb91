"""Sky maps carried inside notices: base64 FITS, multi-order (``NUNIQ``) or flat HEALPix.

The LVK alert puts its multi-order FITS file (``UNIQ``, ``PROBDENSITY`` columns,
``ORDERING = NUNIQ``) base64-encoded in ``event.skymap``; unified GCN notices may carry a
HEALPix file in ``healpix_file``. Both may be gzipped. Flat maps (``ORDERING`` ``NESTED``
or ``RING``, a ``PROB`` column of probability per pixel) become single-order cells.
The file is read with astropy; every problem is a :class:`SkyMapError` naming it.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io

import healpy as hp
import numpy as np

from fink_like.errors import FinkLikeError
from fink_like.mm.regions import RegionError, SkyMap

DEFAULT_CREDIBLE = 0.9
_GZIP_MAGIC = b"\x1f\x8b"


class SkyMapError(FinkLikeError):
    """A sky map that cannot be read."""


def read_skymap(payload: str | bytes, credible: float = DEFAULT_CREDIBLE) -> SkyMap:
    """A :class:`SkyMap` from base64 text (or raw FITS bytes), gzipped or not."""
    raw = payload
    if isinstance(payload, str):
        try:
            raw = base64.b64decode(payload.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise SkyMapError(f"sky map is not valid base64: {exc}") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise SkyMapError(f"sky map is not valid gzip: {exc}") from exc
    return _from_fits(raw, credible)


def _from_fits(raw: bytes, credible: float) -> SkyMap:
    from astropy.io import fits

    if not raw.startswith(b"SIMPLE"):
        raise SkyMapError("sky map is not a FITS file (no SIMPLE card)")
    try:
        with fits.open(io.BytesIO(raw), memmap=False) as hdus:
            table = next((h for h in hdus[1:] if isinstance(h, fits.BinTableHDU)), None)
            if table is None:
                raise SkyMapError("sky map FITS has no binary table")
            header, data = table.header, table.data
            names = [n.upper() for n in data.columns.names]
            ordering = str(header.get("ORDERING", "")).upper()
            if "UNIQ" in names and "PROBDENSITY" in names:
                uniq, density = np.array(data["UNIQ"], dtype=np.int64), np.array(data["PROBDENSITY"], dtype=float)
            elif ordering in ("NESTED", "RING") and names:
                uniq, density = _flat(np.array(data[data.columns.names[0]], dtype=float).ravel(), ordering == "NESTED")
            else:
                raise SkyMapError(f"sky map FITS is neither multi-order (UNIQ, PROBDENSITY) nor flat "
                                  f"HEALPix (ORDERING={ordering or None})")
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise SkyMapError(f"sky map FITS cannot be read: {exc}") from exc
    try:
        return SkyMap(uniq, density, credible)
    except RegionError as exc:
        raise SkyMapError(str(exc)) from exc


def _flat(prob: np.ndarray, nested: bool) -> tuple[np.ndarray, np.ndarray]:
    """A flat map of probability per pixel as NUNIQ cells and densities."""
    try:
        nside = hp.npix2nside(len(prob))
    except ValueError as exc:
        raise SkyMapError(f"flat sky map has {len(prob)} pixels, not 12 * nside**2") from exc
    ipix = np.arange(len(prob), dtype=np.int64)
    if not nested:
        prob = prob[hp.nest2ring(nside, ipix)]
    order = int(np.log2(nside))
    return 4 * 4 ** order + ipix, prob / hp.nside2pixarea(nside)


def multiorder_fits(uniq, probdensity) -> bytes:
    """A minimal LVK-style multi-order FITS file (used by tests and the examples)."""
    from astropy.io import fits

    cols = [fits.Column("UNIQ", "K", array=np.asarray(uniq, dtype=np.int64)),
            fits.Column("PROBDENSITY", "D", unit="sr-1", array=np.asarray(probdensity, dtype=float))]
    table = fits.BinTableHDU.from_columns(cols)
    table.header["PIXTYPE"] = "HEALPIX"
    table.header["ORDERING"] = "NUNIQ"
    table.header["COORDSYS"] = "C"
    table.header["MOC"] = True
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buf)
    return buf.getvalue()
