"""Run folders: where an embedded run keeps its data, and how later commands find it.

An embedded ``fink-like run`` writes its lake, checkpoints, archive and Kafka state
under ``var/runs/<UTC time>/`` (:func:`isolate_run`) and records that folder in
``var/runs/latest`` (:func:`record_latest`). ``query``, ``serve``, ``consume``,
``topics`` and ``kafka`` then read the latest run by default (:func:`follow_run`), or the
one named by ``--run``.

Examples
--------
>>> settings, run_dir = follow_run(settings, None)        # doctest: +SKIP
>>> settings.archive.path                                 # doctest: +SKIP
'var/runs/20261201T003000/archive.sqlite'
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fink_like.config import ArchiveSettings, KafkaSettings, Settings
from fink_like.errors import UsageError

RUNS_ROOT = "var/runs"
POINTER = "latest"


def relocated(settings: Settings, run_dir: Path, kafka_dir: Path) -> dict:
    """The settings as data, with lake, checkpoints, archive and embedded Kafka under new folders."""
    data = settings.model_dump()
    data["lake"]["root"] = str(run_dir / "lake")
    data["spark"]["checkpoint_dir"] = str(run_dir / "checkpoints")
    data["archive"]["path"] = str(run_dir / "archive.sqlite")
    data["kafka"]["embedded_dir"] = str(kafka_dir)
    return data


def in_run(settings: Settings, run_dir: str | Path) -> Settings:
    """``settings`` pointed at the data of the run kept in ``run_dir``."""
    run_dir = Path(run_dir)
    return Settings.model_validate(relocated(settings, run_dir, run_dir / "kafka"))


def isolate_run(settings: Settings, root: str = RUNS_ROOT) -> tuple[Settings, str]:
    """Give an embedded run its own lake, checkpoints and archive (the embedded Kafka is in memory)."""
    if not settings.kafka.embedded:
        return settings, ""
    run_dir = Path(root) / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    return in_run(settings, run_dir), str(run_dir)


def record_latest(run_dir: str | Path, root: str = RUNS_ROOT) -> None:
    """Make ``run_dir`` the run that later commands read by default."""
    pointer = Path(root) / POINTER
    pointer.parent.mkdir(parents=True, exist_ok=True)
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(f"{Path(run_dir).name}\n")
    tmp.replace(pointer)


def latest_run(root: str = RUNS_ROOT) -> Path | None:
    """The folder of the latest recorded run, or None (no run yet, or it was deleted)."""
    try:
        name = (Path(root) / POINTER).read_text().strip()
    except OSError:
        return None
    folder = Path(root) / name
    return folder if name and folder.is_dir() else None


def follows_runs(settings: Settings) -> bool:
    """Whether ``settings`` are the embedded ones whose data a run relocates.

    A configuration that names its own archive or Kafka state folder is used as it is.
    """
    return (settings.kafka.embedded
            and settings.archive.path == ArchiveSettings.model_fields["path"].default
            and settings.kafka.embedded_dir == KafkaSettings.model_fields["embedded_dir"].default)


def resolve_run(name: str, root: str = RUNS_ROOT) -> Path:
    """The folder of ``--run NAME``: ``latest``, a run's time stamp, or a path."""
    if name == POINTER:
        found = latest_run(root)
        if found is None:
            raise UsageError(f"--run latest: no run recorded in {root}/{POINTER}; run `fink-like run` first")
        return found
    for candidate in (Path(name), Path(root) / name):
        if candidate.is_dir():
            return candidate
    raise UsageError(f"--run {name}: no such run folder (runs are kept in {root}/)")


def _latest_followed(settings: Settings, name: str | None, root: str) -> Path | None:
    if name is not None:
        return resolve_run(name, root)
    return latest_run(root) if follows_runs(settings) else None


def follow_run(settings: Settings, name: str | None, root: str = RUNS_ROOT) -> tuple[Settings, Path | None]:
    """The settings whose archive to read: run ``name`` (``--run``), or by default the
    latest run, unless the configured archive was written after it (by the separate jobs).
    """
    run_dir = _latest_followed(settings, name, root)
    if run_dir is None:
        return settings, None
    if name is None and _mtime(settings.archive.path) > _mtime(run_dir / "archive.sqlite"):
        return settings, None
    return in_run(settings, run_dir), run_dir


def follow_run_broker(settings: Settings, name: str | None, root: str = RUNS_ROOT) -> tuple[Settings, Path | None]:
    """The settings whose Kafka to read: run ``name`` (``--run``), or by default the latest
    run's broker when it is still up (``run --keep-kafka``), else the configured one.
    """
    from fink_like.kafka.embedded import EmbeddedKafka

    run_dir = _latest_followed(settings, name, root)
    if run_dir is None:
        return settings, None
    if name is None and EmbeddedKafka(run_dir / "kafka").status() is None:
        return settings, None
    return in_run(settings, run_dir), run_dir


def _mtime(path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return float("-inf")


def where_runs_are(root: str = RUNS_ROOT) -> str:
    """A sentence for "not found" messages: where the latest run put its archive."""
    run_dir = latest_run(root)
    if run_dir is None:
        return "no run is recorded: `fink-like run` (or `make run`) writes one"
    return f"the latest run put its archive in {run_dir / 'archive.sqlite'} (`--run {run_dir.name}`)"


def add_run_flag(parser) -> None:
    """``--run RUN`` for the commands that read a run's data."""
    parser.add_argument("--run", metavar="RUN",
                        help=f"read this run's data: 'latest', a time stamp under {RUNS_ROOT}/ or a "
                             "run folder (default: the latest run, with the embedded configuration)")
