"""ZTF: one Avro container file per Kafka message, schema 3.x or 4.02 in its header.

Real ZTF 4.02 messages name their sub-records (``ztf.alert.candidate``, ...) in the
header without defining them. The official 4.02 definitions ship with this package
(``schemas/ztf-4.02.avsc``) and resolve those names; 3.x headers are self-contained.
Each distinct header is parsed once and cached.
"""

from __future__ import annotations

import json
import math
from importlib import resources

import fastavro
from fastavro.schema import SchemaParseException, UnknownType

from fink_like.errors import AlertError
from fink_like.surveys.avro import CONTAINER_MAGIC, projection, read_body, split_container, write_container
from fink_like.surveys.base import CUTOUT_NAMES, SurveyAdapter, history_columns as _columns, required
from fink_like.surveys.photometry import (
    JD_MJD_OFFSET, dn_to_njy, fluxerr_from_mag, mag_to_njy, utc_night,
)

BANDS = {1: "g", 2: "r", 3: "i"}
BUNDLED_VERSIONS = ("4.02", "3.3")
_MAX_CACHED_HEADERS = 64
_FP_MISSING = -99999.0
# What to_canonical reads: the projection used by decode_view.
CANONICAL_FIELDS = {
    "alert": frozenset({"schemavsn", "objectId", "candid", "candidate", "prv_candidates", "fp_hists",
                       *CUTOUT_NAMES}),
    "candidate": frozenset({
        "candid", "jd", "fid", "ra", "dec", "magpsf", "sigmapsf", "isdiffpos", "ndethist",
        "jdstarthist", "rb", "drb", "nbad", "ssdistnr", "ssnamenr", "ssmagnr", "sgscore1", "distpsnr1",
    }),
    "prv_candidate": frozenset({"candid", "jd", "fid", "magpsf", "sigmapsf", "isdiffpos", "diffmaglim"}),
    "fp_hist": frozenset({"jd", "fid", "forcediffimflux", "forcediffimfluxunc", "magzpsci"}),
}  # ZTF's forced-photometry sentinel for "no measurement"


def _bundled(version: str) -> tuple[dict, dict]:
    text = resources.files("fink_like.surveys").joinpath("schemas", f"ztf-{version}.avsc").read_text()
    named: dict = {}
    return fastavro.parse_schema(json.loads(text), named_schemas=named), named


def _record_fields(parsed_type, named: dict) -> frozenset:
    """Field names of a (possibly named, nullable or array-wrapped) record type."""
    if isinstance(parsed_type, str):
        parsed_type = named.get(parsed_type, parsed_type)
    if isinstance(parsed_type, list):
        return frozenset().union(*(_record_fields(t, named) for t in parsed_type))
    if isinstance(parsed_type, dict) and parsed_type.get("type") == "array":
        return _record_fields(parsed_type["items"], named)
    if isinstance(parsed_type, dict) and parsed_type.get("type") == "record":
        return frozenset(f["name"] for f in parsed_type["fields"])
    return frozenset()


def _shape(parsed: dict, named: dict) -> tuple[frozenset, frozenset, frozenset]:
    """Field names at the top, in ``candidate`` and in ``prv_candidates`` items."""
    top = {f["name"]: f["type"] for f in parsed["fields"]}
    return (frozenset(top), _record_fields(top.get("candidate"), named),
            _record_fields(top.get("prv_candidates"), named))


def _fits(record_shape: tuple, schema_shape: tuple) -> bool:
    top, cand, prv = record_shape
    return top == schema_shape[0] and cand == schema_shape[1] and (prv is None or prv == schema_shape[2])


class ZtfAdapter(SurveyAdapter):
    """ZTF alert packets (schemas 3.x and 4.02)."""

    name = "ztf"

    def __init__(self):
        self._headers: dict[str, dict] = {}
        self._views: dict[tuple, dict] = {}  # (id(writer schema), id(fields)) -> projection
        self._known: list[tuple[str, tuple, dict]] | None = None   # (version, shape, parsed)
        self._named: dict[str, dict] = {}                            # version -> named types

    def _load_bundled(self) -> list:
        if self._known is None:
            self._known = []
            for version in BUNDLED_VERSIONS:
                parsed, named = _bundled(version)
                self._named[version] = named
                self._known.append((version, _shape(parsed, named), parsed))
        return self._known

    @staticmethod
    def sniff(value: bytes) -> bool:
        return value[:4] == CONTAINER_MAGIC

    def _writer_schema(self, header: str) -> dict:
        parsed = self._headers.get(header)
        if parsed is not None:
            return parsed
        try:
            schema = json.loads(header)
        except ValueError as exc:
            raise AlertError("not_avro", f"container schema is not JSON: {exc}") from exc
        self._load_bundled()
        try:
            named: dict = {}
            parsed = fastavro.parse_schema(schema, named_schemas=named)
        except UnknownType as exc:
            version = str(schema.get("version", "")) if isinstance(schema, dict) else ""
            named = dict(self._named.get(version, self._named[BUNDLED_VERSIONS[0]]))
            try:
                parsed = fastavro.parse_schema(schema, named_schemas=named)
            except (UnknownType, SchemaParseException) as exc2:
                raise AlertError("unknown_schema", f"ZTF header names an unknown type: {exc2}") from exc
        except SchemaParseException as exc:
            raise AlertError("not_avro", f"container schema does not parse: {exc}") from exc
        if len(self._headers) >= _MAX_CACHED_HEADERS:
            self._headers.clear()
            self._views.clear()
        self._headers[header] = parsed
        entry = (str(schema.get("version", "")), _shape(parsed, named))
        if not any(entry == (version, shape) for version, shape, _ in self._known):
            self._known.append((*entry, parsed))
        return parsed

    def _single(self, value: bytes) -> tuple[dict, bytes]:
        container = split_container(value)
        if container.count != 1:
            raise AlertError("not_single_alert", f"container holds {container.count} records, expected 1")
        body = next(data for count, data in container.blocks if count == 1)
        return self._writer_schema(container.schema_json), body

    def decode(self, value: bytes) -> dict:
        parsed, body = self._single(value)
        return read_body(body, parsed)

    def decode_view(self, value: bytes, fields: dict | None = None) -> dict:
        fields = CANONICAL_FIELDS if fields is None else fields
        parsed, body = self._single(value)
        view = self._views.get((id(parsed), id(fields)))
        if view is None:
            view = self._views[(id(parsed), id(fields))] = projection(parsed, fields)
        return read_body(body, parsed, view)

    def schema_version(self, value: bytes, record: dict) -> str:
        return str(record.get("schemavsn") or "unknown")

    def encode(self, record: dict, schema_version: str) -> bytes:
        """A container file with the first known schema of ``schema_version`` that fits the record.

        The bundled 4.02 and 3.3 schemas come first; writer schemas seen while decoding
        (e.g. 3.2) are used for the versions they carry.
        """
        prv = record.get("prv_candidates")
        shape = (frozenset(record), frozenset(record.get("candidate") or ()), frozenset(prv[0]) if prv else None)
        known = self._load_bundled()
        for fits_version in (True, False):
            for version, known_shape, parsed in known:
                if _fits(shape, known_shape) and (version == schema_version) == fits_version:
                    return write_container(parsed, [record])
        raise AlertError("unknown_schema", f"no known ZTF schema {schema_version} fits this record")

    def alert_id(self, record: dict) -> int:
        return int(required(record, "candid", "alert"))

    def cutouts(self, record: dict) -> dict[str, bytes]:
        out = {}
        for name in ("science", "template", "difference"):
            stamp = record.get(f"cutout{name.capitalize()}")
            if stamp and stamp.get("stampData") is not None:
                out[name] = stamp["stampData"]
        return out

    def to_canonical(self, record: dict, schema_version: str | None = None) -> dict:
        cand = required(record, "candidate", "alert")
        candid = required(record, "candid", "alert")
        mjd = required(cand, "jd", "candidate") - JD_MJD_OFFSET
        band = _band(required(cand, "fid", "candidate"))
        mag = required(cand, "magpsf", "candidate")
        positive = _isdiffpos(cand.get("isdiffpos"))
        flux = mag_to_njy(mag) * (1.0 if positive is not False else -1.0)
        lc, ul = _history(record.get("prv_candidates") or (), candid)
        lc.append((mjd, band, flux, fluxerr_from_mag(flux, cand.get("sigmapsf")), mag, cand.get("sigmapsf")))
        lc.sort(key=lambda point: point[0])
        fp = _forced(record.get("fp_hists") or ())
        jdstart = cand.get("jdstarthist")
        return {
            "survey": self.name,
            "schema_version": schema_version or self.schema_version(b"", record),
            "alert_id": candid,
            "object_id": required(record, "objectId", "alert"),
            "source_id": candid,
            "mjd": mjd,
            "ra": required(cand, "ra", "candidate"),
            "dec": required(cand, "dec", "candidate"),
            "band": band,
            "flux": flux,
            "fluxerr": fluxerr_from_mag(flux, cand.get("sigmapsf")),
            "mag": mag,
            "magerr": cand.get("sigmapsf"),
            "isdiffpos": positive,
            "ndethist": cand.get("ndethist"),
            "first_mjd": jdstart - JD_MJD_OFFSET if jdstart is not None else None,
            "rb": cand.get("rb"),
            "drb": cand.get("drb"),
            "nbad": cand.get("nbad"),
            "reliability": None,
            "flags": None,
            "ssdistnr": _unless_sentinel(cand.get("ssdistnr")),
            "ssnamenr": _designation(cand.get("ssnamenr")),
            "ssmagnr": _unless_sentinel(cand.get("ssmagnr")),
            "ss_object_id": None,
            "sgscore1": _unless_sentinel(cand.get("sgscore1")),
            "distpsnr1": _unless_sentinel(cand.get("distpsnr1")),
            **_columns("lc", ("mjd", "band", "flux", "fluxerr", "mag", "magerr"), lc),
            **_columns("ul", ("mjd", "band", "maglim"), ul),
            **_columns("fp", ("mjd", "band", "flux", "fluxerr"), fp),
            "night": utc_night(mjd),
        }


def _band(fid) -> str:
    try:
        return BANDS[fid]
    except KeyError:
        raise AlertError("invalid_band", f"ZTF filter id {fid!r} is not 1, 2 or 3") from None


def _isdiffpos(flag) -> bool | None:
    if flag in ("t", "1"):
        return True
    if flag in ("f", "0"):
        return False
    return None


def _unless_sentinel(value):
    """ZTF writes -999 (or null) where there is no catalogue match."""
    return None if value is None or value <= -999.0 else value


def _designation(name):
    """ZTF writes the string ``"null"`` where no known solar-system object is near."""
    if name is None:
        return None
    name = str(name).strip()
    return None if name in ("", "null") else name


def _history(prv_candidates, current_candid) -> tuple[list, list]:
    lc, ul = [], []
    for prv in prv_candidates:
        mjd = prv["jd"] - JD_MJD_OFFSET
        band = BANDS.get(prv["fid"])
        mag = prv.get("magpsf")
        if mag is None:
            ul.append((mjd, band, prv.get("diffmaglim")))
        elif prv.get("candid") != current_candid:
            sign = -1.0 if _isdiffpos(prv.get("isdiffpos")) is False else 1.0
            flux = sign * mag_to_njy(mag)
            lc.append((mjd, band, flux, fluxerr_from_mag(flux, prv.get("sigmapsf")), mag, prv.get("sigmapsf")))
    ul.sort(key=lambda point: point[0])
    return lc, ul


def _forced(fp_hists) -> list:
    points = []
    for fp in fp_hists:
        flux, err, zp = fp.get("forcediffimflux"), fp.get("forcediffimfluxunc"), fp.get("magzpsci")
        if flux is None or zp is None or flux == _FP_MISSING or not math.isfinite(flux):
            continue
        if err is not None and (err == _FP_MISSING or not math.isfinite(err)):
            err = None
        points.append((
            fp["jd"] - JD_MJD_OFFSET, BANDS.get(fp["fid"]), dn_to_njy(flux, zp),
            dn_to_njy(err, zp) if err is not None else None,
        ))
    points.sort(key=lambda point: point[0])
    return points

