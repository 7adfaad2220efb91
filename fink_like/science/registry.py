"""Find science modules through entry points and load them once per process.

Modules are registered by their package in the entry-point group
``fink_like.science_modules`` (``name = package.module:Class``); nothing in the broker
lists them. A reference may also be ``package.module:Class`` directly, which is how
``fink-like modules validate`` tries a module before it is packaged.

Parameters are validated against each module's typed ``Params`` when a runner is built
(:func:`declared_outputs`, on the driver), and :func:`pin_specs` fixes what may change
while a query runs (``model_version: latest``) before the specs travel to executors.
Loaded instances are cached per process, keyed by (name, version, parameters), so a
Spark executor loads each model once however many batches it processes.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Iterable, Mapping

from fink_like.config import ModuleSpec
from fink_like.errors import PluginError
from fink_like.science.base import ScienceModule, canonical_json, check_contract, output_problems
from fink_like.science.params import ModuleParams
from fink_like.surveys.canonical import CANONICAL_COLUMNS

GROUP = "fink_like.science_modules"
PROVENANCE_COLUMN = "provenance"

log = logging.getLogger("fink_like.science")
_CACHE: dict[tuple[str, str, str], ScienceModule] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModuleInfo:
    """What ``fink-like modules list`` shows about one installed module."""

    name: str
    version: str
    inputs: tuple[str, ...]
    outputs: dict
    package: str
    target: str


def available() -> dict[str, EntryPoint]:
    """Installed modules: entry-point name -> entry point (first one wins on duplicates)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        if ep.name in found and found[ep.name].value != ep.value:
            log.warning("duplicate science module %r: %s shadows %s",
                        ep.name, found[ep.name].value, ep.value)
            continue
        found.setdefault(ep.name, ep)
    return found


def resolve(reference: str) -> type[ScienceModule]:
    """The module class for an entry-point name or a ``package.module:Class`` reference.

    Raises
    ------
    PluginError
        Unknown name (listing the installed ones), import failure, or a class that is
        not a ScienceModule / breaks the contract.
    """
    if ":" in reference:
        target, loader = reference, lambda: _import_target(reference)
    else:
        eps = available()
        if reference not in eps:
            names = ", ".join(sorted(eps)) or "none installed"
            raise PluginError(f"unknown science module {reference!r}; available: {names}")
        target, loader = eps[reference].value, eps[reference].load
    try:
        cls = loader()
    except PluginError:
        raise
    except Exception as exc:  # any import-time failure of third-party code
        raise PluginError(f"science module {reference!r} ({target}) failed to import: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, ScienceModule)):
        raise PluginError(f"science module {reference!r} ({target}) is not a ScienceModule subclass")
    check_contract(cls)
    if ":" not in reference and cls.name != reference:
        raise PluginError(f"entry point {reference!r} ({target}) names a module whose name is {cls.name!r}")
    return cls


def _import_target(reference: str):
    module_name, _, attr = reference.partition(":")
    if not module_name or not attr:
        raise PluginError(f"module reference {reference!r} must look like package.module:Class")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise PluginError(f"module reference {reference!r}: {module_name} has no {attr}") from exc
    return obj


def describe_installed() -> list[ModuleInfo]:
    """One ModuleInfo per installed entry point; broken ones are reported, not raised."""
    out = []
    for name, ep in sorted(available().items()):
        package = ep.dist.name if ep.dist is not None else "?"
        try:
            cls = resolve(name)
        except PluginError as exc:
            out.append(ModuleInfo(name, "?", (), {"error": str(exc)}, package, ep.value))
            continue
        try:
            declared = declared_outputs(cls, {})
        except PluginError:  # required parameters: the outputs are those declared
            declared = dict(cls.outputs)
        outputs = {k: str(v) for k, v in declared.items()}
        out.append(ModuleInfo(name, cls.version, cls.inputs, outputs, package, ep.value))
    return out


def declared_outputs(cls: type[ScienceModule], params: Mapping[str, Any] | ModuleParams) -> dict:
    """The output types of ``cls`` for ``params`` (validated first), checked (names and Arrow types).

    Raises
    ------
    PluginError
        Naming the module: a parameter it does not know, or of the wrong type, or
        output declarations that are not new typed columns.
    """
    typed = cls.parse_params(params)
    try:
        outputs = cls.output_types(typed)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"science module {cls.name!r}: bad parameters for its outputs: {exc}") from exc
    problems = list(output_problems(outputs))
    if problems:
        raise PluginError(f"science module {cls.name!r}: " + "; ".join(problems))
    return outputs


def check_collisions(declared: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
    """Raise PluginError if an output column is canonical, ``provenance`` or declared twice."""
    owner: dict[str, str] = {}
    for module_name, outputs in declared:
        for column in outputs:
            if column in CANONICAL_COLUMNS or column == PROVENANCE_COLUMN:
                raise PluginError(f"science module {module_name!r}: output column {column!r} "
                                  "collides with a canonical column")
            if column in owner:
                raise PluginError(f"science modules {owner[column]!r} and {module_name!r} "
                                  f"both write column {column!r}")
            owner[column] = module_name


def load_module(reference: str, params: Mapping[str, Any] | ModuleParams | None = None) -> ScienceModule:
    """Load one module with ``params``, once per process (cached by name, version, params)."""
    cls = resolve(reference)
    params = cls.parse_params(params)
    declared_outputs(cls, params)
    key = (reference, cls.version, canonical_json(params.model_dump(mode="json")))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        instance = cls()
        try:
            instance.load(params)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"science module {reference!r} failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
        log.info("loaded science module", extra={"science_module": cls.name, "module_version": cls.version})
        _CACHE[key] = instance
        return instance


def pin_specs(specs: Iterable[ModuleSpec]) -> list[ModuleSpec]:
    """``specs`` with validated parameters that cannot change while a query runs.

    Each module's :meth:`~fink_like.science.base.ScienceModule.pin` resolves what would
    otherwise be resolved again in every executor (``model_version: latest`` -> ``v3``).
    Call it once, on the driver, when a query starts; executors receive the result, so
    every batch of the query is scored by the same models until it restarts.

    Raises
    ------
    PluginError
        An unknown module or parameter, naming it.
    """
    pinned = []
    for spec in specs:
        if not spec.enabled:
            pinned.append(spec)
            continue
        cls = resolve(spec.name)
        params = cls.pin(cls.parse_params(spec.params))
        pinned.append(spec.model_copy(update={"params": params.model_dump(mode="json", exclude_unset=True)}))
    return pinned


def pin_settings(settings):
    """``settings`` whose ``science.modules`` are pinned (:func:`pin_specs`)."""
    science = settings.science.model_copy(update={"modules": pin_specs(settings.science.modules)})
    return settings.model_copy(update={"science": science})


def enabled(specs: Iterable[ModuleSpec]) -> list[ModuleSpec]:
    """The enabled specs, in configured order."""
    return [s for s in specs if s.enabled]


def load_modules(specs: Iterable[ModuleSpec]) -> list[ScienceModule]:
    """Loaded instances of the enabled modules, in configured order.

    Output columns are checked for collisions before any model is loaded.
    """
    specs = enabled(specs)
    check_collisions((s.name, declared_outputs(resolve(s.name), s.params)) for s in specs)
    return [load_module(s.name, s.params) for s in specs]


def clear_cache() -> None:
    """Forget loaded modules (tests; a new configuration in a long-lived process)."""
    with _LOCK:
        _CACHE.clear()
