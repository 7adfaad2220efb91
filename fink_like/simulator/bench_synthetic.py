"""Benchmark: how fast a synthetic night is made, against raw fastavro decoding of the same alerts.

Run ``python -m fink_like.simulator.bench_synthetic --alerts 10000 --output bench-synthetic.json``;
the JSON is printed and written. The reference ceiling, measured in the same run on the
same messages, is the plain fastavro decode of every message (container reader for ZTF,
schemaless reader for Rubin), so the ratio means something on a busy machine.
"""

from __future__ import annotations

import argparse
import io
import json
import time

import fastavro

from fink_like.simulator.synthetic import synthetic_night
from fink_like.surveys.avro import unpack_wire
from fink_like.surveys.batch import adapter_for


def _raw_decode(messages) -> float:
    rubin = adapter_for("lsst").schema(900)
    t0 = time.perf_counter()
    for message in messages:
        if message.survey == "ztf":
            list(fastavro.reader(io.BytesIO(message.value)))
        else:
            fastavro.schemaless_reader(io.BytesIO(unpack_wire(message.value)[1]), rubin)
    return time.perf_counter() - t0


def run(alerts: int, seed: int) -> dict:
    synthetic_night(4, seed=seed)  # warm caches: schemas, stamp headers
    t0, c0 = time.perf_counter(), time.process_time()
    messages = synthetic_night(alerts, seed=seed)
    make_s, make_cpu = time.perf_counter() - t0, time.process_time() - c0
    decode_s = _raw_decode(messages)
    return {
        "alerts": len(messages), "seed": seed, "seconds": round(make_s, 3), "cpu_seconds": round(make_cpu, 3),
        "alerts_per_s": round(len(messages) / make_s, 1),
        "mean_bytes": round(sum(len(m.value) for m in messages) / len(messages)),
        "reference_raw_decode_alerts_per_s": round(len(messages) / decode_s, 1),
        "ratio": round(decode_s / make_s, 4),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000, help="alerts in the night (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="bench-synthetic.json", help="JSON file to write")
    args = parser.parse_args(argv)
    result = run(args.alerts, args.seed)
    text = json.dumps(result)
    print(text)
    with open(args.output, "w") as out:
        out.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
