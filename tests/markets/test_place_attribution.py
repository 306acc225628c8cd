"""The 'place' background of the local attribution (``harmscope.markets.excess``).

1. The place ratio worked out by hand on a 3 x 3 lattice with a hole, and the
   neighbourhood level on a 4 x 4 lattice (market harm never counted).
2. A noise-free lattice whose background *is* the model: the fit recovers it exactly and the
   excess is the known bump.
3. A noisy lattice: the fit solves the quasi-Poisson equations with the design rebuilt here
   by hand, and the replicates are the placebo areas' observed/predicted ratios.
4. A controlled case (place and local backgrounds): lattices drawn from a known model (shared place effect, Poisson
   counts, a market bump of known size, its users' theft raising the reference types around
   it): the 95 % interval covers the known excess in most of them and the estimate is
   unbiased within a few per cent.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harmscope.markets.excess import (
    AttributionCells,
    attribute_cells,
    neighbourhood_level,
    place_background,
    place_ratio,
    placebo_areas,
)


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    return ix.ravel().astype(np.int64), iy.ravel().astype(np.int64)


def _ratio_by_hand(ix: np.ndarray, iy: np.ndarray, r: np.ndarray) -> np.ndarray:
    where = {(int(a), int(b)): float(v) for a, b, v in zip(ix, iy, r, strict=True)}
    out = []
    for a, b, v in zip(ix, iy, r, strict=True):
        nb = [
            where[(int(a) + dx, int(b) + dy)]
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            if (dx, dy) != (0, 0) and (int(a) + dx, int(b) + dy) in where
        ]
        mean = sum(nb) / len(nb) if nb else float(v)
        out.append(math.log((v + 1.0) / (mean + 1.0)))
    return np.array(out)


def _level_by_hand(
    ix: np.ndarray, iy: np.ndarray, harm: np.ndarray, market: np.ndarray, scale: float = 3.0
) -> np.ndarray:
    # Gaussian-weighted mean of the background cells' harm within 3 * scale cells, the cell
    # itself left out; log(1 + mean).
    bg = [
        (int(a), int(b), float(h)) for a, b, h, m in zip(ix, iy, harm, market, strict=True) if m < 0
    ]
    out = []
    for a, b in zip(ix, iy, strict=True):
        num = den = 0.0
        for c, d, h in bg:
            if (c, d) == (int(a), int(b)) or max(abs(c - a), abs(d - b)) > math.ceil(3 * scale):
                continue
            w = math.exp(-((c - a) ** 2 + (d - b) ** 2) / (2 * scale * scale))
            num += w * h
            den += w
        out.append(math.log1p(num / den))
    return np.array(out)


def test_neighbourhood_level_by_hand() -> None:
    # 4 x 4 cells, harm = 1 + x + 4 y; the market holds (1, 1): its harm is never counted.
    ix, iy = _grid(4)
    harm = 1.0 + ix + 4.0 * iy
    market = np.where((ix == 1) & (iy == 1), 0, -1).astype(np.int64)
    cells = AttributionCells(harm=harm, ix=ix, iy=iy, market=market)
    got = neighbourhood_level(cells, scale=1.0)
    assert np.allclose(got, _level_by_hand(ix, iy, harm, market, scale=1.0))
    # Cell (0, 0) by hand, scale 1: neighbours (1, 0)=2 w e^-0.5, (0, 1)=5 w e^-0.5,
    # (1, 1) market (left out), then (2, 0)=3, (0, 2)=9 w e^-2, (2, 1)=7, (1, 2)=10 w e^-2.5,
    # (2, 2)=11 w e^-4, (3, 0)=4, (0, 3)=13 w e^-4.5, (3, 1)=8, (1, 3)=14 w e^-5,
    # (3, 2)=12, (2, 3)=15 w e^-6.5, (3, 3)=16 w e^-9.
    terms = [(2, 0.5), (5, 0.5), (3, 2), (9, 2), (7, 2.5), (10, 2.5), (11, 4), (4, 4.5)]
    terms += [(13, 4.5), (8, 5), (14, 5), (12, 6.5), (15, 6.5), (16, 9)]
    num = sum(h * math.exp(-e) for h, e in terms)
    den = sum(math.exp(-e) for _, e in terms)
    assert got[0] == pytest.approx(math.log1p(num / den))
    # Raising the market cell's harm changes nobody's level (the market gives none).
    bumped = AttributionCells(harm=harm + 100.0 * (market == 0), ix=ix, iy=iy, market=market)
    assert np.allclose(neighbourhood_level(bumped, scale=1.0)[market < 0], got[market < 0])


def test_place_ratio_by_hand() -> None:
    # 3 x 3 cells without (2, 2): counts 0..7 in row order.
    ix, iy = _grid(3)
    keep = ~((ix == 2) & (iy == 2))
    ix, iy = ix[keep], iy[keep]
    r = np.arange(8, dtype=float)
    cells = AttributionCells(
        harm=np.ones(8), ix=ix, iy=iy, market=np.full(8, -1), reference_count=r
    )
    got = place_ratio(cells)
    # Corner (0, 0) holds 0; its neighbours (1, 0)=1, (0, 1)=3, (1, 1)=4: mean 8/3.
    assert got[0] == pytest.approx(math.log(1.0 / (8.0 / 3.0 + 1.0)))
    # The middle (1, 1) holds 4; its 7 neighbours (the hole left out) sum 0+1+2+3+5+6+7 = 24.
    assert got[4] == pytest.approx(math.log(5.0 / (24.0 / 7.0 + 1.0)))
    assert np.allclose(got, _ratio_by_hand(ix, iy, r))
    with pytest.raises(ValueError, match="reference_count"):
        place_ratio(AttributionCells(harm=np.ones(8), ix=ix, iy=iy, market=np.full(8, -1)))


def test_noise_free_background_and_known_excess() -> None:
    # Background exp(2 + 0.9 x): the model with no distance or neighbourhood terms, so it
    # does not depend on where the harm centre falls; the market (3 x 3 cells in the middle) adds 50 at its
    # centre and 10 on each of the 8 others: excess 130 exactly.
    rng = np.random.default_rng(11)
    n = 13
    ix, iy = _grid(n)
    ref = rng.poisson(20.0, size=n * n).astype(float)
    x = _ratio_by_hand(ix, iy, ref)
    background = np.exp(2.0 + 0.9 * x)
    market = np.where((abs(ix - 6) <= 1) & (abs(iy - 6) <= 1), 0, -1).astype(np.int64)
    bump = np.where(market == 0, 10.0, 0.0)
    bump[(ix == 6) & (iy == 6)] = 50.0
    cells = AttributionCells(
        harm=background + bump, ix=ix, iy=iy, market=market, reference_count=ref
    )
    assert np.allclose(place_background(cells), background, rtol=1e-7)
    observed, expected, boot, count, _ = attribute_cells(
        cells, 1, reach_cells=3.0, replicates=200, background="place"
    )
    assert expected[0] == pytest.approx(background[market == 0].sum(), rel=1e-7)
    assert observed[0] - expected[0] == pytest.approx(130.0, rel=1e-6)
    # Every placebo area is predicted exactly: each replicate is the excess itself.
    assert np.allclose(boot[0], 130.0, rtol=1e-6)
    assert count[0] == len(placebo_areas(cells, 0, reach_cells=3.0, min_share=0.5))


def test_place_background_solves_the_quasi_poisson_equations() -> None:
    rng = np.random.default_rng(5)
    n = 12
    ix, iy = _grid(n)
    harm = rng.gamma(2.0, 10.0, size=n * n)
    ref = rng.gamma(2.0, 5.0, size=n * n)
    count = rng.poisson(15.0, size=n * n).astype(float)
    market = np.full(n * n, -1, dtype=np.int64)
    market[(ix >= 3) & (ix <= 4) & (iy == 6)] = 0
    cells = AttributionCells(
        harm=harm, ix=ix, iy=iy, market=market, reference=ref, reference_count=count
    )
    mu = place_background(cells)
    # The design by hand: harm-weighted centre (both kinds of harm), distance in cells / 4,
    # its square, the neighbourhood level and the place ratio.
    w = harm + ref
    cx, cy = (ix * w).sum() / w.sum(), (iy * w).sum() / w.sum()
    d = np.hypot(ix - cx, iy - cy) / 4.0
    level = _level_by_hand(ix, iy, harm, market)
    x = np.column_stack([np.ones(n * n), d, d * d, level, _ratio_by_hand(ix, iy, count)])
    out = market < 0
    assert np.allclose(x[out].T @ (harm[out] - mu[out]), 0.0, atol=1e-6 * harm.sum())
    # log mu is linear in the design, market cells included.
    coef = np.linalg.lstsq(x, np.log(mu), rcond=None)[0]
    assert np.allclose(x @ coef, np.log(mu), atol=1e-9)
    obs, expected, boot, _, _ = attribute_cells(
        cells, 1, reach_cells=2.0, replicates=400, seed=2, background="place", widen=1.5
    )
    assert expected[0] == pytest.approx(mu[market == 0].sum())
    lp = placebo_areas(cells, 0, reach_cells=2.0, min_share=0.5)
    mp = placebo_areas(
        AttributionCells(harm=mu, ix=ix, iy=iy, market=market), 0, reach_cells=2.0, min_share=0.5
    )
    # Replicate: the excess minus 1.5 times (expected * L_p / M_p - the draws' median).
    ratio = lp[mp > 0] / mp[mp > 0]
    draws = expected[0] * ratio[np.random.default_rng(2).integers(0, len(ratio), 400)]
    want = obs[0] - expected[0] - 1.5 * (draws - np.median(draws))
    assert np.allclose(boot[0], want)
    with pytest.raises(ValueError, match="reference_count"):
        attribute_cells(
            AttributionCells(harm=harm, ix=ix, iy=iy, market=market),
            1,
            reach_cells=2.0,
            background="place",
        )


def _controlled_city(rng: np.random.Generator, n: int = 16) -> tuple[AttributionCells, float]:
    """A lattice from a known model. Every cell has a place effect (lognormal, sd 0.6)
    shared by all crime types and a smooth fall-off from the middle; the reference types
    are Poisson counts of it; the counted types are Poisson counts of it times a harm
    weight of 20 days. One market at a random interior cell adds Poisson counts of a
    Gaussian footprint (sd 0.8 cells, within its 3 x 3 cells) and its users add reference
    crimes spread over 5 x 5 cells (sd 1.2 cells). Returns the cells and the true excess
    (the harm the market added)."""
    ix, iy = _grid(n)
    d = np.hypot(ix - n / 2, iy - n / 2) / 4.0
    place = rng.lognormal(0.0, 0.6, size=n * n) * np.exp(1.0 - 0.6 * d)
    cx, cy = rng.integers(4, n - 4, size=2)
    dx, dy = ix - cx, iy - cy
    market = np.where((abs(dx) <= 1) & (abs(dy) <= 1), 0, -1).astype(np.int64)
    foot = np.where(market == 0, np.exp(-(dx**2 + dy**2) / (2 * 0.8**2)), 0.0)
    users = np.where((abs(dx) <= 2) & (abs(dy) <= 2), np.exp(-(dx**2 + dy**2) / 2.88), 0.0)
    ref = rng.poisson(8.0 * place + 40.0 * users / users.sum()).astype(float)
    base = rng.poisson(3.0 * place).astype(float)
    added = rng.poisson(60.0 * foot / foot.sum()).astype(float)
    harm = 20.0 * (base + added)
    cells = AttributionCells(
        harm=harm, ix=ix, iy=iy, market=market, reference=20.0 * ref, reference_count=ref
    )
    return cells, float(20.0 * added.sum())


@pytest.mark.parametrize(("background", "widen"), [("place", 1.25), ("local", 1.5)])
def test_interval_covers_a_known_excess_in_a_controlled_case(background: str, widen: float) -> None:
    # 'local' (the place model times its placebo areas' median observed/predicted ratio)
    # must stay unbiased where the place model is already right.
    rng = np.random.default_rng(2026)
    covered, errors = [], []
    for i in range(60):
        cells, truth = _controlled_city(rng)
        obs, expected, boot, _, _ = attribute_cells(
            cells, 1, reach_cells=5.0, replicates=1000, seed=i, background=background, widen=widen
        )
        lo, hi = np.percentile(boot[0], [2.5, 97.5])
        covered.append(lo <= truth <= hi)
        errors.append((obs[0] - expected[0]) / truth - 1.0)
    # 60 cities: a 95 % interval that is honest covers 52 to 60 of them (binomial 99 %).
    assert 0.85 <= np.mean(covered) <= 1.0
    # The place ratio sees the busy cell the market sits on; the users' theft around the
    # market raises its neighbours as well and cancels. Mean relative error within 10 %.
    assert abs(np.mean(errors)) < 0.10
