"""Cutout stamps as plain FITS or as PNG images (ZScale interval, asinh stretch)."""

from __future__ import annotations

import gzip
import io
import re

import numpy as np

from fink_like.errors import QueryError


def plain_fits(stamp: bytes) -> bytes:
    """The FITS file of a stamp, gunzipped when the survey ships it gzipped (ZTF does)."""
    if stamp[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(stamp)
        except (OSError, EOFError) as exc:
            raise QueryError(f"the archived stamp is not valid gzip: {exc}") from exc
    return stamp


_SIMPLE = re.compile(rb"SIMPLE\s*=\s*([TF])")


def standard_simple(fits_bytes: bytes) -> bytes:
    """The file with its first card in the standard form when it is a padded ``SIMPLE = T``.

    ZTF stamps write that card oddly; astropy reads them but warns. Rewriting the card
    avoids the warning without ``warnings.catch_warnings``, which is not thread-safe and
    so cannot be used in request handlers that run concurrently.
    """
    match = _SIMPLE.match(fits_bytes[:80])
    if match and not fits_bytes.startswith(b"SIMPLE  =                    "):
        return (b"SIMPLE  = " + match.group(1).rjust(20)).ljust(80) + fits_bytes[80:]
    return fits_bytes


def stamp_image(stamp: bytes) -> np.ndarray:
    """The first 2-D image in the stamp's FITS file."""
    from astropy.io import fits

    try:
        with fits.open(io.BytesIO(standard_simple(plain_fits(stamp)))) as hdus:
            for hdu in hdus:
                if hdu.data is not None and hdu.data.ndim == 2:
                    return np.asarray(hdu.data, dtype=float)
    except (OSError, ValueError, TypeError) as exc:
        raise QueryError(f"the archived stamp is not a readable FITS image: {exc}") from exc
    raise QueryError("the archived stamp holds no 2-D image")


def to_png(stamp: bytes, size: int = 240) -> bytes:
    """Render a stamp as an 8-bit grey PNG, north up (FITS rows flipped), at least ``size`` px.

    Pixels are scaled with a ZScale interval and an asinh stretch, the usual display
    for difference-imaging stamps; NaNs (masked pixels) are drawn black.
    """
    from astropy.visualization import AsinhStretch, ImageNormalize, ZScaleInterval
    from PIL import Image

    data = stamp_image(stamp)
    finite = np.isfinite(data)
    if not finite.any():
        scaled = np.zeros_like(data)
    else:
        filled = np.where(finite, data, np.nanmedian(data))
        norm = ImageNormalize(filled, interval=ZScaleInterval(), stretch=AsinhStretch(), clip=True)
        scaled = np.where(finite, np.asarray(norm(filled)), 0.0)
    pixels = (np.nan_to_num(scaled) * 255).astype(np.uint8)[::-1]
    image = Image.fromarray(pixels, mode="L")
    factor = max(1, -(-size // max(image.size)))  # ceiling: a 63 px stamp becomes 252 px
    image = image.resize((image.width * factor, image.height * factor), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
