"""An object's light curve from its archived alerts: detections, upper limits, forced photometry.

Each alert carries the object's history up to that alert; the light curve is the union
of every archived alert's history and its own measurement, one point per (time, band).
Fluxes are difference-image nJy; magnitudes are AB (``31.4 - 2.5 log10(nJy)``).
"""

from __future__ import annotations

import math

from fink_like.api.portal.svg import Plot, colour

AB_ZP_NJY = 31.4


def _key(mjd, band) -> tuple:
    return (round(float(mjd), 6), band)


def detections(rows: list[dict]) -> list[dict]:
    """Every distinct detection (mjd, band, flux, fluxerr, mag, magerr) of the object, time order."""
    found: dict[tuple, dict] = {}
    for row in rows:
        lc = zip(*(row.get(f"lc_{c}") or [] for c in ("mjd", "band", "flux", "fluxerr", "mag", "magerr")))
        for mjd, band, flux, fluxerr, mag, magerr in lc:
            if mjd is not None and band is not None:
                found.setdefault(_key(mjd, band), dict(mjd=mjd, band=band, flux=flux, fluxerr=fluxerr,
                                                       mag=mag, magerr=magerr))
        point = {c: row.get(c) for c in ("mjd", "band", "flux", "fluxerr", "mag", "magerr")}
        found[_key(row["mjd"], row["band"])] = point  # the alert's own measurement wins
    return sorted(found.values(), key=lambda p: (p["mjd"], p["band"]))


def forced(rows: list[dict]) -> list[dict]:
    """Every distinct forced-photometry point (mjd, band, flux, fluxerr), time order."""
    found: dict[tuple, dict] = {}
    for row in rows:
        for mjd, band, flux, fluxerr in zip(*(row.get(f"fp_{c}") or [] for c in ("mjd", "band", "flux", "fluxerr"))):
            if mjd is not None and band is not None and flux is not None:
                found[_key(mjd, band)] = dict(mjd=mjd, band=band, flux=flux, fluxerr=fluxerr)
    return sorted(found.values(), key=lambda p: (p["mjd"], p["band"]))


def flux_to_mag(flux, fluxerr) -> tuple[float | None, float | None]:
    """AB magnitude and error of a positive flux (nJy), or (None, None)."""
    if flux is None or not math.isfinite(flux) or flux <= 0:
        return None, None
    err = 2.5 / math.log(10) * fluxerr / flux if fluxerr and math.isfinite(fluxerr) else None
    return AB_ZP_NJY - 2.5 * math.log10(flux), err


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def magnitude_svg(dets: list[dict], limits: list[dict], fps: list[dict]) -> str:
    """Magnitude versus MJD: detections (dots), upper limits (open triangles), forced photometry (squares)."""
    fp_mags = [(p, *flux_to_mag(p["flux"], p["fluxerr"])) for p in fps]
    fp_mags = [(p, m, e) for p, m, e in fp_mags if m is not None and p["flux"] > 3 * (p["fluxerr"] or 0)]
    xs = [p["mjd"] for p in dets] + [u["mjd"] for u in limits] + [p["mjd"] for p, _, _ in fp_mags]
    ys = [_num(p["mag"]) for p in dets] + [_num(u["maglim"]) for u in limits] + [m for _, m, _ in fp_mags]
    plot = Plot(xs, ys, invert_y=True, xlabel="MJD", ylabel="magnitude (AB)")
    bands = sorted({p["band"] for p in dets} | {u["band"] for u in limits} | {p["band"] for p, _, _ in fp_mags})
    for u in limits:
        plot.point(u["mjd"], _num(u["maglim"]), fill=colour(u["band"]), cls="ul", shape="down",
                   data={"mjd": u["mjd"], "band": u["band"]})
    for p, mag, err in fp_mags:
        plot.point(p["mjd"], mag, _num(err), fill=colour(p["band"]), cls="fp", shape="square",
                   data={"mjd": p["mjd"], "band": p["band"]})
    for p in dets:
        plot.point(p["mjd"], _num(p["mag"]), _num(p["magerr"]), fill=colour(p["band"]), cls="det",
                   data={"mjd": p["mjd"], "band": p["band"]})
    return plot.svg({b: colour(b) for b in bands}, cls="plot lc-mag")


def flux_svg(dets: list[dict], fps: list[dict]) -> str:
    """Difference flux (nJy) versus MJD: detections (dots) and forced photometry (squares)."""
    xs = [p["mjd"] for p in dets + fps]
    ys = [_num(p["flux"]) for p in dets + fps]
    plot = Plot(xs, ys, xlabel="MJD", ylabel="difference flux (nJy)")
    for p in fps:
        plot.point(p["mjd"], _num(p["flux"]), _num(p["fluxerr"]), fill=colour(p["band"]), cls="fp",
                   shape="square", data={"mjd": p["mjd"], "band": p["band"]})
    for p in dets:
        plot.point(p["mjd"], _num(p["flux"]), _num(p["fluxerr"]), fill=colour(p["band"]), cls="det",
                   data={"mjd": p["mjd"], "band": p["band"]})
    bands = sorted({p["band"] for p in dets + fps})
    return plot.svg({b: colour(b) for b in bands}, cls="plot lc-flux")
