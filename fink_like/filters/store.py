"""Users' filters, versioned, kept in the archive backend (embedded SQLite or HBase).

Table ``<archive.table_prefix>_filters``, family ``f``, one row per change::

    row key  NAME/REVISION (zero-padded)      cells  f:spec (JSON of UserFilter), f:action,
                                                     f:at (UTC ISO), f:by, f:reason

A change is one row written with one put, so nothing is ever half-applied; the newest
revision is the filter's state. ``version`` counts changes of the definition (what
selects, where it goes); enabling and disabling add revisions but keep the version. The
version travels in every message the filter selects (``fink_like.distribution``).

Single writer: the CLI and the API write; the stream only reads, except to disable a
plugin that failed (one more revision, action ``auto-disable``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import Field, ValidationError

from fink_like.config import FilterSpec
from fink_like.errors import ConfigError

TABLE = "filters"
FAMILY = "f"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
ACTIONS = ("add", "update", "enable", "disable", "auto-disable")


class UserFilter(FilterSpec):
    """A filter submitted by a user: a :class:`FilterSpec` with owner, version and plugin code.

    A plugin comes either from an installed entry point (``plugin``) or from a file whose
    code is kept here (``plugin_source``), so every executor and every later reader runs
    exactly the code of this version.
    """

    owner: str = ""
    description: str = ""
    version: int = Field(default=0, ge=0)
    plugin_source: str | None = None
    plugin_file: str | None = None
    notify: list[str] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        for kind in ("expression", "plugin", "plugin_source", "watchlist"):
            if getattr(self, kind) is not None:
                return "plugin" if kind == "plugin_source" else kind
        return "none"

    def definition(self) -> dict:
        """What selects and where it goes: a change here makes a new version."""
        return self.model_dump(exclude={"version", "enabled", "owner", "description"})


@dataclass(frozen=True)
class Revision:
    """One change of one filter, as kept in the store."""

    name: str
    revision: int
    action: str
    at: str
    by: str
    reason: str
    spec: UserFilter


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"filter name {name!r}: use 1-64 letters, digits, '_' or '-', starting with a letter or digit")
    return name


def user_filter(data: dict) -> UserFilter:
    """Validate a submitted filter; exactly one of expression, plugin, plugin_source, watchlist."""
    try:
        spec = UserFilter.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"filter {data.get('name')!r}: {problems}") from exc
    check_name(spec.name)
    given = [k for k in ("expression", "plugin", "plugin_source", "watchlist") if getattr(spec, k) is not None]
    if len(given) != 1:
        raise ConfigError(f"filter {spec.name!r}: give exactly one of an expression, a plugin or a watch list")
    if not spec.topic.strip():
        raise ConfigError(f"filter {spec.name!r}: the topic is empty")
    return spec


class FilterStore:
    """The versioned filters of one archive (see the module docstring for the layout).

    Parameters
    ----------
    backend
        An open :class:`~fink_like.archive.backends.ArchiveBackend`; the table is created.
    prefix
        ``settings.archive.table_prefix``.
    """

    def __init__(self, backend, prefix: str):
        self.backend = backend
        self.table = f"{prefix}_{TABLE}"
        backend.create_tables({self.table: (FAMILY,)})

    @classmethod
    def open(cls, settings) -> "FilterStore":
        from fink_like.archive.backends import open_backend

        return cls(open_backend(settings), settings.archive.table_prefix)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading -----------------------------------------------------------------------

    def history(self, name: str) -> list[Revision]:
        """Every revision of ``name``, oldest first (empty when unknown)."""
        prefix = f"{check_name(name)}/".encode()
        return [_revision(key, cells) for key, cells in self.backend.scan_prefix(self.table, prefix)]

    def head(self, name: str) -> Revision | None:
        revisions = self.history(name)
        return revisions[-1] if revisions else None

    def get(self, name: str) -> UserFilter:
        """The current state of ``name``; ConfigError naming the known filters when unknown."""
        head = self.head(name)
        if head is None:
            known = ", ".join(sorted(self.heads())) or "none yet"
            raise ConfigError(f"no filter named {name!r} (known: {known})")
        return head.spec

    def heads(self) -> dict[str, Revision]:
        """The newest revision of every filter, by name."""
        out: dict[str, Revision] = {}
        for key, cells in self.backend.scan(self.table):
            rev = _revision(key, cells)
            out[rev.name] = rev  # keys sort by name then revision: the last one wins
        return out

    def active(self) -> tuple[UserFilter, ...]:
        """Enabled filters, sorted by name: what the stream runs."""
        return tuple(r.spec for _, r in sorted(self.heads().items()) if r.spec.enabled)

    # -- writing -----------------------------------------------------------------------

    def add(self, spec: UserFilter, by: str = "", replace: bool = False) -> Revision:
        """Store a new filter (version 1), or with ``replace`` a new version of an existing one.

        Raises
        ------
        ConfigError
            The name exists and ``replace`` is false, or it does not exist and ``replace`` is true.
        """
        head = self.head(spec.name)
        if head is not None and not replace:
            raise ConfigError(f"a filter named {spec.name!r} exists already (version {head.spec.version}, "
                              f"owner {head.spec.owner or 'unknown'}): choose another name, or replace it")
        if head is None and replace:
            raise ConfigError(f"no filter named {spec.name!r} to replace")
        if head is not None and head.spec.definition() == spec.definition():
            raise ConfigError(f"filter {spec.name!r}: the definition is unchanged (version {head.spec.version})")
        version = 1 if head is None else head.spec.version + 1
        action = "add" if head is None else "update"
        return self._write(spec.model_copy(update={"version": version}), action, by or spec.owner, "", head)

    def set_enabled(self, name: str, enabled: bool, by: str = "", reason: str = "",
                    action: str | None = None) -> Revision:
        """Enable or disable ``name`` (one new revision; the version is kept)."""
        head = self.head(name)
        if head is None:
            self.get(name)  # raises with the known names
        action = action or ("enable" if enabled else "disable")
        return self._write(head.spec.model_copy(update={"enabled": enabled}), action, by, reason, head)

    def _write(self, spec: UserFilter, action: str, by: str, reason: str, head: Revision | None) -> Revision:
        revision = 1 if head is None else head.revision + 1
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        cells = {b"f:spec": spec.model_dump_json().encode(), b"f:action": action.encode(),
                 b"f:at": at.encode(), b"f:by": by.encode(), b"f:reason": reason.encode()}
        self.backend.put(self.table, _key(spec.name, revision), cells)
        return Revision(spec.name, revision, action, at, by, reason, spec)


def _key(name: str, revision: int) -> bytes:
    return f"{name}/{revision:08d}".encode()


def _revision(key: bytes, cells: dict) -> Revision:
    name, _, number = key.decode().rpartition("/")
    spec = UserFilter.model_validate(json.loads(cells[b"f:spec"]))
    text = {k.split(b":", 1)[1].decode(): v.decode() for k, v in cells.items() if k != b"f:spec"}
    return Revision(name, int(number), text.get("action", ""), text.get("at", ""), text.get("by", ""),
                    text.get("reason", ""), spec)
