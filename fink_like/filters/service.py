"""The filter lifecycle, written once for the command line and the API.

:func:`submit` checks everything first (fields, name, channels, syntax, columns, plugin
import and contract, speed on real alerts) and then writes one row: a filter is either
stored whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

from fink_like.errors import ConfigError
from fink_like.filters.checks import CheckReport, check, prepare
from fink_like.filters.store import FilterStore, Revision


def opened(settings) -> FilterStore:
    """The archive's filter store, for a ``with`` block."""
    return FilterStore.open(settings)


def submit(settings, data: dict, *, replace: bool = False, base_dir: str | Path = ".",
           store: FilterStore | None = None) -> tuple[Revision, CheckReport]:
    """Check and store a filter (a new one, or with ``replace`` a new version).

    Raises
    ------
    ConfigError, PluginError
        The first problem found; nothing is written then.
    """
    spec = prepare(data, base_dir)
    if spec.name in {f.name for f in settings.distribution.filters}:
        raise ConfigError(f"a filter named {spec.name!r} exists already in the settings "
                          "(distribution.filters): choose another name")
    unknown = [c for c in spec.notify if c not in settings.notifications.channels]
    if unknown:
        known = ", ".join(sorted(settings.notifications.channels)) or "none configured"
        raise ConfigError(f"filter {spec.name!r}: unknown notification channel(s) {', '.join(unknown)} "
                          f"(notifications.channels: {known})")
    report = check(spec, settings)
    if store is not None:
        return store.add(spec, by=spec.owner, replace=replace), report
    with FilterStore.open(settings) as own:
        return own.add(spec, by=spec.owner, replace=replace), report


def revision_dict(rev: Revision, full: bool = False) -> dict:
    """A revision as plain data (for JSON and tables); ``full`` includes the plugin code."""
    spec = rev.spec.model_dump(exclude=None if full else {"plugin_source"})
    return {"name": rev.name, "version": rev.spec.version, "revision": rev.revision, "action": rev.action,
            "at": rev.at, "by": rev.by, "reason": rev.reason, "enabled": rev.spec.enabled,
            "kind": rev.spec.kind, "topic": rev.spec.topic, "owner": rev.spec.owner, "spec": spec}


def night(text: str) -> str:
    """``YYYYMMDD`` from ``YYYYMMDD`` or ``YYYY-MM-DD``."""
    digits = str(text).replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        raise ConfigError(f"night {text!r}: write YYYYMMDD or YYYY-MM-DD")
    return digits


def group_with_alerts(settings, object_id: str) -> dict | None:
    """The ZTF x Rubin group of ``object_id`` with each member's light curve (archive rows)."""
    from fink_like.archive.association import Associator
    from fink_like.archive.backends import open_backend
    from fink_like.archive.output import records
    from fink_like.archive.query import Archive

    backend = open_backend(settings)
    try:
        conf = settings.archive
        found = Associator(backend, conf.table_prefix, conf.association_radius_arcsec).group(object_id)
        if found is None:
            return None
        archive = Archive(settings, backend)
        for member in found["members"]:
            member["alerts"] = records(archive.object(member["object_id"]).table)
        return found
    finally:
        backend.close()
