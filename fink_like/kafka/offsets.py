"""Offset planning for the data source: pure functions, no Kafka connection.

Spark keeps offsets in its checkpoint as JSON. The shape is Spark's JVM Kafka source's:
``{"topic": {"0": 23, "1": 5}}``, the next offset to read per partition. Inside this
module they are flat dicts keyed by ``(topic, partition)``.

Examples
--------
>>> spread({("t", 0): 0, ("t", 1): 0}, {("t", 0): 90, ("t", 1): 10}, 10)
{('t', 0): 9, ('t', 1): 1}
"""

from __future__ import annotations

import json

from fink_like.errors import ConfigError

TopicPartition = tuple[str, int]
Flat = dict[TopicPartition, int]
EARLIEST, LATEST = -2, -1  # Spark's JSON markers


def to_json(flat: Flat) -> dict:
    """``{(t, p): o}`` -> ``{"t": {"p": o}}`` with sorted keys (stable checkpoints)."""
    out: dict = {}
    for (topic, partition), offset in sorted(flat.items()):
        out.setdefault(topic, {})[str(partition)] = int(offset)
    return out


def from_json(data: dict) -> Flat:
    """``{"t": {"p": o}}`` -> ``{(t, p): o}``."""
    return {(topic, int(p)): int(o) for topic, parts in data.items() for p, o in parts.items()}


def parse_spec(spec: str, option: str) -> str | Flat:
    """``"earliest"``, ``"latest"`` or a JSON mapping; raise ConfigError naming ``option``."""
    text = spec.strip()
    if text.lower() in ("earliest", "latest"):
        return text.lower()
    try:
        data = json.loads(text)
        flat = from_json(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f'option {option} must be earliest, latest or JSON like {{"topic": {{"0": 23}}}}, '
                          f"got {spec!r}") from exc
    bad = [tp for tp, o in flat.items() if o < EARLIEST]
    if bad:
        raise ConfigError(f"option {option}: offsets must be >= 0, or -2 (earliest) / -1 (latest): {bad}")
    return flat


def resolve(spec: str | Flat, bounds: dict[TopicPartition, tuple[int, int]], default: str) -> Flat:
    """Concrete offsets for every partition in ``bounds`` (``{tp: (low, high)}``).

    Partitions a JSON spec leaves out get ``default`` (``"earliest"`` or ``"latest"``);
    offsets outside ``[low, high]`` are kept as given so that the reader can report lost data.
    """
    def pick(tp, marker):
        low, high = bounds[tp]
        return low if marker in ("earliest", EARLIEST) else high

    if isinstance(spec, str):
        return {tp: pick(tp, spec) for tp in bounds}
    out = {}
    for tp in bounds:
        given = spec.get(tp)
        out[tp] = pick(tp, default) if given is None else (pick(tp, given) if given < 0 else given)
    return out


def spread(start: Flat, latest: Flat, max_rows: int | None) -> Flat:
    """End offsets that admit at most ``max_rows`` messages, shared in proportion to each backlog.

    The shares are floors of the proportional amounts; the remainder goes to the
    largest fractional parts, so exactly ``min(max_rows, backlog)`` messages are admitted.
    """
    backlog = {tp: max(0, latest[tp] - start.get(tp, latest[tp])) for tp in latest}
    total = sum(backlog.values())
    if max_rows is None or total <= max_rows:
        return dict(latest)
    shares = {tp: max_rows * n / total for tp, n in backlog.items()}
    grant = {tp: int(s) for tp, s in shares.items()}
    left = max_rows - sum(grant.values())
    for tp in sorted(shares, key=lambda tp: (grant[tp] - shares[tp], tp))[:left]:
        grant[tp] += 1
    return {tp: (start[tp] + grant[tp] if tp in start else latest[tp]) for tp in latest}


def split(ranges: list[tuple[str, int, int, int]], max_records: int,
          min_pieces: int = 1) -> list[tuple[str, int, int, int]]:
    """Cut ``(topic, partition, start, end)`` ranges into near-equal pieces of at most ``max_records``.

    Equal pieces keep Spark tasks balanced: 2,500 messages with a limit of 2,000 become
    two tasks of 1,250, not 2,000 and 500. With ``min_pieces``, the smaller ranges are
    cut further so that there are at least that many pieces in all (one per core).
    """
    total = sum(end - start for _t, _p, start, end in ranges)
    if min_pieces > 1 and total:
        max_records = max(1, min(max_records, -(-total // min_pieces)))
    out = []
    for topic, partition, start, end in ranges:
        pieces = -(-(end - start) // max_records)
        step = -(-(end - start) // pieces) if pieces else 1
        for lo in range(start, end, step):
            out.append((topic, partition, lo, min(end, lo + step)))
    return out
