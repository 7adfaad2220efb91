"""Benchmark: lcsim light curves/s, snia alerts/s, and raw fastavro decode as the ceiling.

Run ``python -m fink_like_snia.bench [--output bench-snia.json]``. Prints JSON and writes
it to the output file. Alert throughput is measured on the real alerts of the shared
data, repeated ``--repeat`` times into one batch; the reference is fastavro decoding the
same alert files from memory (alerts/s), measured in the same run.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import pyarrow as pa

from fink_like_snia.evaluate import REAL_FOLDERS


def _best(fn, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _self_contained(fastavro, blob: bytes) -> bool:
    """ZTF 4.02 files name sub-schemas they do not embed; plain fastavro cannot read those."""
    try:
        fastavro.reader(io.BytesIO(blob))
    except Exception:  # fastavro's UnknownType and friends
        return False
    return True


def bench(data_dir: Path, repeat: int, n_sim: int) -> dict:
    import fastavro

    from fink_like.science.lcsim import simulate
    from fink_like.surveys import read_alert_files
    from fink_like_snia.features import extract
    from fink_like_snia.module import SniaModule

    blobs = [p.read_bytes() for f in REAL_FOLDERS for p in sorted((data_dir / f).glob("*.avro"))]
    blobs = [b for b in blobs if _self_contained(fastavro, b)]
    decode = _best(lambda: [list(fastavro.reader(io.BytesIO(b))) for b in blobs])
    table = pa.concat_tables([read_alert_files(data_dir / f) for f in REAL_FOLDERS])
    batch = pa.concat_tables([table] * repeat)
    module = SniaModule()
    module.params = {}
    module.load({})
    module.process(table.slice(0, 10))  # warm-up
    t_feat = _best(lambda: extract(batch))
    t_mod = _best(lambda: module.process(batch))
    simulate(10, survey="ztf")  # imports and the cosmology grid
    t_ztf = _best(lambda: simulate(n_sim, survey="ztf", seed=1), runs=2)
    t_rubin = _best(lambda: simulate(n_sim, survey="rubin", seed=1), runs=2)
    return {
        "date": "2026-11-21",
        "reference_fastavro_decode_alerts_per_s": round(len(blobs) / decode),
        "reference_alerts": len(blobs),
        "snia_alerts": batch.num_rows,
        "snia_features_alerts_per_s": round(batch.num_rows / t_feat),
        "snia_module_alerts_per_s": round(batch.num_rows / t_mod),
        "snia_module_over_decode": round(decode / len(blobs) * batch.num_rows / t_mod, 2),
        "lcsim_light_curves": n_sim,
        "lcsim_ztf_light_curves_per_s": round(n_sim / t_ztf),
        "lcsim_rubin_light_curves_per_s": round(n_sim / t_rubin),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[3].parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=10, help="copies of the real alerts in the batch")
    parser.add_argument("--n-sim", type=int, default=10000, help="light curves per survey for lcsim")
    parser.add_argument("--output", type=Path, default=Path("bench-snia.json"))
    args = parser.parse_args(argv)
    result = bench(args.data_dir, args.repeat, args.n_sim)
    text = json.dumps(result, indent=2)
    print(text)
    args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
