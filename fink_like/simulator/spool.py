"""Cloned alerts for a long load test, written to disk first and replayed from there.

``fink-like bench`` needs up to hundreds of thousands of cloned alerts (~66 KB each): far
too many to hold in memory, and cloning (~2-4 ms per alert) is too slow to do live at
300 alerts/s on the cores the pipeline uses. :func:`build_spool` therefore writes them to
a folder before the trial, on every core:

* a child process (so that the caller's memory does not grow with the load) makes
  every random draw of the clones (``Cloner.plan``, cheap and
  necessarily sequential) and hands each variant's draws to a pool of worker processes;
* each worker builds and encodes the variant's clones (``clone_message``, the same code
  as :func:`~fink_like.simulator.messages.load_alerts`) and appends them to the
  variant's file ``NNNNNN.bin`` as records ``<u32 key length><u32 value length><key><value>``.

The messages are byte for byte those of ``load_alerts(paths, clone_factor=K, seed=seed)``
with ``K = ceil(count / originals)``, and :meth:`Spool.streams` yields the first
``count`` of them in the order :func:`replay_order` gives (variant by variant, each
shuffled by ``crc32(key) ^ seed``), one stream per survey. Reading a stream keeps one
message in memory at a time (``os.pread`` at the offsets of a small index).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import shutil
import struct
import time
import zlib
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from fink_like.errors import FinkLikeError, UsageError

RECORD = struct.Struct("<II")
SURVEYS = ("ztf", "lsst")   # the streams' order, as the benchmark's topics
HEADROOM = 1 << 30          # free disk space left after the spool (bytes)
INDEX = "index.npz"         # per message on disk: variant, survey, crc32(key), offset, size
COLUMNS = ("surveys", "crcs", "offsets", "sizes")


@dataclass
class SpoolStream:
    """One survey's messages, ``(key, value)`` in replay order, read from the spool's files."""

    folder: Path
    variants: np.ndarray   # file of each message
    offsets: np.ndarray    # where its record starts
    sizes: np.ndarray      # record size, header included

    def __len__(self) -> int:
        return len(self.variants)

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        fds: dict[int, int] = {}
        try:
            for variant, offset, size in zip(self.variants.tolist(), self.offsets.tolist(), self.sizes.tolist()):
                fd = fds.get(variant)
                if fd is None:
                    fd = fds[variant] = os.open(self.folder / variant_file(variant), os.O_RDONLY)
                data = os.pread(fd, size, offset)
                if len(data) != size:
                    raise FinkLikeError(f"spool file {variant_file(variant)} in {self.folder} is truncated")
                klen, _vlen = RECORD.unpack_from(data)
                yield data[RECORD.size:RECORD.size + klen], data[RECORD.size + klen:]
        finally:
            for fd in fds.values():
                os.close(fd)


@dataclass
class Spool:
    """A written spool: its folder, streams per survey, and what writing it cost."""

    folder: Path
    streams: dict[str, SpoolStream] = field(default_factory=dict)
    count: int = 0           # messages in the streams
    written: int = 0         # messages on disk (a whole number of variants: >= count)
    disk_bytes: int = 0
    seconds: float = 0.0
    workers: int = 1

    def summary(self) -> dict:
        return {"alerts": self.count, "written": self.written, "disk_mb": round(self.disk_bytes / 2**20, 1),
                "prepare_seconds": round(self.seconds, 2), "workers": self.workers}

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def variant_file(variant: int) -> str:
    return f"{variant:06d}.bin"


def replay_order(variants: np.ndarray, crcs: np.ndarray, seed: int) -> np.ndarray:
    """Positions variant by variant, and within a variant by ``crc32(key) ^ seed`` (stable).

    A variant is one copy of the shared alerts, shifted by whole nights (see
    :mod:`fink_like.simulator.clone`), so replaying variant by variant streams the nights
    one after the other, as a survey does: a micro-batch holds the few nights of one or
    two variants, not a few alerts of every variant's nights. Within a variant the crc
    order interleaves both surveys. Only the low 32 bits of the seed change the order.
    """
    keys = crcs.astype(np.uint32) ^ np.uint32(seed & 0xFFFFFFFF)
    return np.lexsort((np.arange(len(keys)), keys, variants))


def build_spool(paths, count: int, folder: Path, seed: int = 0, workers: int | None = None,
                outputs: int = 0) -> Spool:
    """Write ``count`` alerts of ``paths`` (cloned as needed) to ``folder``.

    ``outputs`` is how many more copies of each alert the run will write on the same disk
    (a trial of the main job: raw lake, science lake and archive cutouts, 3): the disk
    check asks for room for them too, so a long trial cannot fill the disk halfway.

    Raises
    ------
    UsageError
        ``count`` < 1, no alert under ``paths``, or too little free disk space (the
        message names the size needed).
    """
    from fink_like.surveys.files import load_file_messages

    if count < 1:
        raise UsageError(f"a spool needs at least one alert, got {count}")
    started = time.perf_counter()
    originals = load_file_messages(paths)
    if not originals:
        raise UsageError(f"no alert file under {', '.join(map(str, paths))}")
    factor = max(1, math.ceil(count / len(originals)))
    size = factor * sum(RECORD.size + len(m.key) + len(m.value) for m in originals)
    check_disk(folder, size + outputs * size * count // (factor * len(originals)),
               "the alert spool" + (" and the run's outputs" if outputs else ""))
    folder.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers or os.cpu_count() or 1)
    _in_child(_write_variants, [str(p) for p in paths], factor, str(folder), seed, workers)
    with np.load(folder / INDEX) as index:
        spool = _index(folder, index, count, seed)
    spool.seconds, spool.workers = time.perf_counter() - started, workers
    return spool


def _in_child(target, *args) -> None:
    """Run ``target(*args)`` in a fresh process: the clones' id tables (~1 MB per variant)
    live and die there, so the caller's memory does not grow with the load."""
    import multiprocessing

    # spawn: never fork a process that may hold a JVM gateway or a producer's threads
    child = multiprocessing.get_context("spawn").Process(target=target, args=args, name="spool-writer")
    child.start()
    child.join()
    if child.exitcode != 0:
        raise FinkLikeError(f"writing the alert spool failed (exit status {child.exitcode}; "
                            "the error is above)")


def check_disk(folder: Path, needed: int, what: str = "the alert spool") -> None:
    """Fail unless ``needed`` bytes (and :data:`HEADROOM`) are free where ``folder`` will be."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + HEADROOM:
        raise UsageError(f"{what} needs {needed / 1e9:.1f} GB (plus {HEADROOM / 1e9:.1f} GB spare) "
                         f"in {folder}, but only {free / 1e9:.1f} GB are free: free disk space or "
                         f"lower --rates/--duration/--burst")


def _write_variants(paths: list[str], factor: int, folder: str, seed: int, workers: int) -> None:
    """Plan each variant here, in order, while a pool writes the ones already planned;
    then save the index (:data:`INDEX`)."""
    from fink_like.simulator.messages import prepare_clones
    from fink_like.surveys.files import load_file_messages

    originals = load_file_messages(paths)
    cloners, records = prepare_clones(originals, seed)
    walks = [cloners[m.survey].id_walk(r) for m, r in zip(originals, records)]
    results, pending = [], deque()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(paths, seed, folder)) as pool:
        for variant in range(factor):
            draws = {}
            if variant:
                for message, record, walk in zip(originals, records, walks):
                    cloners[message.survey].plan(record, variant, walk)
                draws = {survey: cloner.take(variant) for survey, cloner in cloners.items()}
            pending.append(pool.submit(_write_variant, variant, draws))
            while len(pending) > 2 * workers:  # bounded: at most a few variants' draws in flight
                results.append(pending.popleft().result())
        results.extend(f.result() for f in pending)
    results.sort(key=lambda r: r[0])
    np.savez(Path(folder) / INDEX, variants=np.concatenate([np.full(len(r[1]), r[0], np.int32) for r in results]),
             **{name: np.concatenate([r[i] for r in results]) for i, name in enumerate(COLUMNS, 1)})


def _index(folder: Path, index, count: int, seed: int) -> Spool:
    variants, surveys, crcs, offsets, sizes = (index[name] for name in ("variants", *COLUMNS))
    chosen = replay_order(variants, crcs, seed)[:count]
    spool = Spool(folder, count=len(chosen), written=len(variants),
                  disk_bytes=int(sizes.sum()) + (folder / INDEX).stat().st_size)
    for code, survey in enumerate(SURVEYS):
        mine = chosen[surveys[chosen] == code]
        if len(mine):
            spool.streams[survey] = SpoolStream(folder, variants[mine], offsets[mine], sizes[mine])
    return spool


_WORKER: dict = {}


def _init_worker(paths: list[str], seed: int, folder: str) -> None:
    from fink_like.simulator.messages import prepare_clones
    from fink_like.surveys.files import load_file_messages

    originals = load_file_messages(paths)
    cloners, records = prepare_clones(originals, seed)
    _WORKER.update(originals=originals, records=records, cloners=cloners, folder=Path(folder))


def _write_variant(variant: int, draws: dict) -> tuple:
    """Write variant ``variant`` (0: the originals) to its file; its index columns back."""
    from fink_like.simulator.messages import clone_message

    originals, records, cloners = _WORKER["originals"], _WORKER["records"], _WORKER["cloners"]
    for survey, given in draws.items():
        cloners[survey].put(variant, given)
    n = len(originals)
    surveys, crcs = np.empty(n, np.uint8), np.empty(n, np.uint32)
    offsets, sizes = np.empty(n, np.int64), np.empty(n, np.int64)
    offset = 0
    with open(_WORKER["folder"] / variant_file(variant), "wb") as out:
        for i, (message, record) in enumerate(zip(originals, records)):
            if variant:
                message = clone_message(message, record, cloners[message.survey], variant)
            out.write(RECORD.pack(len(message.key), len(message.value)))
            out.write(message.key)
            out.write(message.value)
            size = RECORD.size + len(message.key) + len(message.value)
            surveys[i], crcs[i] = SURVEYS.index(message.survey), zlib.crc32(message.key)
            offsets[i], sizes[i], offset = offset, size, offset + size
    for cloner in cloners.values():
        cloner.take(variant)  # the worker forgets the variant's ids
    return variant, surveys, crcs, offsets, sizes
