"""The checks every job makes before it starts, written once for ``run``, the streaming
jobs and ``fink-like config check`` (the pre-flight step of ``docs/deploy.md``).

A configuration that passes here is one the jobs accept: the science modules resolve
(and, with ``load_modules``, load their models), the quality cuts and every filter
compile against the schema the modules produce, and each topic has one filter (checked
with the settings themselves). Each problem is a :class:`~fink_like.errors.ConfigError`
that names the key.
"""

from __future__ import annotations

from fink_like.config import Settings
from fink_like.errors import ConfigError, PluginError


def preflight(settings: Settings, load_modules: bool = False) -> None:
    """Raise ConfigError for the first thing the jobs would reject in ``settings``.

    Parameters
    ----------
    load_modules
        Also load every enabled module (models read from disk) in this process. The jobs
        load them on the executors instead; ``config check`` loads them here.
    """
    from fink_like.filters.engine import FilterEngine
    from fink_like.jobs.driver import science_schema
    from fink_like.jobs.stages import compile_cuts
    from fink_like.science import registry

    try:
        schema = science_schema(settings)
    except PluginError as exc:
        raise ConfigError(f"science.modules: {exc}") from exc
    if load_modules:
        for spec in registry.enabled(settings.science.modules):
            try:
                registry.load_module(spec.name, spec.params)
            except PluginError as exc:
                raise ConfigError(f"science.modules[{spec.name}]: {exc}") from exc
    compile_cuts(settings.science.quality_cuts)
    FilterEngine.from_settings(settings, schema)
