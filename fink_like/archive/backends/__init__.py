"""Archive backends behind one interface; :func:`open_backend` picks one from the settings."""

from __future__ import annotations

from fink_like.archive.backends.base import ArchiveBackend, prefix_stop

__all__ = ["ArchiveBackend", "open_archive", "open_backend", "prefix_stop"]


def open_backend(settings) -> ArchiveBackend:
    """The backend named by ``settings.archive.backend``: ``embedded`` or ``hbase``."""
    conf = settings.archive
    if conf.backend == "embedded":
        from fink_like.archive.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(conf.path)
    from fink_like.archive.backends.hbase import HBaseBackend

    return HBaseBackend(conf.hbase_host, conf.hbase_port, pool_size=conf.hbase_pool_size,
                        retries=conf.retries, batch_size=conf.batch_size)


def open_archive(settings) -> ArchiveBackend:
    """The configured backend with every archive table created (idempotent)."""
    from fink_like.archive import model

    backend = open_backend(settings)
    prefix = settings.archive.table_prefix
    backend.create_tables({model.table_name(prefix, t): fams for t, fams in model.TABLES.items()})
    return backend
