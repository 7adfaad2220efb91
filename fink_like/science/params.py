"""Typed science-module parameters: a pydantic model per module that refuses unknown keys.

Each module declares ``Params``, a subclass of :class:`ModuleParams`. The registry
validates ``science.modules[].params`` against it when a runner is built (on the driver,
before any alert), and :meth:`ScienceModule.load` always receives an instance, so a
typo such as ``pases: 8`` fails at start-up with the module and the key named.

Every field changes the module's outputs unless declared with :func:`not_in_hash`, and
is then folded into the provenance's ``model_hash``.

Examples
--------
>>> class Params(ModuleParams):
...     passes: int = Field(16, ge=1)
...     threads: int = not_in_hash(1, ge=1)
>>> hashed_params(parse_params(Params, {"threads": 4}, "demo"))
{'passes': 16}
>>> parse_params(Params, {"pases": 8}, "demo")
Traceback (most recent call last):
...
fink_like.errors.PluginError: science module 'demo': unknown parameter 'pases'; known: passes, threads
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fink_like.errors import PluginError

__all__ = ["Field", "ModuleParams", "hashed_params", "not_in_hash", "parse_params"]

_NOT_IN_HASH = "not_in_hash"


class ModuleParams(BaseModel):
    """Base of every module's parameters: unknown keys refused, instances frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def not_in_hash(default: Any = ..., **kwargs) -> Any:
    """A field left out of ``model_hash``: it does not change outputs.

    For settings of how a module runs (``threads``, a cache folder), or values whose
    effect is already hashed through a model file's content (the path to that file).
    Takes the arguments of :func:`pydantic.Field`.
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    return Field(default, json_schema_extra={**extra, _NOT_IN_HASH: True}, **kwargs)


def hashed_params(params: ModuleParams) -> dict[str, Any]:
    """The fields of ``params`` that change outputs, as JSON-ready values."""
    skip = {name for name, info in type(params).model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(_NOT_IN_HASH)}
    return params.model_dump(mode="json", exclude=skip)


def parse_params(model: type[ModuleParams], params: Mapping[str, Any] | BaseModel | None,
                 module: str) -> ModuleParams:
    """``params`` validated as ``model``.

    Raises
    ------
    PluginError
        Naming ``module`` and each bad key: unknown ones (with the known ones), missing
        required ones, and values of the wrong type or range.
    """
    if isinstance(params, model):
        return params
    if isinstance(params, BaseModel):
        params = params.model_dump()
    if params is not None and not isinstance(params, Mapping):
        raise PluginError(f"science module {module!r}: params must be a mapping, got {type(params).__name__}")
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as exc:
        raise PluginError(f"science module {module!r}: " + "; ".join(
            _problem(model, error) for error in exc.errors())) from exc


def _problem(model: type[ModuleParams], error: dict) -> str:
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        known = ", ".join(model.model_fields) or "none"
        return f"unknown parameter {key!r}" + (f"; known: {known}" if len(error["loc"]) == 1 else "")
    if error["type"] == "missing":
        return f"parameter {key!r} is required"
    return f"parameter {key!r}: {error['msg']} (got {error.get('input')!r})"
