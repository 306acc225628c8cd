"""Benchmark: Gi* and emerging hot spots, as ratios against baselines measured in the same run.

Run ``.venv/bin/python bench/hotspots.py`` (about a minute; esda's weights dominate). Prints:

1. Gi* on a 300 x 300 grid (90,000 cells, 250 m, band 1.5 cells = 375 m) against esda
   ``G_Local(transform='B', star=True)`` with libpysal ``DistanceBand`` weights: both end to
   end (coordinates and values in, z out) and esda's statistic alone on prebuilt weights; the
   z-scores must agree to 1e-9. Target: at least 20x faster end to end.
2. Gi* on 1,000,000 cells (1000 x 1000): seconds, and the ratio to a numpy sum over the same
   array (a floor for any pass over the data). Target: under 10 s.
3. Emerging hot spots, 36 periods x 50,000 cells (250 x 200): seconds, and the ratio to a numpy
   sum over the same (36, 50,000) array. Target: under 30 s.

Times are the best of several repeats (``time.perf_counter``); these machines are noisy, so only
ratios within one run mean much. No assertion is made about time; a target miss prints "MISSED"
and the exit status is 1, which a CI job may choose to ignore.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from harmscope.places.emerging import emerging_hot_spots
from harmscope.places.gi_star import gi_star

T = TypeVar("T")

CELL = 250.0
BAND = 1.5 * CELL


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Minimum wall time of ``repeats`` calls, seconds, and the last result."""
    best = float("inf")
    result: T | None = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def lattice(nx: int, ny: int) -> np.ndarray:
    """Lower-left corners of an nx x ny block of 250 m BNG cells, row-major."""
    gy, gx = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    return np.column_stack([500_000 + gx * CELL, 150_000 + gy * CELL]).astype(np.float64)


def harm_like(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Sparse, heavy-tailed cell harm: most cells empty, a few with violence or robbery days."""
    counts = rng.poisson(0.4, size=shape)
    days = rng.choice([1.0, 2.0, 10.39, 230.89, 365.0], size=shape, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    return counts * days


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def bench_esda(rng: np.random.Generator) -> bool:
    from esda.getisord import G_Local
    from libpysal.weights import DistanceBand

    xy = lattice(300, 300)
    y = harm_like(rng, (xy.shape[0],))

    def esda_end_to_end() -> tuple[np.ndarray, object]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            w = DistanceBand(xy, threshold=BAND, binary=True, silence_warnings=True)
            return G_Local(y, w, transform="B", star=True, permutations=0).Zs, w

    t_esda, (z_esda, w) = best_of(2, esda_end_to_end)

    def esda_stat_only() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return G_Local(y, w, transform="B", star=True, permutations=0).Zs

    t_esda_stat, _ = best_of(3, esda_stat_only)
    t_ours, z_ours = best_of(5, lambda: gi_star(y, xy, BAND))
    t_kd, z_kd = best_of(3, lambda: gi_star(y, xy, BAND, method="kdtree"))
    diff = float(np.max(np.abs(z_ours - z_esda)))
    diff_kd = float(np.max(np.abs(z_kd - z_esda)))
    ratio = t_esda / t_ours
    print("1. Gi* vs esda, 300 x 300 grid (90,000 cells), band 375 m (1.5 cells)")
    print(f"   esda end to end (DistanceBand + G_Local)  {t_esda:9.3f} s")
    print(f"   esda G_Local alone (weights prebuilt)     {t_esda_stat:9.3f} s")
    print(f"   harmscope gi_star (auto -> grid)          {t_ours:9.3f} s")
    print(f"   harmscope gi_star (kdtree)                {t_kd:9.3f} s")
    print(f"   max |z - z_esda|: grid {diff:.1e}, kdtree {diff_kd:.1e}  (must be <= 1e-9)")
    print(f"   speed-up end to end: {ratio:,.0f}x  (target >= 20x: {verdict(ratio >= 20)})")
    print(f"   speed-up vs esda G_Local alone: {t_esda_stat / t_ours:,.1f}x")
    return ratio >= 20 and diff <= 1e-9 and diff_kd <= 1e-9


def bench_million(rng: np.random.Generator) -> bool:
    xy = lattice(1000, 1000)
    y = harm_like(rng, (xy.shape[0],))
    t_sum, _ = best_of(5, lambda: float(y.sum()))
    t_ours, z = best_of(3, lambda: gi_star(y, xy, BAND))
    assert z.shape == y.shape
    print("2. Gi* on 1,000,000 cells (1000 x 1000), band 375 m")
    print(f"   numpy sum over the values (baseline)      {t_sum:9.4f} s")
    print(f"   harmscope gi_star                         {t_ours:9.3f} s")
    print(
        f"   ratio to the numpy sum: {t_ours / t_sum:,.0f}x  "
        f"(target < 10 s: {verdict(t_ours < 10)})"
    )
    return t_ours < 10


def bench_emerging(rng: np.random.Generator) -> bool:
    xy = lattice(250, 200)
    y = harm_like(rng, (36, xy.shape[0]))
    # A growing cluster so that the categories are not all "no_pattern".
    centre = 100 * 250 + 125
    y[18:, centre - 1 : centre + 2] += np.linspace(50, 500, 18)[:, None]
    t_sum, _ = best_of(5, lambda: float(y.sum()))
    t_ours, r = best_of(2, lambda: emerging_hot_spots(y, xy, BAND))
    labels, counts = np.unique(r.category, return_counts=True)
    print("3. Emerging hot spots, 36 periods x 50,000 cells (250 x 200), band 375 m")
    print(f"   numpy sum over the values (baseline)      {t_sum:9.4f} s")
    print(f"   harmscope emerging_hot_spots              {t_ours:9.3f} s")
    print(
        f"   ratio to the numpy sum: {t_ours / t_sum:,.0f}x  "
        f"(target < 30 s: {verdict(t_ours < 30)})"
    )
    print("   categories: " + ", ".join(f"{k} {v}" for k, v in zip(labels, counts, strict=True)))
    return t_ours < 30


def main() -> int:
    rng = np.random.default_rng(20090601)
    ok = [bench_esda(rng), bench_million(rng), bench_emerging(rng)]
    print("all targets met" if all(ok) else "some targets MISSED")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
