"""The project's exception hierarchy: every error raised on purpose derives from FinkLikeError."""


class FinkLikeError(Exception):
    """Root of every error that fink-like raises on purpose."""


class ConfigError(FinkLikeError):
    """A configuration value is missing, malformed or inconsistent; the message names the key."""


class UsageError(FinkLikeError):
    """A command-line invocation is wrong (the CLI exits with status 2)."""


class AlertError(FinkLikeError):
    """An alert could not be decoded or failed validation; ``reason`` is a short machine tag."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class TransientError(FinkLikeError):
    """A fault expected to go away by itself (a timeout, a restarting broker, a busy lock).

    Callers may retry it with bounded backoff (:func:`fink_like.retry.retry`); after the
    retry budget it propagates like any other error.
    """


class KafkaError(FinkLikeError):
    """A Kafka operation failed; the message is in plain words (servers, topic, credentials)."""


class KafkaUnavailable(KafkaError, TransientError):
    """Kafka did not answer in time (unreachable, restarting, frozen): worth retrying."""


class PluginError(FinkLikeError):
    """A science-module or filter plugin does not honour its contract."""


class ArchiveError(FinkLikeError):
    """The archive backend refused or failed an operation."""


class ArchiveBusy(ArchiveError, TransientError):
    """The archive is locked or unreachable for now: worth retrying."""


class QueryError(FinkLikeError):
    """A query has an invalid argument (bad position, radius, date or limit)."""


class MissingDependencyError(FinkLikeError):
    """An optional dependency is not installed; the message says what to pip install."""


def require(module: str, pip_name: str | None = None):
    """Import ``module`` or raise MissingDependencyError with the pip command that fixes it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module} is required for this feature: run `pip install {pip_name or module}`"
        ) from exc
