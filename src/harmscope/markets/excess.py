"""The lattice arithmetic of the local attribution: market cells, matching strata, and the
comparison-cell bootstrap of each market's excess (numpy only, no warehouse).

:mod:`harmscope.markets.attribution` reads the warehouse and calls these; they are kept apart
so the method can be checked by hand on a toy lattice (``tests/places/test_local_attribution.py``).
The method and its references are in :mod:`harmscope.markets.attribution`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import ndimage

from harmscope.markets.model import Market

__all__ = [
    "AttributionCells",
    "attribute_cells",
    "distance_to",
    "frame_cells",
    "grid_index",
    "market_cells",
    "neighbourhood_level",
    "percentile_interval",
    "strata",
]

F = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class AttributionCells:
    """The per-cell inputs of :func:`attribute_cells` (one row per study-area cell).

    Attributes
    ----------
    harm : ndarray of float
        Harm of each cell over the period (scheme unit).
    stratum : ndarray of int
        Matching stratum of each cell (any integers; equal = comparable).
    coarse : ndarray of int
        A coarser stratum used when a cell's stratum has no comparison cell.
    market : ndarray of int
        Index of the market holding the cell, -1 for none.
    comparison : ndarray of bool
        Whether the cell is a comparison cell (never true for a market cell).
    """

    harm: F
    stratum: Ints
    coarse: Ints
    market: Ints
    comparison: NDArray[np.bool_]


def strata(
    x: F,
    y: F,
    *,
    centre: tuple[float, float],
    bands: int,
    level: F | None,
    level_bands: int,
) -> tuple[Ints, Ints]:
    """Matching strata of cells: distance band from the centre x neighbourhood level band.

    Parameters
    ----------
    x, y : ndarray
        Cell centres, metres.
    centre : (x, y)
        Centre of the study area, metres.
    bands : int
        Equal-count bands of distance (>= 1).
    level : ndarray or None
        Neighbourhood level of each cell (NaN where unknown); None: distance bands only.
    level_bands : int
        Equal-count bands of the level (>= 1).

    Returns
    -------
    stratum, coarse : ndarray of int
        ``band * level_bands + level band`` and the distance band alone.
    """
    dist = np.hypot(x - centre[0], y - centre[1])
    band = _bands(dist, bands)
    if level is None or level_bands <= 1:
        return band, band
    lv = np.where(np.isfinite(level), level, np.nanmedian(level) if np.isfinite(level).any() else 0)
    return band * level_bands + _bands(lv, level_bands), band


def _bands(values: F, n: int) -> Ints:
    if n <= 1 or len(values) == 0:
        return np.zeros(len(values), dtype=np.int64)
    edges = np.quantile(values, np.linspace(0, 1, n + 1)[1:-1])
    return np.searchsorted(edges, values, side="right").astype(np.int64)


def attribute_cells(
    cells: AttributionCells,
    n_markets: int,
    *,
    replicates: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[F, F, F, Ints]:
    """Observed, expected and bootstrap replicates of each market's excess.

    Parameters
    ----------
    cells : AttributionCells
        Per-cell harm, strata, market membership and comparison flags.
    n_markets : int
        Number of markets (``cells.market`` holds 0..n_markets-1 or -1).
    replicates : int, default 2000
        Bootstrap replicates (>= 1).
    seed : int, default 0
        Seed of the bootstrap, so a result is reproducible.
    level : float, default 0.95
        Interval level (only checked here; the caller takes the percentiles).

    Returns
    -------
    observed, expected : ndarray (n_markets,)
        Harm in each market's cells; sum over them of the mean harm of the comparison cells
        of the same stratum.
    boot : ndarray (n_markets, replicates)
        Replicate excess ``observed - sum of one draw per market cell`` from the stratum's
        comparison cells resampled with replacement.
    fallback : ndarray of int (n_markets,)
        Market cells matched on the coarse stratum or on every comparison cell.

    Raises
    ------
    ValueError
        No comparison cell, a bad level or replicate count.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates!r}")
    harm = np.asarray(cells.harm, dtype=np.float64)
    comp = np.asarray(cells.comparison, dtype=bool) & (cells.market < 0)
    if not comp.any():
        raise ValueError("no comparison cell: every study cell is in or near a market")
    rng = np.random.default_rng(seed)
    observed: F = np.bincount(
        cells.market[cells.market >= 0], weights=harm[cells.market >= 0], minlength=n_markets
    )[:n_markets].astype(np.float64)
    expected = np.zeros(n_markets)
    boot = np.tile(observed[:, None], (1, replicates)).astype(np.float64)
    fallback = np.zeros(n_markets, dtype=np.int64)
    pools: dict[tuple[str, int], F] = {}

    def pool(kind: str, key: int) -> F:
        if (kind, key) not in pools:
            if kind == "fine":
                sel = comp & (cells.stratum == key)
            elif kind == "coarse":
                sel = comp & (cells.coarse == key)
            else:
                sel = comp
            pools[(kind, key)] = harm[sel]
        return pools[(kind, key)]

    in_market = np.flatnonzero(cells.market >= 0)
    # Group the market cells by (market, matching pool) so each pool is drawn from at once.
    groups: dict[tuple[int, str, int], int] = {}
    for i in in_market:
        k = int(cells.market[i])
        kind, key = "fine", int(cells.stratum[i])
        if pool(kind, key).size == 0:
            kind, key = "coarse", int(cells.coarse[i])
            fallback[k] += 1
            if pool(kind, key).size == 0:
                kind, key = "all", 0
        groups[(k, kind, key)] = groups.get((k, kind, key), 0) + 1
    for (k, kind, key), n in sorted(groups.items()):
        values = pool(kind, key)
        expected[k] += n * float(values.mean())
        m = values.size
        # Resample the pool (its level) and draw n cells of each resample (the places' spread):
        # index of a draw = index into the resample = a uniform index into the pool again.
        resample = rng.integers(0, m, size=(replicates, m))
        pick = rng.integers(0, m, size=(replicates, n))
        draws = values[np.take_along_axis(resample, pick, axis=1)]
        boot[k] -= draws.sum(axis=1)
    return observed, expected, boot, fallback


def percentile_interval(boot: F, level: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of replicates."""
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(boot, [tail, 100.0 - tail])
    return float(lo), float(hi)


def neighbourhood_level(
    ix: Ints, iy: Ints, harm: F, usable: NDArray[np.bool_], radius_cells: int
) -> F:
    """Mean harm per usable cell within ``radius_cells`` (Chebyshev) of each cell, itself out.

    ``usable`` cells are those far from every market: a market's own harm never enters a
    level. NaN where no usable cell is in reach.
    """
    if len(ix) == 0:
        return np.zeros(0)
    x0, y0 = int(ix.min()) - radius_cells, int(iy.min()) - radius_cells
    shape = (int(iy.max()) - y0 + radius_cells + 1, int(ix.max()) - x0 + radius_cells + 1)
    total = np.zeros(shape)
    count = np.zeros(shape)
    gy, gx = iy - y0, ix - x0
    total[gy, gx] = np.where(usable, harm, 0.0)
    count[gy, gx] = usable.astype(np.float64)
    size = 2 * radius_cells + 1
    s = ndimage.uniform_filter(total, size=size, mode="constant") * size * size
    c = ndimage.uniform_filter(count, size=size, mode="constant") * size * size
    s_own = s[gy, gx] - total[gy, gx]
    c_own = np.rint(c[gy, gx] - count[gy, gx])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c_own > 0.5, s_own / np.maximum(c_own, 1.0), np.nan)


def grid_index(values: Sequence[float] | F, cell_size: float) -> Ints:
    """Integer grid index of lower-left corners (metres)."""
    return np.rint(np.asarray(values, dtype=np.float64) / cell_size).astype(np.int64)


def distance_to(ix: Ints, iy: Ints, targets: set[tuple[int, int]], cell_size: float) -> F:
    """Distance (metres) from each cell's centre to the nearest target cell's centre."""
    if not targets:
        return np.full(len(ix), math.inf)
    t = np.asarray(sorted(targets), dtype=np.float64)
    d = np.full(len(ix), math.inf)
    for chunk in range(0, len(t), 256):
        tt = t[chunk : chunk + 256]
        dd = np.hypot(ix[:, None] - tt[None, :, 0], iy[:, None] - tt[None, :, 1]).min(axis=1)
        d = np.minimum(d, dd * cell_size)
    return d


def frame_cells(cells: pd.DataFrame, cell_size: float) -> tuple[Ints, Ints]:
    """Grid indices of a frame's ``cell_x``/``cell_y``."""
    return grid_index(cells["cell_x"].to_numpy(), cell_size), grid_index(
        cells["cell_y"].to_numpy(), cell_size
    )


def market_cells(
    ix: Ints, iy: Ints, found: Sequence[Market], cell_size: float, radius: float | None
) -> Ints:
    """Index of the market holding each cell (-1 for none), one market per cell.

    ``radius`` None: the cells the market holds (:attr:`Market.area_cells`, footprint plus
    buffer after the split). A number: the cells whose centre lies within ``radius`` metres of
    the market's centroid, a cell reached by several going to the nearest centroid. The disc
    is the default because footprint cells are chosen for their own market activity, which
    follows police deployment and so the cell's recorded crime: a footprint selects busy
    cells, and their background would be counted as excess.
    """
    out = np.full(len(ix), -1, dtype=np.int64)
    if radius is None:
        pos = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(ix, iy, strict=True))}
        for k, m in enumerate(found):
            for x, y in m.area_cells:
                j = pos.get((round(x / cell_size), round(y / cell_size)))
                if j is not None and out[j] < 0:
                    out[j] = k
        return out
    cx = (ix + 0.5) * cell_size
    cy = (iy + 0.5) * cell_size
    best = np.full(len(ix), math.inf)
    for k, m in enumerate(found):
        d = np.hypot(cx - m.centroid_x, cy - m.centroid_y)
        take = (d <= radius) & (d < best)
        out[take] = k
        best[take] = d[take]
    return out
