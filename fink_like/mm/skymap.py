"""Sky maps carried inside notices: base64 FITS, multi-order (``NUNIQ``) or flat HEALPix.

The LVK alert puts its multi-order FITS file (``UNIQ``, ``PROBDENSITY`` columns,
``ORDERING = NUNIQ``) base64-encoded in ``event.skymap``; unified GCN notices may carry a
HEALPix file in ``healpix_file``. This module decodes the base64; reading the FITS file
(gzipped or not, multi-order or flat) and the credible region are
:mod:`fink_like.sky.skymap`'s. Every problem is a :class:`SkyMapError` naming it.
"""

from __future__ import annotations

import base64
import binascii

from fink_like.mm.regions import SkyMap
from fink_like.sky.skymap import SkyMapError

__all__ = ["DEFAULT_CREDIBLE", "SkyMapError", "read_skymap"]

DEFAULT_CREDIBLE = 0.9


def read_skymap(payload: str | bytes, credible: float = DEFAULT_CREDIBLE) -> SkyMap:
    """A :class:`SkyMap` from base64 text (or raw FITS bytes), gzipped or not."""
    raw = payload
    if isinstance(payload, str):
        try:
            raw = base64.b64decode(payload.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
            raise SkyMapError(f"sky map is not valid base64: {exc}") from exc
    return SkyMap.from_fits(raw, credible)
