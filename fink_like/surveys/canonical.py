"""The canonical alert view: one survey-agnostic Arrow schema for all science code.

Every survey adapter maps its packet onto these columns; science modules, filters and
the archive only ever read these names. Columns that a survey does not have are null
(for example ``rb`` for Rubin, ``flags`` for ZTF). The per-survey mapping is documented
in ``docs/surveys.md``.

Units: times are MJD (TAI for Rubin, UTC-based JD - 2400000.5 for ZTF), positions ICRS
degrees, fluxes are *difference-image* fluxes in nJy, magnitudes AB.

History columns are per-alert arrays sorted by time:

* ``lc_*``: detections, previous ones and the current one (so never empty);
* ``ul_*``: non-detection upper limits (ZTF ``prv_candidates`` without a measurement);
* ``fp_*``: forced photometry (ZTF ``fp_hists``, Rubin ``diaForcedSources``).
"""

from __future__ import annotations

import pyarrow as pa

F64 = pa.float64()
LIST_F64 = pa.list_(pa.float64())
LIST_STR = pa.list_(pa.string())

# Alert identity and the measurement that triggered it.
IDENTITY = [
    pa.field("survey", pa.string(), nullable=False),          # "ztf" | "lsst"
    pa.field("schema_version", pa.string(), nullable=False),  # "4.02", "9.0", ...
    pa.field("alert_id", pa.int64(), nullable=False),         # ZTF candid, Rubin diaSourceId
    pa.field("object_id", pa.string(), nullable=False),       # ZTF objectId, Rubin diaObjectId
    pa.field("source_id", pa.int64(), nullable=False),        # the detection's id
    pa.field("mjd", F64, nullable=False),
    pa.field("ra", F64, nullable=False),
    pa.field("dec", F64, nullable=False),
    pa.field("band", pa.string(), nullable=False),            # "g", "r", "i", ...
    pa.field("flux", F64),                                    # nJy, difference image
    pa.field("fluxerr", F64),
    pa.field("mag", F64),                                     # AB, from |flux| when derived
    pa.field("magerr", F64),
    pa.field("isdiffpos", pa.bool_()),                        # positive difference
]

# Context and quality, used by the quality cuts and the filters.
QUALITY = [
    pa.field("ndethist", pa.int32()),        # detections of this object so far, this one included
    pa.field("first_mjd", F64),              # first detection of the object
    pa.field("rb", F64),                     # ZTF real-bogus
    pa.field("drb", F64),                    # ZTF deep real-bogus
    pa.field("nbad", pa.int32()),            # ZTF bad pixels in the stamp
    pa.field("reliability", F64),            # Rubin reliability score
    pa.field("flags", pa.int64()),           # Rubin bitmask of set quality flags (docs/surveys.md)
    pa.field("ssdistnr", F64),               # distance to nearest known solar-system object, arcsec
    pa.field("ssnamenr", pa.string()),       # designation of that object (ZTF ssnamenr, Rubin MPC designation)
    pa.field("ssmagnr", F64),                # its predicted V magnitude
    pa.field("ss_object_id", pa.int64()),    # Rubin ssObjectId (null for ZTF)
    pa.field("sgscore1", F64),               # star/galaxy score of nearest PS1 source
    pa.field("distpsnr1", F64),              # distance to nearest PS1 source, arcsec
]

HISTORY = [
    pa.field("lc_mjd", LIST_F64),
    pa.field("lc_band", LIST_STR),
    pa.field("lc_flux", LIST_F64),
    pa.field("lc_fluxerr", LIST_F64),
    pa.field("lc_mag", LIST_F64),
    pa.field("lc_magerr", LIST_F64),
    pa.field("ul_mjd", LIST_F64),
    pa.field("ul_band", LIST_STR),
    pa.field("ul_maglim", LIST_F64),
    pa.field("fp_mjd", LIST_F64),
    pa.field("fp_band", LIST_STR),
    pa.field("fp_flux", LIST_F64),
    pa.field("fp_fluxerr", LIST_F64),
]

# Where the alert came from and when the broker saw it.
TRANSPORT = [
    pa.field("topic", pa.string()),
    pa.field("partition", pa.int32()),
    pa.field("offset", pa.int64()),
    pa.field("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
    pa.field("ingest_time", pa.timestamp("ms", tz="UTC")),
    pa.field("broker_version", pa.string()),
    pa.field("night", pa.string(), nullable=False),           # YYYYMMDD lake partition: ZTF UTC date, Rubin dayObs
]

# The message exactly as received: the survey packet, cutouts included. Lossless.
PACKET = [pa.field("packet", pa.binary(), nullable=False)]

CANONICAL_SCHEMA = pa.schema(IDENTITY + QUALITY + HISTORY + TRANSPORT + PACKET)
"""Columns of the raw lake and the input of every science module."""

CANONICAL_COLUMNS = tuple(CANONICAL_SCHEMA.names)

QUARANTINE_SCHEMA = pa.schema([
    pa.field("reason", pa.string(), nullable=False),   # short tag: "truncated", "bad_schema_id", ...
    pa.field("detail", pa.string()),                    # human-readable explanation
    pa.field("topic", pa.string()),
    pa.field("partition", pa.int32()),
    pa.field("offset", pa.int64()),
    pa.field("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
    pa.field("ingest_time", pa.timestamp("ms", tz="UTC")),
    pa.field("key", pa.binary()),
    pa.field("value", pa.binary()),                     # original bytes, untouched
    pa.field("night", pa.string(), nullable=False),    # ingest date, YYYYMMDD
])
"""Columns of the quarantine: the reason, the Kafka coordinates and the original bytes."""
