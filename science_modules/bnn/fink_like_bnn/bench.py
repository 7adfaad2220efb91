"""Throughput of the bnn module (prints and writes JSON); same harness as the microlensing one.

Usage::

    python -m fink_like_bnn.bench [--alerts 8000] [--batch 2000] [--out bench-bnn.json]
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from fink_like_bnn.module import BnnModule

    try:
        from fink_like_microlensing.bench import main as bench_main
    except ImportError:
        print("the benchmark harness ships with fink-like-microlensing: "
              "run pip install -e science_modules/microlensing", file=sys.stderr)
        return 2
    module = BnnModule()
    module.load({})
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--out" not in argv:
        argv += ["--out", "bench-bnn.json"]
    return bench_main(argv, module=module)


if __name__ == "__main__":
    sys.exit(main())
