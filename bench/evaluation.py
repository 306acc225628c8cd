"""Benchmark: the evaluation figures of docs/evaluation.md and the operation timings of
docs/simulator.md, each printed by this script.

Two parts:

* ``scaling`` -- the WDD with the control rescaled to each area's pre-period level (the
  default) against the original unweighted WDD, on the same simulated operations
  (``validate_evaluation(control_scaling=...)``): coverage of the 95% intervals and bias of
  each. The time of each run is printed beside the time of simulating the same number of
  cities without evaluating them (the baseline, measured in the same run).
* ``operations`` -- the cost of scheduling operations in one simulated run: a 36-month city
  with N operations (default 200) against the same city without any (the baseline), for the
  ``small`` and ``city`` sizes, as seconds and as a ratio.

Usage::

    .venv/bin/python bench/evaluation.py [--part scaling|operations|all] [--operations 200]
        [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harmscope.checks.evaluation import validate_evaluation
from harmscope.simulate import Operation, Simulation
from harmscope.simulate.operations import Tactic

TACTICS: tuple[Tactic, ...] = ("crackdown", "arrests", "dmi")


def _scaling(operations: int, seed: int) -> None:
    rows = {}
    times = {}
    for scaling in ("pre", "none"):
        t = time.perf_counter()
        res = validate_evaluation(operations=operations, seed=seed, control_scaling=scaling)
        times[scaling] = time.perf_counter() - t
        rows[scaling] = res.table.set_index("estimator").loc["wdd"]
    # Baseline: the same kind of cities simulated without any evaluation.
    t = time.perf_counter()
    for run in range(min(operations, 20)):
        Simulation(seed=seed * 100_003 + run, months=24, size="small", start="2019-01").run()
    per_city = (time.perf_counter() - t) / min(operations, 20)
    print(f"WDD control scaling on {operations} simulated operations (seed {seed}, small cities)")
    print("  scaling   coverage of 95% intervals   bias (± MC s.e.)   rmse (crimes)")
    for scaling, label in (("pre", "rescaled"), ("none", "raw     ")):
        r = rows[scaling]
        print(
            f"  {label}  {100 * r['coverage']:24.1f}%   {100 * r['bias']:+7.1f}% (± "
            f"{100 * r['bias_mcse']:.1f}%)   {r['rmse']:10.1f}"
        )
    base = per_city * operations
    print(
        f"  time: rescaled {times['pre']:.1f} s, raw {times['none']:.1f} s; baseline "
        f"(simulating {operations} cities, no evaluation, extrapolated from "
        f"{min(operations, 20)}) {base:.1f} s: {times['pre'] / base:.2f}x and "
        f"{times['none'] / base:.2f}x"
    )


def _operations(n_ops: int, seed: int) -> None:
    print(f"Scheduling {n_ops} operations in one 36-month run (seed {seed})")
    for size in ("small", "city"):
        t = time.perf_counter()
        Simulation(seed=seed, months=36, size=size).run()
        base = time.perf_counter() - t
        sim = Simulation(seed=seed, months=36, size=size)
        rng = np.random.default_rng(seed)
        markets = list(sim.city.markets["market_id"])
        for k in range(n_ops):
            sim.schedule(
                Operation(
                    TACTICS[int(rng.integers(len(TACTICS)))],
                    (str(markets[int(rng.integers(len(markets)))]),),
                    start=int(rng.integers(0, 33)),
                    duration=3,
                    operation_id=f"B{k:04d}",
                )
            )
        t = time.perf_counter()
        sim.run()
        with_ops = time.perf_counter() - t
        print(
            f"  {size:5s}: {with_ops:.1f} s with the operations, {base:.1f} s without "
            f"(baseline): +{with_ops - base:.1f} s, {with_ops / base:.1f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all", choices=["scaling", "operations", "all"])
    ap.add_argument("--operations", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.part in ("operations", "all"):
        _operations(args.operations, args.seed)
    if args.part in ("scaling", "all"):
        _scaling(args.operations, args.seed)


if __name__ == "__main__":
    main()
