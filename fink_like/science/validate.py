"""Check a third-party science module before it runs in the broker.

:func:`validate_module` imports the module, checks its declarations against the
canonical schema, runs it on real alerts and reports, check by check, what passes:
types and lengths of the outputs, determinism, an empty batch, alerts without history,
and the time per alert. ``fink-like modules validate`` prints that report.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pyarrow as pa

from fink_like.errors import PluginError
from fink_like.science.base import NAME_RE, ScienceModule
from fink_like.science.registry import check_collisions, declared_outputs, load_module, resolve
from fink_like.science.runner import coerce_outputs
from fink_like.science.samples import without_history
from fink_like.surveys.canonical import CANONICAL_COLUMNS


@dataclass
class Check:
    """One line of the report."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class ValidationReport:
    """All checks of one module; ``passed`` when every check is ok."""

    reference: str
    checks: list[Check] = field(default_factory=list)
    seconds_per_alert: float | None = None

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def format(self) -> str:
        """The human-readable report."""
        lines = [f"validating science module {self.reference}"]
        lines += [f"  [{'PASS' if c.ok else 'FAIL'}] {c.name}" + (f": {c.detail}" if c.detail else "")
                  for c in self.checks]
        if self.seconds_per_alert is not None:
            lines.append(f"  time per alert: {self.seconds_per_alert * 1e3:.3f} ms")
        lines.append("RESULT: " + ("PASS" if self.passed else "FAIL"))
        return "\n".join(lines)


def validate_module(reference: str, params: Mapping[str, Any] | None, sample: pa.Table) -> ValidationReport:
    """Run every check on the module ``reference`` (entry-point name or ``package.module:Class``).

    Parameters
    ----------
    reference
        What users put in ``science.modules[].name``, or a ``package.module:Class``.
    params
        The module's parameters.
    sample
        Real canonical alerts (``fink_like.science.samples.real_sample``), at least one.
    """
    report = ValidationReport(reference)
    params = dict(params or {})
    add = report.checks.append
    try:
        cls = resolve(reference)
    except PluginError as exc:
        add(Check("imports and honours the contract", False, str(exc)))
        return report
    add(Check("imports and honours the contract", True, f"{cls.name} {cls.version}"))
    try:
        typed = cls.parse_params(params)
    except PluginError as exc:
        add(Check("parameters are known and typed", False, str(exc)))
        return report
    add(Check("parameters are known and typed", True,
              ", ".join(f"{k}={v!r}" for k, v in typed.model_dump().items()) or "(none)"))
    outputs = _declarations(cls, typed, add)
    if outputs is None:
        return report
    try:
        module = load_module(reference, typed)
    except PluginError as exc:
        add(Check("loads with its parameters", False, str(exc)))
        return report
    add(Check("loads with its parameters", True))
    _hash_check(module, add)
    if sample.num_rows == 0:
        add(Check("real sample", False, "the sample has no alerts"))
        return report
    first, seconds = _run(module, sample, outputs, add, "outputs on real alerts match declared types and length")
    second, seconds2 = _run(module, sample, outputs, lambda c: None, "")
    if first is not None:
        report.seconds_per_alert = min(seconds, seconds2) / sample.num_rows
        same = second is not None and all(_equal(first[c], second[c]) for c in outputs)
        differ = [] if second is None else [c for c in outputs if not _equal(first[c], second[c])]
        add(Check("deterministic (two runs equal)", same, f"differs in {differ}" if differ else ""))
    _run(module, sample.slice(0, 0), outputs, add, "copes with an empty batch")
    _run(module, without_history(sample), outputs, add,
         "copes with alerts without history (one detection, no limits, no forced photometry)")
    return report


def _declarations(cls: type[ScienceModule], params, add: Callable) -> dict | None:
    unknown = [c for c in cls.inputs if c not in CANONICAL_COLUMNS]
    add(Check("inputs are canonical columns", not unknown,
              f"unknown: {unknown}" if unknown else ", ".join(cls.inputs) or "(none)"))
    try:
        outputs = declared_outputs(cls, params)
        check_collisions([(cls.name, outputs)])
    except PluginError as exc:
        add(Check("outputs are new, typed columns", False, str(exc)))
        return None
    bad = [c for c in outputs if not NAME_RE.match(c)]
    add(Check("outputs are new, typed columns", bool(outputs) and not bad,
              ", ".join(f"{c}: {t}" for c, t in outputs.items()) or "no output columns declared"))
    return outputs if outputs and not bad and not unknown else None


def _hash_check(module: ScienceModule, add: Callable) -> None:
    try:
        digest = module.model_hash
        ok = isinstance(digest, str) and len(digest) == 64 and all(ch in "0123456789abcdef" for ch in digest)
        add(Check("model_hash is a sha256 hex digest", ok, "" if ok else f"got {digest!r}"))
    except Exception as exc:
        add(Check("model_hash is a sha256 hex digest", False, f"{type(exc).__name__}: {exc}"))


def _run(module: ScienceModule, table: pa.Table, outputs: dict, add: Callable, what: str):
    """(checked outputs, seconds) or (None, None) after recording a failed check."""
    start = time.perf_counter()
    try:
        result = module.process(table.select(list(type(module).inputs)))
        seconds = time.perf_counter() - start
        checked = coerce_outputs(result, outputs, table.num_rows)
    except Exception as exc:
        add(Check(what, False, f"{type(exc).__name__}: {exc}"))
        return None, None
    add(Check(what, True, f"{table.num_rows} alerts"))
    return checked, seconds


def _equal(a: pa.Array, b: pa.Array) -> bool:
    if a.equals(b):
        return True
    return len(a) == len(b) and all(_same(x, y) for x, y in zip(a.to_pylist(), b.to_pylist()))


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same(p, q) for p, q in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return x == y
