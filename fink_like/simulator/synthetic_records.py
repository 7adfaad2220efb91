"""Survey records of a synthetic night: ZTF 4.02 and Rubin 9.0 alerts from shifted light curves.

Each builder fills a copy of its schema's default records (:func:`record_templates`)
with one light curve (a row of :func:`fink_like.science.lcsim.simulate`, already moved
into the night), and yields the wire-format message with the canonical values it must
decode to. Ids come from counters offset by the seed, so they are unique within a night
and differ between seeds. Quality values are drawn so that most alerts pass the default
quality cuts (``conf/local.yaml``) and a few, like on a real night, do not.
"""

from __future__ import annotations

import functools
import io
import string

import fastavro
import numpy as np

from fink_like.simulator.stamps import RUBIN_STAMP, ZTF_STAMP, StampMaker, StampStyle
from fink_like.simulator.synthetic import record_templates
from fink_like.surveys.batch import adapter_for
from fink_like.surveys.files import AlertMessage
from fink_like.surveys.photometry import JD_MJD_OFFSET, day_obs, utc_night
from fink_like.surveys.ztf import _bundled

ZTF_VERSION, RUBIN_VERSION = "4.02", "9.0"
FIDS = {"g": 1, "r": 2, "i": 3}
ZTF_DEPTH = {"g": 20.8, "r": 20.6, "i": 20.2}
RUBIN_BAD_FLAGS = ("psfFlux_flag", "pixelFlags_bad", "pixelFlags_edge", "pixelFlags_saturatedCenter")
P_ZTF_BOGUS, P_ZTF_BAD_PIXELS, P_RUBIN_FLAGGED = 0.06, 0.04, 0.05
_CHUNK = 256                       # alerts whose stamps are drawn in one numpy call
_LETTERS = string.ascii_lowercase


def _zigzag(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _ztf_name(index: int, year: int) -> str:
    letters = []
    for _ in range(7):
        index, digit = divmod(index, 26)
        letters.append(_LETTERS[digit])
    return f"ZTF{year % 100:02d}" + "".join(reversed(letters))


@functools.lru_cache(maxsize=None)
def _stamp_maker(style: StampStyle) -> StampMaker:
    return StampMaker(style)


class _Builder:
    """Shared loop: draw stamps per chunk, then one record per row."""

    style: StampStyle

    def __init__(self, seed: int, rng: np.random.Generator, night: float):
        self.seed, self.rng, self.night = seed, rng, night
        self.stamps = _stamp_maker(self.style)
        self.source = f"synthetic:seed={seed}:night={int(night)}"

    def build(self, rows: list[dict]):
        quality = self.draw_quality(len(rows))
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]
            cutouts = self.stamps.make(
                self.rng, np.array([r["flux"] for r in chunk]), np.array([r["fluxerr"] for r in chunk]),
                np.array([r["ra"] for r in chunk]), np.array([r["dec"] for r in chunk]))
            for i, (row, stamps) in enumerate(zip(chunk, cutouts)):
                yield self.alert(start + i, row, {k: v[start + i] for k, v in quality.items()}, stamps)


class ZtfNight(_Builder):
    """ZTF 4.02 containers: candidate, prv_candidates (detections and upper limits), cutouts."""

    style = ZTF_STAMP

    def __init__(self, seed, rng, night):
        super().__init__(seed, rng, night)
        self.parsed, _ = _bundled(ZTF_VERSION)
        self.tmpl = record_templates(self.parsed)
        sync = np.random.default_rng([seed, 3000]).bytes(16)
        head = io.BytesIO()
        fastavro.writer(head, self.parsed, [], sync_marker=sync)
        self.header, self.sync = head.getvalue(), sync
        self.next_candid = 10**18 + (seed % 1000) * 10**15 + 1
        self.first_name = (seed * 7_919_993) % 26**7
        self.year = int(utc_night(night)[:4])

    def draw_quality(self, n: int) -> dict:
        rng = self.rng
        bogus = rng.random(n) < P_ZTF_BOGUS
        rb = np.where(bogus, rng.uniform(0.05, 0.5, n), rng.uniform(0.6, 1.0, n))
        nbad = np.where(rng.random(n) < P_ZTF_BAD_PIXELS, rng.integers(1, 4, n), 0)
        return {"rb": rb, "drb": np.clip(rb + rng.normal(0.0, 0.05, n), 0.0, 1.0), "nbad": nbad,
                "field": rng.integers(245, 880, n), "rcid": rng.integers(0, 64, n)}

    def _candid(self) -> int:
        self.next_candid += 1
        return self.next_candid - 1

    def alert(self, index: int, row: dict, q: dict, stamps) -> tuple[AlertMessage, dict]:
        candid, name = self._candid(), _ztf_name((self.first_name + index) % 26**7, self.year)
        pid = int((row["mjd"] - 58000.0) * 1e5) * 100 + int(q["rcid"])
        positive = row["flux"] > 0
        cand = dict(self.tmpl["candidate"], **{
            "jd": row["mjd"] + JD_MJD_OFFSET, "fid": FIDS[row["band"]], "pid": pid, "programid": 1,
            "candid": candid, "isdiffpos": "t" if positive else "f", "field": int(q["field"]),
            "rcid": int(q["rcid"]), "ra": row["ra"], "dec": row["dec"], "magpsf": row["mag"],
            "sigmapsf": row["magerr"], "diffmaglim": max(ZTF_DEPTH[row["band"]], row["mag"] + 0.2),
            "ranr": row["ra"], "decnr": row["dec"], "rb": float(q["rb"]), "drb": float(q["drb"]),
            "nbad": int(q["nbad"]), "ndethist": row["ndethist"],
            "ncovhist": row["ndethist"] + len(row["ul_mjd"]), "jdstarthist": row["first_mjd"] + JD_MJD_OFFSET,
            "jdendhist": row["mjd"] + JD_MJD_OFFSET, "ssdistnr": -999.0, "sgscore1": row["sgscore1"],
            "distpsnr1": row["distpsnr1"], "rbversion": "t17_f5_c3", "drbversion": "d6_m7",
            "nframesref": 15, "rfid": 1000 * int(q["field"]) + int(q["rcid"]),
            "jdstartref": 2458150.5, "jdendref": 2458400.5, "nmatches": 500, "nmtchps": 3,
        })
        record = dict(self.tmpl["alert"], schemavsn=ZTF_VERSION, publisher="fink-like synthetic night",
                      objectId=name, candid=candid, candidate=cand, prv_candidates=self._history(row, pid),
                      fp_hists=None)
        for kind, data in zip(("Science", "Template", "Difference"), stamps):
            record[f"cutout{kind}"] = {"fileName": f"candid{candid}_pid{pid}_targ_{kind[:3].lower()}.fits.gz",
                                       "stampData": data}
        body = io.BytesIO()
        fastavro.schemaless_writer(body, self.parsed, record)
        value = self.header + _zigzag(1) + _zigzag(body.tell()) + body.getvalue() + self.sync
        expected = _expected(row, "ztf", ZTF_VERSION, candid, name, utc_night(row["mjd"]),
                             rb=float(q["rb"]), nbad=int(q["nbad"]), fp=False)
        return AlertMessage("ztf", ZTF_VERSION, str(candid).encode(), value, self.source), expected

    def _history(self, row: dict, pid: int) -> list[dict]:
        tmpl, prv = self.tmpl["prv_candidate"], []
        common = {"pid": pid, "programid": 1, "rbversion": "t17_f5_c3"}
        for t, band, flux, mag, err in zip(row["lc_mjd"][:-1], row["lc_band"], row["lc_flux"],
                                           row["lc_mag"], row["lc_magerr"]):
            prv.append(dict(tmpl, **common, jd=t + JD_MJD_OFFSET, fid=FIDS[band], candid=self._candid(),
                            magpsf=mag, sigmapsf=err, isdiffpos="t" if flux > 0 else "f",
                            diffmaglim=max(ZTF_DEPTH[band], mag + 0.2), ra=row["ra"], dec=row["dec"],
                            rb=0.9, nbad=0))
        for t, band, limit in zip(row["ul_mjd"], row["ul_band"], row["ul_maglim"]):
            prv.append(dict(tmpl, **common, jd=t + JD_MJD_OFFSET, fid=FIDS[band], diffmaglim=limit))
        prv.sort(key=lambda p: p["jd"])
        return prv


class RubinNight(_Builder):
    """Rubin 9.0 wire messages: diaSource, prvDiaSources, prvDiaForcedSources, diaObject, cutouts."""

    style = RUBIN_STAMP

    def __init__(self, seed, rng, night):
        super().__init__(seed, rng, night)
        self.adapter = adapter_for("lsst")
        self.tmpl = record_templates(self.adapter.schema(900))
        source = self.tmpl["diaSource"]
        for name, value in list(source.items()):  # every flag of a clean detection is false
            if value is None and (name.endswith("_flag") or "_flag_" in name or name.startswith("pixelFlags")
                                  or name in ("isNegative", "isDipole", "glint_trail")):
                source[name] = False
        base = (seed % 500 + 1) * 10**16
        self.next_source, self.next_object, self.next_forced = base, base + 5 * 10**15, base + 7 * 10**15

    def draw_quality(self, n: int) -> dict:
        rng = self.rng
        flagged = np.where(rng.random(n) < P_RUBIN_FLAGGED, rng.integers(0, len(RUBIN_BAD_FLAGS), n), -1)
        return {"flag": flagged, "reliability": np.where(rng.random(n) < 0.9, rng.uniform(0.6, 1.0, n),
                                                         rng.uniform(0.0, 0.6, n)),
                "detector": rng.integers(0, 189, n)}

    def _ids(self, attr: str) -> int:
        value = getattr(self, attr)
        setattr(self, attr, value + 1)
        return value

    def _source(self, obj: int, row: dict, t: float, band: str, flux: float, err: float, q: dict) -> dict:
        return dict(self.tmpl["diaSource"], diaSourceId=self._ids("next_source"), diaObjectId=obj,
                    visit=int((t - 60000.0) * 1e4), detector=int(q["detector"]), midpointMjdTai=t,
                    ra=row["ra"], dec=row["dec"], raErr=2e-5, decErr=2e-5, x=2000.0, y=2000.0,
                    psfFlux=flux, psfFluxErr=err, snr=abs(flux) / err, band=band,
                    reliability=float(q["reliability"]), isNegative=flux < 0,
                    timeProcessedMjdTai=t + 0.001)

    def alert(self, index: int, row: dict, q: dict, stamps) -> tuple[AlertMessage, dict]:
        obj = self._ids("next_object")
        points = list(zip(row["lc_mjd"], row["lc_band"], row["lc_flux"], row["lc_fluxerr"]))
        prv = [self._source(obj, row, *p, q) for p in points[:-1]]
        src = self._source(obj, row, *points[-1], q)
        if q["flag"] >= 0:
            src[RUBIN_BAD_FLAGS[q["flag"]]] = src["pixelFlags"] = True
        forced = [dict(self.tmpl["diaForcedSource"], diaForcedSourceId=self._ids("next_forced"), diaObjectId=obj,
                       ra=row["ra"], dec=row["dec"], visit=int((t - 60000.0) * 1e4), detector=int(q["detector"]),
                       psfFlux=f, psfFluxErr=e, midpointMjdTai=t, band=b, timeProcessedMjdTai=t + 0.001)
                  for t, b, f, e in list(zip(row["fp_mjd"], row["fp_band"], row["fp_flux"], row["fp_fluxerr"]))[:-1]]
        dia_object = dict(self.tmpl["diaObject"], diaObjectId=obj, validityStartMjdTai=row["mjd"], ra=row["ra"],
                          dec=row["dec"], nDiaSources=row["ndethist"], firstDiaSourceMjdTai=row["first_mjd"])
        record = dict(self.tmpl["alert"], diaSourceId=src["diaSourceId"], diaSource=src, prvDiaSources=prv,
                      prvDiaForcedSources=forced, diaObject=dia_object, cutoutScience=stamps[0],
                      cutoutTemplate=stamps[1], cutoutDifference=stamps[2])
        value = self.adapter.encode(record, RUBIN_VERSION)
        expected = _expected(row, "lsst", RUBIN_VERSION, src["diaSourceId"], str(obj), day_obs(row["mjd"]),
                             reliability=float(q["reliability"]), fp=True,
                             flag=RUBIN_BAD_FLAGS[q["flag"]] if q["flag"] >= 0 else None)
        return AlertMessage("lsst", RUBIN_VERSION, str(src["diaSourceId"]).encode(), value, self.source), expected


def _expected(row: dict, survey: str, version: str, alert_id: int, object_id: str, night: str,
              fp: bool, **quality) -> dict:
    out = {"survey": survey, "schema_version": version, "alert_id": alert_id, "object_id": object_id,
           "night": night, "label": row["label"], **quality}
    for name in ("mjd", "ra", "dec", "band", "flux", "fluxerr", "mag", "magerr", "ndethist", "first_mjd"):
        out[name] = row[name]
    for name in ("mjd", "band", "flux", "fluxerr", "mag", "magerr"):
        out[f"lc_{name}"] = row[f"lc_{name}"]
    no_limits = survey == "lsst"  # Rubin 9.0 carries no non-detection limits
    for name in ("mjd", "band", "maglim"):
        out[f"ul_{name}"] = [] if no_limits else row[f"ul_{name}"]
    for name in ("mjd", "band", "flux", "fluxerr"):
        out[f"fp_{name}"] = row[f"fp_{name}"][:-1] if fp else []
    return out


BUILDERS = {"ztf": ZtfNight, "lsst": RubinNight}
