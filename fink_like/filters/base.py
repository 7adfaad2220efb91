"""The extension point for filters written in Python, loaded from entry points.

A plugin is a class registered in the entry-point group ``fink_like.filters``::

    [options.entry_points]
    fink_like.filters =
        fast_riser = my_package.filters:FastRiser

It is checked when the configuration loads (class, name, declared columns present in
the enriched schema), never at the first alert.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from importlib.metadata import entry_points
from typing import ClassVar, Mapping

import pyarrow as pa

from fink_like.errors import ConfigError, PluginError

ENTRY_POINT_GROUP = "fink_like.filters"


class AlertFilter(ABC):
    """A filter plugin: decides, for each alert of a batch, whether it goes to a topic.

    Contract
    --------
    * ``name`` is stable: it is how the configuration refers to the plugin.
    * ``required_columns`` lists every column ``mask`` reads; the engine checks them
      against the enriched schema at load time.
    * ``mask`` is static and stateless: it sees one batch, returns one boolean per row
      (null is treated as false), and does not keep data between batches. Each executor
      process builds its own instance (the plugin's entry point or stored code is what
      travels), so ``__init__`` takes no arguments.
    * ``mask`` returns within ``distribution.plugin_budget_seconds`` per batch partition.
      A plugin that raises, overruns or returns the wrong number of booleans is taken
      out of the batch and disabled (:mod:`fink_like.filters.isolation`); the other
      filters, the archive and the stream go on.
    """

    name: ClassVar[str]
    required_columns: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls):
            return
        if not isinstance(getattr(cls, "name", None), str) or not cls.name:
            raise PluginError(f"filter plugin {cls.__qualname__} must set a non-empty class attribute `name`")
        if not isinstance(cls.required_columns, (tuple, list)):
            raise PluginError(f"filter plugin {cls.name}: required_columns must be a tuple of column names")
        params = list(inspect.signature(cls.mask).parameters)
        if params != ["self", "table"]:
            raise PluginError(f"filter plugin {cls.name}: mask must be `def mask(self, table)`, not {params}")

    @abstractmethod
    def mask(self, table: pa.Table) -> pa.BooleanArray:
        """One boolean per row of ``table``: True sends the alert to the filter's topic."""


def available_plugins() -> dict[str, type]:
    """Installed filter plugins by entry-point name (loaded lazily by :func:`load_plugin`)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_plugin(name: str, schema: pa.Schema, registry: Mapping[str, object] | None = None) -> AlertFilter:
    """Instantiate the plugin ``name`` and check its declared columns against ``schema``.

    ``registry`` maps names to classes or entry points; default: the installed entry points.

    Raises
    ------
    ConfigError
        Unknown plugin (with the installed names) or a declared column missing from the schema.
    PluginError
        The entry point does not give an :class:`AlertFilter` subclass.
    """
    registry = available_plugins() if registry is None else registry
    if name not in registry:
        known = ", ".join(sorted(registry)) or "none installed"
        raise ConfigError(f"unknown filter plugin {name!r} (entry-point group {ENTRY_POINT_GROUP}: {known})")
    target = registry[name]
    try:
        cls = target.load() if hasattr(target, "load") else target
    except Exception as exc:  # an entry point that cannot import is a broken plugin
        raise PluginError(f"filter plugin {name!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, AlertFilter)):
        raise PluginError(f"filter plugin {name!r} is {cls!r}, not a subclass of AlertFilter")
    return _instance(cls, name, schema)


def load_plugin_source(source: str, filename: str, schema: pa.Schema) -> AlertFilter:
    """Instantiate the one :class:`AlertFilter` subclass defined by Python ``source``.

    The code of a plugin submitted as a file is kept in the filter store with its version
    and run from there, so every executor runs the same code without the file.

    Raises
    ------
    PluginError
        The code does not compile or import, or defines no or several filter classes.
    ConfigError
        A declared column is missing from the schema.
    """
    import hashlib
    import types

    module_name = f"fink_like_user_filter_{hashlib.sha256(source.encode()).hexdigest()[:12]}"
    module = types.ModuleType(module_name)
    module.__file__ = filename
    try:
        exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - the plugin's own code
    except Exception as exc:  # SyntaxError, ImportError, a PluginError from the contract check...
        raise PluginError(f"filter plugin {filename}: cannot be imported: {type(exc).__name__}: {exc}") from exc
    found = [v for v in module.__dict__.values() if isinstance(v, type) and issubclass(v, AlertFilter)
             and v.__module__ == module_name and not inspect.isabstract(v)]
    if len(found) != 1:
        names = ", ".join(c.__name__ for c in found) or "none"
        raise PluginError(f"filter plugin {filename}: define exactly one AlertFilter subclass (found {names})")
    return _instance(found[0], filename, schema)


def _instance(cls: type, name: str, schema: pa.Schema) -> AlertFilter:
    missing = [c for c in cls.required_columns if c not in schema.names]
    if missing:
        raise ConfigError(f"filter plugin {name!r} needs column(s) {', '.join(missing)}, absent from the alerts")
    try:
        return cls()
    except Exception as exc:
        raise PluginError(f"filter plugin {name!r} cannot be instantiated: {exc}") from exc
