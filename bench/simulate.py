"""Benchmark: simulate a city (about 300,000 residents) for 36 months and write every file.

Prints the time, events per second and rows written per second, each beside a baseline
measured in the same run on the same machine (these machines are noisy, so ratios are what
to compare between runs):

* ``numpy``: drawing as many Poisson and uniform variates as the simulation produced events
  (the floor of any vectorised event generator);
* ``csv``: writing as many rows, of the same width, with the standard ``csv`` module.

The issue's target is city x 36 months in under 60 s. Usage::

    .venv/bin/python bench/simulate.py [--size city] [--months 36] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from harmscope.simulate import simulate


def _numpy_baseline(n: int) -> float:
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    rng.poisson(0.5, n)
    rng.random(n)
    rng.integers(0, 1000, n)
    return time.perf_counter() - t


def _csv_baseline(rows: int, width: int, folder: Path) -> float:
    row = ["x" * max(1, width // 12)] * 12
    t = time.perf_counter()
    with open(folder / "baseline.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for _ in range(rows):
            w.writerow(row)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="city", choices=["small", "city", "region"])
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        tmp = Path(tempfile.mkdtemp(prefix="harmscope-bench-"))
        try:
            t0 = time.perf_counter()
            res = simulate(seed=args.seed, months=args.months, size=args.size)
            t1 = time.perf_counter()
            out = res.write(tmp / "sim")
            t2 = time.perf_counter()
            events = len(res.events) + len(res.searches) + len(res.hidden)
            rows = len(res.street) + len(res.outcomes) + len(res.stop_search)
            policeuk = sorted(out.glob("20*/*.csv"))
            width = sum(f.stat().st_size for f in policeuk) // max(rows, 1)
            base_np = _numpy_baseline(events)
            base_csv = _csv_baseline(rows, width, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for key, val in (
            ("simulate", t1 - t0),
            ("write", t2 - t1),
            ("total", t2 - t0),
            ("numpy", base_np),
            ("csv", base_csv),
        ):
            best[key] = min(best.get(key, float("inf")), val)
    print(f"harmscope simulate --size {args.size} --months {args.months} (best of {args.repeat})")
    print(
        f"  residents {res.city.residents:,}; events generated {events:,}; "
        f"police.uk rows written {rows:,} ({width} bytes/row)"
    )
    print(
        f"  simulate {best['simulate']:.2f} s = {events / best['simulate']:,.0f} events/s; "
        f"{best['simulate'] / best['numpy']:.1f}x the numpy draw baseline ({best['numpy'] * 1000:.1f} ms)"
    )
    print(
        f"  write    {best['write']:.2f} s = {rows / best['write']:,.0f} police.uk rows/s "
        f"(plus intel, survey, partners, truth); {best['write'] / best['csv']:.1f}x the csv-module "
        f"baseline for the police.uk rows ({best['csv']:.2f} s)"
    )
    if args.size == "city" and args.months == 36:
        verdict = "within" if best["total"] < 60 else "OVER"
        print(
            f"  total    {best['total']:.2f} s -> {verdict} the 60 s target for city x 36 months "
            f"({best['total'] / 60:.2f} of it)"
        )
    else:
        print(f"  total    {best['total']:.2f} s")


if __name__ == "__main__":
    main()
