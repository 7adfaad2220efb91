"""Rubin/LSST: bare Avro bodies in the Confluent wire format, schemas from ``lsst-alert-packet``.

The schema id is ``major * 100 + minor`` (``900`` is 9.0). Schemas are read from the
installed ``lsst.alert.packet`` package the first time an id is seen and cached per id;
an id the package does not ship is the quarantine reason ``unknown_schema_id``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import fastavro
from fastavro.schema import load_schema

from fink_like.errors import AlertError, MissingDependencyError, require
from fink_like.surveys.avro import pack_wire, projection, read_body, unpack_wire
from fink_like.surveys.base import CUTOUT_NAMES, SurveyAdapter, history_columns as _columns, required
from fink_like.surveys.photometry import day_obs, magerr_from_flux, njy_to_mag

# Boolean diaSource flags packed into the canonical ``flags`` column, bit 0 first.
# A flag absent from a schema version leaves its bit at 0. Append only: never reorder.
FLAG_BITS = (
    "centroid_flag", "apFlux_flag", "psfFlux_flag", "psfFlux_flag_edge",
    "psfFlux_flag_noGoodPixels", "trail_flag_edge", "forced_PsfFlux_flag", "shape_flag",
    "pixelFlags", "pixelFlags_bad", "pixelFlags_cr", "pixelFlags_crCenter", "pixelFlags_edge",
    "pixelFlags_nodata", "pixelFlags_nodataCenter", "pixelFlags_interpolated",
    "pixelFlags_interpolatedCenter", "pixelFlags_offimage", "pixelFlags_saturated",
    "pixelFlags_saturatedCenter", "pixelFlags_suspect", "pixelFlags_suspectCenter",
    "pixelFlags_streak", "pixelFlags_streakCenter", "pixelFlags_injected",
    "pixelFlags_injectedCenter", "glint_trail", "isDipole",
)
FIVE_SIGMA = 5.0
# What to_canonical reads: the projection used by decode_view.
CANONICAL_FIELDS = {
    "alert": frozenset({
        "alertId", "diaSourceId", "diaSource", "prvDiaSources", "prvDiaForcedSources",
        "prvDiaNondetectionLimits", "diaObject", "ssSource", "MPCORB", "mpc_orbits", *CUTOUT_NAMES,
    }),
    "diaSource": frozenset({
        "diaSourceId", "diaObjectId", "ssObjectId", "midpointMjdTai", "ra", "dec", "band",
        "psfFlux", "psfFluxErr", "reliability", "isNegative", "is_negative", *FLAG_BITS,
    }),
    "diaForcedSource": frozenset({"midpointMjdTai", "band", "psfFlux", "psfFluxErr"}),
    "diaNondetectionLimit": frozenset({"midpointMjdTai", "band", "diaNoise"}),
    "diaObject": frozenset({"nDiaSources", "firstDiaSourceMjdTai"}),
    "ssSource": frozenset({"ssObjectId", "designation", "residualRa", "residualDec", "predictedVMagnitude",
                           "ephOffset", "ephOffsetRa", "ephOffsetDec", "ephVmag"}),
    "MPCORB": frozenset({"mpcDesignation"}),
    "mpc_orbits": frozenset({"designation"}),
}


def schema_id(version: str) -> int:
    """``"9.0"`` -> ``900``."""
    try:
        major, minor = (int(part) for part in version.split("."))
    except ValueError:
        raise AlertError("unknown_schema_id", f"Rubin schema version {version!r} is not MAJOR.MINOR") from None
    return major * 100 + minor


def _schema_file(sid: int) -> Path:
    try:
        packet = require("lsst.alert.packet", "lsst-alert-packet")
    except MissingDependencyError as exc:
        raise AlertError("unknown_schema_id", str(exc)) from exc
    major, minor = divmod(sid, 100)
    return Path(packet.get_schema_path(major, minor)) / f"lsst.v{major}_{minor}.alert.avsc"


class RubinAdapter(SurveyAdapter):
    """Rubin alert packets (``lsst.vMAJOR_MINOR.alert``, 7.x to 11.x and later)."""

    name = "lsst"

    def __init__(self):
        self._schemas: dict[int, dict] = {}
        self._views: dict[tuple, dict] = {}

    def schema(self, sid: int) -> dict:
        """The parsed schema of one id, loaded from lsst-alert-packet once."""
        parsed = self._schemas.get(sid)
        if parsed is None:
            path = _schema_file(sid)
            if not path.is_file():
                raise AlertError("unknown_schema_id", f"schema id {sid} is not shipped by lsst-alert-packet")
            parsed = self._schemas[sid] = load_schema(str(path))
        return parsed

    @staticmethod
    def sniff(value: bytes) -> bool:
        return len(value) >= 1 and value[0] == 0

    def decode(self, value: bytes) -> dict:
        sid, body = unpack_wire(value)
        return read_body(body, self.schema(sid))

    def decode_view(self, value: bytes, fields: dict | None = None) -> dict:
        fields = CANONICAL_FIELDS if fields is None else fields
        sid, body = unpack_wire(value)
        view = self._views.get((sid, id(fields)))
        if view is None:
            view = self._views[(sid, id(fields))] = projection(self.schema(sid), fields)
        return read_body(body, self.schema(sid), view)

    def schema_version(self, value: bytes, record: dict) -> str:
        major, minor = divmod(unpack_wire(value)[0], 100)
        return f"{major}.{minor}"

    def encode(self, record: dict, schema_version: str) -> bytes:
        sid = schema_id(schema_version)
        out = io.BytesIO()
        try:
            fastavro.schemaless_writer(out, self.schema(sid), record)
        except (ValueError, TypeError, KeyError) as exc:
            raise AlertError("schema_mismatch", f"record does not fit Rubin schema {schema_version}: {exc}") from exc
        return pack_wire(sid, out.getvalue())

    def alert_id(self, record: dict) -> int:
        # 7.x carries alertId (equal to the diaSourceId in practice); 8.0 and later diaSourceId.
        if "alertId" in record:
            return int(required(record, "alertId", "alert"))
        return int(required(record, "diaSourceId", "alert"))

    def cutouts(self, record: dict) -> dict[str, bytes]:
        out = {}
        for name in ("science", "template", "difference"):
            stamp = record.get(f"cutout{name.capitalize()}")
            if stamp is not None:
                out[name] = stamp
        return out

    def to_canonical(self, record: dict, schema_version: str | None = None) -> dict:
        src = required(record, "diaSource", "alert")
        mjd = required(src, "midpointMjdTai", "diaSource")
        flux, fluxerr = src.get("psfFlux"), src.get("psfFluxErr")
        lc = [_point(p) for p in (record.get("prvDiaSources") or ()) if p.get("diaSourceId") != src["diaSourceId"]]
        lc.append(_point(src))
        lc.sort(key=lambda point: point[0])
        obj = record.get("diaObject") or {}
        negative = src.get("isNegative", src.get("is_negative"))
        return {
            "survey": self.name,
            "schema_version": schema_version or "unknown",
            "alert_id": self.alert_id(record),
            "object_id": _object_id(src),
            "source_id": required(src, "diaSourceId", "diaSource"),
            "mjd": mjd,
            "ra": required(src, "ra", "diaSource"),
            "dec": required(src, "dec", "diaSource"),
            "band": required(src, "band", "diaSource"),
            "flux": flux,
            "fluxerr": fluxerr,
            "mag": njy_to_mag(flux),
            "magerr": magerr_from_flux(flux, fluxerr),
            "isdiffpos": (flux > 0) if flux is not None else (None if negative is None else not negative),
            "ndethist": obj.get("nDiaSources") or len(lc),
            "first_mjd": obj.get("firstDiaSourceMjdTai") or lc[0][0],
            "rb": None,
            "drb": None,
            "nbad": None,
            "reliability": src.get("reliability"),
            "flags": flag_bits(src),
            **solar_system(record, src),
            "sgscore1": None,
            "distpsnr1": None,
            **_columns("lc", ("mjd", "band", "flux", "fluxerr", "mag", "magerr"), lc),
            **_columns("ul", ("mjd", "band", "maglim"), _limits(record.get("prvDiaNondetectionLimits") or ())),
            **_columns("fp", ("mjd", "band", "flux", "fluxerr"), _forced(record.get("prvDiaForcedSources") or ())),
            "night": day_obs(mjd),
        }


def _object_id(src: dict) -> str:
    """diaObjectId, or ssObjectId for solar-system sources (diaObjectId null or 0)."""
    for key in ("diaObjectId", "ssObjectId"):
        if src.get(key):
            return str(src[key])
    raise AlertError("missing_field", "diaSource has neither diaObjectId nor ssObjectId")


def solar_system(record: dict, src: dict) -> dict:
    """``ssdistnr``, ``ssnamenr``, ``ssmagnr``, ``ss_object_id`` from ssSource and the orbit record.

    7.x: only ``diaSource.ssObjectId`` (its ``ssObject`` has no designation nor residual).
    8.0, 9.0: ``MPCORB.mpcDesignation`` (packed), ``ssSource.residualRa/residualDec`` (deg),
    ``ssSource.predictedVMagnitude``. 10.0 and later: ``ssSource.designation`` (else
    ``mpc_orbits.designation``, unpacked), ``ephOffset`` (arcsec; else the quadrature sum of
    ``ephOffsetRa/Dec``), ``ephVmag``.
    """
    sss = record.get("ssSource") or {}
    orbit = record.get("MPCORB") or record.get("mpc_orbits") or {}
    object_id = src.get("ssObjectId") or sss.get("ssObjectId") or None
    name = sss.get("designation") or orbit.get("mpcDesignation") or orbit.get("designation")
    distance = sss.get("ephOffset")
    if distance is None and sss.get("ephOffsetRa") is not None and sss.get("ephOffsetDec") is not None:
        distance = math.hypot(sss["ephOffsetRa"], sss["ephOffsetDec"])
    if distance is None and sss.get("residualRa") is not None and sss.get("residualDec") is not None:
        # 8.0/9.0 residuals are in degrees; residualRa is taken as already including cos(dec)
        distance = math.hypot(sss["residualRa"], sss["residualDec"]) * 3600.0
    magnitude = sss.get("ephVmag", sss.get("predictedVMagnitude"))
    return {"ssdistnr": distance, "ssnamenr": name or None, "ssmagnr": magnitude,
            "ss_object_id": int(object_id) if object_id else None}


def flag_bits(src: dict) -> int:
    """The set boolean flags of a diaSource as a bitmask in :data:`FLAG_BITS` order."""
    bits = 0
    for bit, name in enumerate(FLAG_BITS):
        if src.get(name):
            bits |= 1 << bit
    return bits


def _point(src: dict) -> tuple:
    flux, err = src.get("psfFlux"), src.get("psfFluxErr")
    return (src["midpointMjdTai"], src["band"], flux, err, njy_to_mag(flux), magerr_from_flux(flux, err))


def _forced(sources) -> list:
    points = [
        (s["midpointMjdTai"], s["band"], s["psfFlux"], s.get("psfFluxErr"))
        for s in sources
        if s.get("psfFlux") is not None and s["psfFlux"] == s["psfFlux"]  # skip null and NaN
    ]
    points.sort(key=lambda point: point[0])
    return points


def _limits(limits) -> list:
    """7.x non-detections: the 5-sigma limiting magnitude from the noise (nJy)."""
    points = [
        (n["midpointMjdTai"], n["band"], njy_to_mag(FIVE_SIGMA * n["diaNoise"]))
        for n in limits
        if n.get("diaNoise")
    ]
    points.sort(key=lambda point: point[0])
    return points

