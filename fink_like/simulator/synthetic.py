"""A synthetic night: simulated light curves turned into complete, schema-valid survey alerts.

:func:`synthetic_night` draws labelled light curves with :func:`fink_like.science.lcsim.simulate`,
moves each one in time so that its alert (its last detection) falls inside one observing
night, and writes every alert as its survey would send it: ZTF 4.02 Avro containers and
Rubin 9.0 Confluent-framed Avro bodies, cutouts included. ``fink-like run`` replays such a
night when no real alert files are available.

Records start from a template of the schema's own defaults (:func:`record_templates`), so
every required field holds a valid value and only the fields that carry the light curve,
the identity and the quality of an alert are set here. The survey-specific filling lives
in :mod:`fink_like.simulator.synthetic_records`.

Examples
--------
>>> from fink_like.simulator.synthetic import synthetic_night
>>> messages = synthetic_night(4, seed=1)
>>> sorted(m.survey for m in messages)
['lsst', 'lsst', 'ztf', 'ztf']
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from fink_like.science.lcsim import simulate
from fink_like.science.lcsim.cadence import SimulationError
from fink_like.surveys.files import AlertMessage

DEFAULT_NIGHT_MJD = 61000.0
"""The night replayed by default: MJD 61000, night ``20251121`` for both surveys."""

# Where alert epochs fall, in days after ``mjd_night`` 00:00 UTC: Palomar's night in UTC
# (same UTC date, ZTF's night) and Cerro Pachon's (dayObs = that date, Rubin's night).
NIGHT_WINDOWS = {"ztf": (0.15, 0.45), "lsst": (1.0, 1.38)}
HISTORY_DAYS = {"ztf": 30.0, "lsst": 365.0}   # ZTF prv_candidates span; Rubin's 12 months
SURVEYS = ("ztf", "lsst")
_ALIASES = {"rubin": "lsst"}
_ZERO = {"null": None, "boolean": False, "int": 0, "long": 0, "float": 0.0, "double": 0.0,
         "string": "", "bytes": b""}


@dataclass(frozen=True)
class SyntheticNight:
    """The messages of a synthetic night and what each one must decode to.

    ``expected[i]`` holds the canonical values (survey, ids, mjd, position, band, flux,
    magnitude, quality, light curve, upper limits, forced photometry, night, and the
    simulator's ``label``) that ``messages[i]`` carries, before the survey's float32
    rounding of magnitudes and fluxes.
    """

    messages: list[AlertMessage]
    expected: list[dict]


def synthetic_night(n_alerts: int, seed: int = 0, surveys=SURVEYS,
                    mjd_night: float | None = None) -> list[AlertMessage]:
    """``n_alerts`` wire-format alerts of one night, from simulated light curves.

    Parameters
    ----------
    n_alerts
        How many alerts, split evenly between ``surveys`` (earlier surveys get the remainder).
    seed
        The night is a deterministic function of ``(n_alerts, seed, surveys, mjd_night)``,
        bytes included.
    surveys
        Any of ``"ztf"`` (schema 4.02) and ``"lsst"`` (alias ``"rubin"``, schema 9.0).
    mjd_night
        MJD of the night's UTC date at 00:00 (default :data:`DEFAULT_NIGHT_MJD`). Every
        alert's ``night`` column is that date.

    Returns
    -------
    list of AlertMessage
        One survey after the other, each in time order; ``key`` is the alert id.

    Raises
    ------
    SimulationError
        For a negative or non-integer count or seed, an unknown survey or a bad night.
    """
    return make_night(n_alerts, seed, surveys, mjd_night).messages


def make_night(n_alerts: int, seed: int = 0, surveys=SURVEYS,
               mjd_night: float | None = None) -> SyntheticNight:
    """Like :func:`synthetic_night`, with the expected canonical values of every message."""
    from fink_like.simulator.synthetic_records import BUILDERS

    surveys = _check(n_alerts, seed, surveys)
    night = DEFAULT_NIGHT_MJD if mjd_night is None else _check_night(mjd_night)
    base, extra = divmod(int(n_alerts), len(surveys))
    messages, expected = [], []
    for i, survey in enumerate(surveys):
        count = base + (i < extra)
        if not count:
            continue
        table = simulate(count, survey=survey, seed=int(seed), truncate=True,
                         forced_photometry=survey == "lsst", history_days=HISTORY_DAYS[survey])
        rng = np.random.default_rng([int(seed), SURVEYS.index(survey), 2000])
        rows = shift_rows(table.to_pylist(), rng, night, NIGHT_WINDOWS[survey])
        rows.sort(key=lambda row: row["mjd"])
        builder = BUILDERS[survey](int(seed), rng, night)
        for message, values in builder.build(rows):
            messages.append(message)
            expected.append(values)
    return SyntheticNight(messages, expected)


def shift_rows(rows: list[dict], rng: np.random.Generator, night: float,
               window: tuple[float, float]) -> list[dict]:
    """Move each light curve in time so that its alert epoch falls inside the night window.

    Every time of a row moves by the same amount: ``mjd``, ``first_mjd`` and the
    ``lc_``, ``ul_`` and ``fp_`` epochs.
    """
    targets = night + rng.uniform(window[0], window[1], len(rows))
    for row, target in zip(rows, targets):
        shift = float(target) - row["mjd"]
        row["mjd"] = float(target)
        if row["first_mjd"] is not None:
            row["first_mjd"] += shift
        for name in ("lc_mjd", "ul_mjd", "fp_mjd"):
            row[name] = [t + shift for t in row[name]]
        # The alert epoch is the last detection: make it exactly the alert's time.
        row["lc_mjd"][-1] = row["mjd"]
    return rows


def record_templates(parsed_schema) -> dict[str, dict]:
    """A default record for every named record type of a parsed Avro schema.

    Keys are short names (``"candidate"``, ``"diaSource"``, ...). A field takes its
    schema default when it has one, ``None`` when it is nullable, and otherwise the
    zero of its type (0, 0.0, ``""``, ``False``, ``b""``, ``[]``, ``{}``, the first enum
    symbol, a nested default record), so every template encodes with its schema.
    """
    named: dict[str, dict] = {}
    _collect(parsed_schema, named)
    return {name.rsplit(".", 1)[-1]: _default_record(schema, named) for name, schema in named.items()}


def _collect(avro_type, named: dict) -> None:
    if isinstance(avro_type, list):
        for branch in avro_type:
            _collect(branch, named)
    elif isinstance(avro_type, dict):
        kind = avro_type.get("type")
        if kind == "record":
            named.setdefault(avro_type["name"], avro_type)
            for field in avro_type["fields"]:
                _collect(field["type"], named)
        elif kind == "array":
            _collect(avro_type["items"], named)
        elif kind == "map":
            _collect(avro_type["values"], named)


def _default_record(schema: dict, named: dict) -> dict:
    return {
        f["name"]: copy.deepcopy(f["default"]) if "default" in f else _default(f["type"], named)
        for f in schema["fields"]
    }


def _default(avro_type, named: dict):
    if isinstance(avro_type, str):
        if avro_type in _ZERO:
            return _ZERO[avro_type]
        return _default_record(named[avro_type], named)
    if isinstance(avro_type, list):
        return None if "null" in avro_type else _default(avro_type[0], named)
    kind = avro_type["type"]
    if kind == "record":
        return _default_record(avro_type, named)
    if kind == "array":
        return []
    if kind == "map":
        return {}
    if kind == "enum":
        return avro_type["symbols"][0]
    if kind == "fixed":
        return b"\0" * avro_type["size"]
    return _default(kind, named)  # a logical type over a primitive


def _check(n_alerts, seed, surveys) -> tuple[str, ...]:
    for name, value in (("n_alerts", n_alerts), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise SimulationError(f"{name} must be a non-negative int, got {value!r}")
    if isinstance(surveys, str):
        surveys = (surveys,)
    chosen = tuple(_ALIASES.get(str(s).lower(), str(s).lower()) for s in surveys)
    unknown = [s for s in chosen if s not in SURVEYS]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise SimulationError(f"surveys must be distinct names among ztf, lsst (rubin), got {list(surveys)!r}")
    return chosen


def _check_night(mjd_night) -> float:
    if isinstance(mjd_night, bool) or not isinstance(mjd_night, (int, float, np.floating, np.integer)) \
            or not math.isfinite(mjd_night) or not 33282.0 <= mjd_night <= 88067.0:
        raise SimulationError(f"mjd_night must be an MJD between 1950 and 2100, got {mjd_night!r}")
    return float(math.floor(mjd_night))
