"""Archive backends behind one interface; :func:`open_backend` picks one from the settings."""

from __future__ import annotations

from fink_like.archive.backends.base import ArchiveBackend, prefix_stop

__all__ = ["ArchiveBackend", "LazyBackend", "close_archive", "open_archive", "open_backend", "prefix_stop"]


def open_backend(settings) -> ArchiveBackend:
    """The backend named by ``settings.archive.backend``: ``embedded`` or ``hbase``."""
    conf = settings.archive
    if conf.backend == "embedded":
        from fink_like.archive.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(conf.path)
    from fink_like.archive.backends.hbase import HBaseBackend

    return HBaseBackend(conf.hbase_host, conf.hbase_port, pool_size=conf.hbase_pool_size,
                        retries=conf.retries, batch_size=conf.batch_size)


def close_archive(settings) -> None:
    """What a job does when its query has stopped: open and close the archive once.

    Closing the embedded backend checkpoints its write-ahead log, which the executors'
    writers (cached per worker process, never closed) leave behind; HBase has nothing to do.
    """
    if settings.archive.backend == "embedded":
        open_backend(settings).close()


def open_archive(settings) -> ArchiveBackend:
    """The configured backend with every archive table created (idempotent)."""
    from fink_like.archive import model

    backend = open_backend(settings)
    prefix = settings.archive.table_prefix
    backend.create_tables({model.table_name(prefix, t): fams for t, fams in model.TABLES.items()})
    return backend


class LazyBackend:
    """Holds ``settings`` and opens the configured archive on first use (once per process).

    Pickling drops the open backend, so a copy shipped to a Spark executor reopens its own.
    """

    def __init__(self, settings, backend: ArchiveBackend | None = None):
        self.settings = settings
        self._backend = backend

    def __getstate__(self):
        return {**self.__dict__, "_backend": None}

    @property
    def backend(self) -> ArchiveBackend:
        if self._backend is None:
            self._backend = open_archive(self.settings)
        return self._backend

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
