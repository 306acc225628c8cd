"""The set-based lattice look-ups give exactly what the passes over every cell gave."""

from __future__ import annotations

import math

import numpy as np

from harmscope.markets.excess import (
    AttributionCells,
    Site,
    cell_lookup,
    market_cells,
    neighbourhood_level,
    place_ratio,
    placebo_areas,
)
from harmscope.markets.lattice import ColumnIndex, label_groups


def _lattice(seed: int = 3, n_markets: int = 6) -> AttributionCells:
    """An irregular lattice (holes, a ragged edge) with a few markets of a few cells each."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(-20, 25), np.arange(5, 40), indexing="ij")
    keep = rng.random(xs.size) < 0.8
    ix, iy = xs.ravel()[keep].astype(np.int64), ys.ravel()[keep].astype(np.int64)
    market = np.full(ix.size, -1, dtype=np.int64)
    for k in range(n_markets):
        centre = rng.integers(0, ix.size)
        near = np.flatnonzero(np.hypot(ix - ix[centre], iy - iy[centre]) <= 1.5)
        market[near[market[near] < 0]] = k
    harm = rng.gamma(0.6, 40.0, ix.size) * (rng.random(ix.size) < 0.7)
    reference = rng.gamma(0.8, 30.0, ix.size)
    counts = rng.poisson(3.0, ix.size).astype(np.float64)
    return AttributionCells(harm, ix, iy, market, reference, counts)


def test_label_groups_match_a_pass_per_label() -> None:
    labels = np.array([2, -1, 0, 2, 5, 1, 0, 2, 7, -1])
    got = label_groups(labels, 4)
    assert [g.tolist() for g in got] == [np.flatnonzero(labels == k).tolist() for k in range(4)]
    ones = label_groups(labels, 3, first=1)
    assert [g.tolist() for g in ones] == [np.flatnonzero(labels == k).tolist() for k in (1, 2, 3)]


def test_column_band_matches_a_mask() -> None:
    values = np.random.default_rng(0).integers(-30, 30, 500)
    index = ColumnIndex(values)
    for lo, hi in [(-5, 5), (-100, -40), (29, 29), (-30, 30)]:
        want = np.flatnonzero((values >= lo) & (values <= hi))
        assert index.band(lo, hi).tolist() == want.tolist()


def test_placebo_areas_with_a_lookup_are_the_same_floats() -> None:
    cells = _lattice()
    lookup = cell_lookup(cells, 6)
    for k in range(6):
        for reach in (2.0, 5.0, 11.3):
            for column in ("harm", "reference"):
                plain = placebo_areas(cells, k, reach_cells=reach, min_share=0.5, column=column)
                fast = placebo_areas(
                    cells, k, reach_cells=reach, min_share=0.5, column=column, lookup=lookup
                )
                assert plain.tobytes() == fast.tobytes()


def test_neighbour_sums_are_the_per_cell_sums_in_kernel_order() -> None:
    cells = _lattice(seed=8)
    where = {(int(x), int(y)): j for j, (x, y) in enumerate(zip(cells.ix, cells.iy, strict=True))}
    out = cells.market < 0
    scale, r = 3.0, 9
    kernel = [
        (dx, dy, math.exp(-(dx * dx + dy * dy) / (2 * scale * scale)))
        for dx in range(-r, r + 1)
        for dy in range(-r, r + 1)
        if (dx, dy) != (0, 0)
    ]
    fallback = float(cells.harm[out].mean())
    want = np.empty(len(cells.harm))
    for i, (x, y) in enumerate(zip(cells.ix, cells.iy, strict=True)):
        num = den = 0.0
        for dx, dy, w in kernel:  # each offset added in turn, as the lattice code adds them
            j = where.get((int(x) + dx, int(y) + dy))
            num += w * (float(cells.harm[j]) if j is not None and out[j] else 0.0)
            den += w * (1.0 if j is not None and out[j] else 0.0)
        want[i] = num / den if den > 0 else fallback
    expected = np.log1p(np.maximum(want, 0.0))
    assert neighbourhood_level(cells, scale=scale).tobytes() == expected.tobytes()
    assert np.all(np.isfinite(place_ratio(cells)))


def test_market_cells_match_the_whole_lattice_disc() -> None:
    cells = _lattice(seed=5)
    rng = np.random.default_rng(1)
    size = 250.0
    sites = [
        Site(id=str(k), centroid_x=float(x), centroid_y=float(y))
        for k, (x, y) in enumerate(rng.uniform([-5000, 1000], [6000, 10000], size=(12, 2)))
    ]
    got = market_cells(cells.ix, cells.iy, sites, size, 500.0)
    cx, cy = (cells.ix + 0.5) * size, (cells.iy + 0.5) * size
    want = np.full(len(cx), -1)
    best = np.full(len(cx), math.inf)
    for k, s in enumerate(sites):
        d = np.hypot(cx - s.centroid_x, cy - s.centroid_y)
        take = (d <= 500.0) & (d < best)
        want[take], best[take] = k, d[take]
    assert got.tolist() == want.tolist()
