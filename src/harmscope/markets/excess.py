"""The lattice arithmetic of the local attribution: market cells, placebo areas (the same
shape laid on comparable places nearby) and the bootstrap of each market's excess (numpy
only, no warehouse).

:mod:`harmscope.markets.attribution` reads the warehouse and calls these; they are kept apart
so the method can be checked by hand on a toy lattice (``tests/places/test_local_attribution.py``).
The method and its references are in :mod:`harmscope.markets.attribution`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.markets.lattice import ColumnIndex, label_groups

__all__ = [
    "Attributed",
    "AttributionCells",
    "CellLookup",
    "Located",
    "Site",
    "attribute_cells",
    "cell_lookup",
    "centred",
    "distance_background",
    "frame_cells",
    "grid_index",
    "market_cells",
    "neighbourhood_level",
    "percentile_interval",
    "place_background",
    "place_ratio",
    "placebo_areas",
]

#: Backgrounds :func:`attribute_cells` knows.
BACKGROUNDS: tuple[str, ...] = ("placebo", "distance", "place", "local")

F = NDArray[np.float64]
Ints = NDArray[np.int64]


class Located(Protocol):
    """What :func:`market_cells` reads of a market: its centroid and, for ``radius=None``,
    the cells it holds (a :class:`~harmscope.markets.model.Market` or a :class:`Site`)."""

    @property
    def centroid_x(self) -> float: ...

    @property
    def centroid_y(self) -> float: ...

    @property
    def area_cells(self) -> Sequence[tuple[float, float]]: ...


@dataclass(frozen=True)
class Site:
    """A market known by where it is, not by a footprint of its own (confirmed markets,
    markets named in intelligence reports, detected candidates once merged).

    Attributes
    ----------
    id : str
        Market id.
    centroid_x, centroid_y : float
        Where the market is (British National Grid metres).
    source : str
        What placed it: ``'confirmed'``, ``'reports'`` or ``'detected'``.
    name : str or None
        Analyst's name of the market.
    status : str
        ``'confirmed'`` or ``'candidate'``.
    area_cells : tuple of (cell_x, cell_y)
        Cells the market holds when it comes from detection (used with ``radius=None``).
    """

    id: str
    centroid_x: float
    centroid_y: float
    source: str = "confirmed"
    name: str | None = None
    status: str = "confirmed"
    area_cells: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class AttributionCells:
    """The per-cell inputs of :func:`attribute_cells` (one row per study-area cell).

    Attributes
    ----------
    harm : ndarray of float
        Harm of each cell over the period (scheme unit), of the event types counted.
    ix, iy : ndarray of int
        Grid indices of the cells (lower-left corner / cell size).
    market : ndarray of int
        Index of the market holding the cell, -1 for none.
    reference : ndarray of float, optional
        Harm of each cell of the event types *not* counted: the reference of the offset
        model (``beta`` above 0 in :func:`attribute_cells`); None when only the placebo mean
        is wanted.
    reference_count : ndarray of float, optional
        Number of crimes of the types *not* counted in each cell: the place signal of
        :func:`place_background` (counts, not harm: one rare severe crime would otherwise
        swamp a cell's ratio).
    """

    harm: F
    ix: Ints
    iy: Ints
    market: Ints
    reference: F | None = None
    reference_count: F | None = None


class CellLookup(NamedTuple):
    """The cells of each market and the cells by column, built once for many look-ups
    (:func:`cell_lookup`)."""

    own: list[Ints]
    columns: ColumnIndex


def cell_lookup(cells: AttributionCells, n_markets: int) -> CellLookup:
    """Each market's cells (ascending indices) and a column index of the lattice: what
    :func:`placebo_areas` reads per market, for all markets in two sorts."""
    return CellLookup(
        label_groups(cells.market, n_markets), ColumnIndex(np.asarray(cells.ix, dtype=np.int64))
    )


def placebo_areas(
    cells: AttributionCells,
    k: int,
    *,
    reach_cells: float,
    min_share: float,
    column: str = "harm",
    lookup: CellLookup | None = None,
) -> F:
    """Background harm of market ``k``'s shape laid on comparable places nearby.

    The market's cells, as offsets from its first cell, are laid on every *placebo origin*:
    each cell whose distance (in cells, centre to centre) from the market's first cell is
    above 0 and at most ``reach_cells``. A placebo area is counted when at least
    ``min_share`` of its cells are study cells no market holds; its harm is the mean of those
    cells times the market's cell count (cells a market holds, or outside the study area,
    are unknown background, not zero).

    ``column`` names the per-cell values summed: ``'harm'`` (the counted types) or
    ``'reference'`` (the other types; the same placebo areas, in the same order).
    ``lookup`` (:func:`cell_lookup` of the same cells) saves the passes over every cell that
    finding the market's cells and its neighbourhood otherwise takes; the result is the same.

    Returns
    -------
    ndarray
        One background total per usable placebo origin (empty if none).
    """
    values = cells.harm if column == "harm" else cells.reference
    if values is None:
        raise ValueError(f"the cells have no {column!r} values")
    if lookup is None:
        own = np.flatnonzero(cells.market == k)
    else:
        own = lookup.own[k] if 0 <= k < len(lookup.own) else np.zeros(0, dtype=np.int64)
    if len(own) == 0:
        return np.zeros(0)
    ix, iy = np.asarray(cells.ix, dtype=np.int64), np.asarray(cells.iy, dtype=np.int64)
    ox = ix[own] - ix[own[0]]
    oy = iy[own] - iy[own[0]]
    reach = int(np.ceil(reach_cells)) + int(max(np.abs(ox).max(), np.abs(oy).max()))
    # Origins and look-ups lie within ``reach`` columns of the market (a distance is at least
    # its column difference): with a lookup only that band of columns is read, in ascending
    # order like a pass over every cell, so the result is the same, per market at the cost
    # of its neighbourhood rather than of the whole lattice.
    x0 = int(ix[own[0]])
    band = None if lookup is None else lookup.columns.band(x0 - reach, x0 + reach)
    bx, by = (ix, iy) if band is None else (ix[band], iy[band])
    d = np.hypot(bx - ix[own[0]], by - iy[own[0]])
    origins = np.flatnonzero((d > 0) & (d <= reach_cells))
    if band is not None:
        origins = band[origins]
    if len(origins) == 0:
        return np.zeros(0)
    # Every (origin, offset) cell looked up at once among the cells near the market: set-based,
    # so a national warehouse's hundreds of markets cost numpy passes, not a dict per market.
    near = np.flatnonzero((np.abs(bx - ix[own[0]]) <= reach) & (np.abs(by - iy[own[0]]) <= reach))
    if band is not None:
        near = band[near]
    span = 2 * reach + 1
    key_near = (ix[near] - ix[own[0]] + reach) * span + (iy[near] - iy[own[0]] + reach)
    order = np.argsort(key_near)
    tx = ix[origins][:, None] + ox[None, :] - ix[own[0]] + reach
    ty = iy[origins][:, None] + oy[None, :] - iy[own[0]] + reach
    inside = (tx >= 0) & (tx < span) & (ty >= 0) & (ty < span)
    want = np.where(inside, tx * span + ty, -1)
    pos = np.clip(np.searchsorted(key_near[order], want), 0, len(order) - 1)
    hit = inside & (key_near[order][pos] == want)
    j = near[order][pos]
    usable = hit & (cells.market[j] < 0)
    known = usable.sum(axis=1)
    total = np.where(usable, np.asarray(values, dtype=np.float64)[j], 0.0).sum(axis=1)
    keep = (known > 0) & (known >= min_share * len(own))
    out = total[keep] / known[keep] * len(own)
    return np.asarray(out, dtype=np.float64)


def _distance(cells: AttributionCells) -> F:
    """Each cell's distance (km for 250 m cells: cells / 4) from the harm-weighted mean cell
    (counted plus reference harm)."""
    harm = np.asarray(cells.harm, dtype=np.float64)
    every = harm + (
        np.asarray(cells.reference, dtype=np.float64) if cells.reference is not None else 0.0
    )
    w = every if every.sum() > 0 else np.ones_like(every)
    cx = float(np.sum(cells.ix * w) / w.sum())
    cy = float(np.sum(cells.iy * w) / w.sum())
    return np.asarray(np.hypot(cells.ix - cx, cells.iy - cy) / 4.0, dtype=np.float64)


def _quasi_poisson(x: F, y: F, iterations: int) -> F:
    """Coefficients of ``log E[y] = x b`` by iteratively reweighted least squares (the
    quasi-Poisson estimating equations ``x' (y - mu) = 0``, McCullagh & Nelder 1989, ch. 2
    and 9: the estimate does not depend on the dispersion, so ``y`` in days of harm need
    not be Poisson)."""
    b = np.zeros(x.shape[1])
    b[0] = math.log(float(y.mean()))
    for _ in range(iterations):
        eta = np.clip(x @ b, -50.0, 50.0)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        sw = np.sqrt(mu)
        new = np.linalg.lstsq(x * sw[:, None], z * sw, rcond=None)[0]
        done = bool(np.max(np.abs(new - b)) < 1e-10)
        b = new
        if done:
            break
    return b


def _fit_background(cells: AttributionCells, columns: list[F], iterations: int) -> F:
    harm = np.asarray(cells.harm, dtype=np.float64)
    out = cells.market < 0
    if out.sum() < len(columns) + 1 or harm[out].sum() <= 0:
        raise ValueError(
            f"the background model needs at least {len(columns) + 1} background cells with harm"
        )
    x = np.column_stack([np.ones(len(harm)), *columns])
    b = _quasi_poisson(x[out], harm[out], iterations)
    return np.exp(np.clip(x @ b, -50.0, 50.0)).astype(np.float64)


def distance_background(cells: AttributionCells, *, iterations: int = 100) -> F:
    """Expected harm of the counted types in every cell from the whole city's cells no market
    holds: a log-linear (Poisson) model of the distance to the city's harm centre.

    The centre is the harm-weighted mean cell (counted plus reference harm of every cell);
    ``d`` is a cell's distance from it in cells (centre to centre) divided by 4, i.e. in
    kilometres for 250 m cells; the model ``log E[L_c] = b0 + b1 d + b2 d**2`` is fitted to the
    cells with ``market == -1`` by iteratively reweighted least squares (the quasi-Poisson
    estimating equations, McCullagh & Nelder 1989, ch. 2 and 9: the estimate does not
    depend on the dispersion, so harm in days need not be Poisson). Pooling every
    background cell of the city gives a smoother prediction than the few placebo areas
    near a market.

    Returns
    -------
    ndarray
        Fitted mean harm (scheme unit, over the period) of every cell, market cells included.

    Raises
    ------
    ValueError
        Fewer than 3 background cells, or no background harm.
    """
    d = _distance(cells)
    return _fit_background(cells, [d, d * d], iterations)


#: Cells per block of :func:`_neighbour_sums` (its running sums stay in cache).
_BLOCK = 8192


def _neighbour_sums(
    cells: AttributionCells,
    values: F,
    valid: NDArray[np.bool_],
    kernel: list[tuple[int, int, float]],
) -> tuple[F, F]:
    """For every cell, ``sum_j w_j v_j`` and ``sum_j w_j`` over the cells ``j`` at the
    kernel's offsets ``(dx, dy, w)`` that are study cells with ``valid[j]`` (a dense grid of
    the lattice's bounding box, so each offset is one array shift)."""
    # The box is padded by the kernel's reach, so every offset reads the flat grid at one
    # shifted index (a gather, no mask per offset); an offset beyond the lattice reads a zero
    # of the padding and adds exactly 0.0, so each cell's sum is the same, in the same order.
    # Cells go in grid order and in blocks (value and weight side by side), so the gathers
    # read the grid nearly in sequence and the sums stay in cache.
    pad = max((max(abs(dx), abs(dy)) for dx, dy, _ in kernel), default=0)
    x0, y0 = int(cells.ix.min()) - pad, int(cells.iy.min()) - pad
    gx, gy = cells.ix - x0, cells.iy - y0
    nx, ny = int(gx.max()) + pad + 1, int(gy.max()) + pad + 1
    flat = np.asarray(gx * ny + gy, dtype=np.int64)
    grid = np.zeros((nx * ny, 2))
    grid[flat, 0] = np.where(valid, values, 0.0)
    grid[flat, 1] = valid.astype(np.float64)
    order = np.argsort(flat, kind="stable")
    at = flat[order]
    sums = np.zeros((len(values), 2))
    part = np.empty((_BLOCK, 2))
    for start in range(0, len(at), _BLOCK):
        block, acc = at[start : start + _BLOCK], sums[start : start + _BLOCK]
        got = part[: len(block)]
        for dx, dy, w in kernel:
            np.take(grid, block + (dx * ny + dy), axis=0, out=got)
            got *= w
            acc += got
    out = np.empty((len(values), 2))
    out[order] = sums
    return out[:, 0].copy(), out[:, 1].copy()


def neighbourhood_level(cells: AttributionCells, *, scale: float = 3.0) -> F:
    """Log of the harm level of the counted types around each cell, from cells no market
    holds.

    ``log(1 + sum_j w_j L_j / sum_j w_j)`` over the background cells ``j`` (``market ==
    -1``) within ``3 * scale`` cells, the cell itself left out, Gaussian weights
    ``w_j = exp(-r_j**2 / (2 scale**2))`` (``r_j`` in cells; ``scale`` 3 cells, 750 m for
    250 m cells). It is the placebo areas' idea, the neighbourhood's level without a market,
    pooled into the city-wide model: a market cell and a background cell get it the same
    way (never their own harm), and market cells give none, so the market does not raise
    it. A cell with no background cell in reach gets the mean of all of them.

    Parameters
    ----------
    cells : AttributionCells
    scale : float, default 3
        Gaussian scale, in cells.

    Returns
    -------
    ndarray
        ``n_c`` of every cell (log of harm in the scheme unit, over the period).
    """
    harm = np.asarray(cells.harm, dtype=np.float64)
    out = cells.market < 0
    r = math.ceil(3 * scale)
    kernel = [
        (dx, dy, math.exp(-(dx * dx + dy * dy) / (2 * scale * scale)))
        for dx in range(-r, r + 1)
        for dy in range(-r, r + 1)
        if (dx, dy) != (0, 0)
    ]
    num, den = _neighbour_sums(cells, harm, out, kernel)
    fallback = float(harm[out].mean()) if out.any() else 0.0
    level = np.where(den > 0, num / np.maximum(den, 1e-300), fallback)
    return np.asarray(np.log1p(np.maximum(level, 0.0)), dtype=np.float64)


def place_ratio(cells: AttributionCells, *, pseudo: float = 1.0) -> F:
    """Log ratio of each cell's reference crime count to the mean of its 8 neighbours.

    ``log((R_c + pseudo) / (mean of R over the cell's queen neighbours in the study area +
    pseudo))``, ``R`` = :attr:`AttributionCells.reference_count` (crimes of the types not
    counted). Crime concentrates at micro places that draw every type of crime (Weisburd
    2015), so a cell busier than its neighbours in the *other* types is a busier place for
    the counted types too. The neighbours absorb what is spread over an area: the
    acquisitive crime a market's users commit around it (users travel a few hundred metres
    to offend, Rengert et al. 1999) raises a cell *and* its neighbours, so it largely
    cancels in the ratio, where the cell's own count would count it as place (the ratio
    estimator's over-prediction, ``docs/harm-model.md``). ``pseudo`` (1 crime) keeps empty
    cells finite and pulls cells with few crimes towards 0.

    Raises
    ------
    ValueError
        The cells carry no ``reference_count``.
    """
    if cells.reference_count is None:
        raise ValueError("the place ratio needs the cells' reference_count")
    r = np.asarray(cells.reference_count, dtype=np.float64)
    queen = [(dx, dy, 1.0) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if (dx, dy) != (0, 0)]
    total, count = _neighbour_sums(cells, r, np.ones(len(r), dtype=bool), queen)
    # A cell with no study-area neighbour compares with itself (ratio 1).
    mean = np.where(count > 0, total / np.maximum(count, 1e-300), r)
    return np.asarray(np.log((r + pseudo) / (mean + pseudo)), dtype=np.float64)


def place_background(cells: AttributionCells, *, scale: float = 3.0, iterations: int = 100) -> F:
    """Expected harm of the counted types in every cell: distance to the harm centre, the
    neighbourhood's level and the cell's place ratio, fitted on every cell no market holds.

    ``log E[L_c] = b0 + b1 d + b2 d**2 + b3 n_c + b4 x_c``: ``d`` as in
    :func:`distance_background`, ``n_c`` the :func:`neighbourhood_level` (the counted harm
    of the background cells around, Gaussian weights of scale ``scale`` cells, the cell
    itself left out) and
    ``x_c`` the :func:`place_ratio` (the cell's reference crimes against its 8
    neighbours'), by the quasi-Poisson estimating equations on the cells with ``market ==
    -1``. The coefficients come from the city's own cells without a market, nothing from the
    simulator's truth. Distance gives the city's shape; the neighbourhood level follows it
    where a quadratic cannot (a sharp town centre, a district centre off it); the place
    ratio sees the single busy cell a market sits on, which neither can (markets sit on busy
    places: ``docs/harm-model.md``).

    Parameters
    ----------
    cells : AttributionCells
        With ``reference_count``.
    scale : float, default 3
        Gaussian scale of the neighbourhood level, in cells (750 m for 250 m cells; chosen
        on the tuning seeds).
    iterations : int, default 100
        Most IRLS iterations.

    Returns
    -------
    ndarray
        Fitted mean harm of every cell (scheme unit, over the period).

    Raises
    ------
    ValueError
        Fewer than 5 background cells, no background harm, or no ``reference_count``.
    """
    d = _distance(cells)
    columns = [d, d * d, neighbourhood_level(cells, scale=scale), place_ratio(cells)]
    return _fit_background(cells, columns, iterations)


class Attributed(NamedTuple):
    """What :func:`attribute_cells` returns (arrays, one row per market)."""

    observed: F
    expected: F
    boot: F
    placebos: Ints
    offset: F


def attribute_cells(
    cells: AttributionCells,
    n_markets: int,
    *,
    reach_cells: float,
    min_share: float = 0.5,
    min_placebos: int = 5,
    replicates: int = 2000,
    seed: int = 0,
    beta: float = 0.0,
    widen: float = 1.0,
    background: str = "placebo",
) -> Attributed:
    """Observed, expected and bootstrap replicates of each market's excess.

    Parameters
    ----------
    cells : AttributionCells
        Per-cell harm, grid indices and market membership.
    n_markets : int
        Number of markets (``cells.market`` holds 0..n_markets-1 or -1).
    reach_cells : float
        Placebo origins lie within this many cells of the market (:func:`placebo_areas`).
    min_share : float, default 0.5
        Share of a placebo area's cells that must be known background.
    min_placebos : int, default 5
        Fewest placebo areas per market; the reach widens by a quarter until there are.
    replicates : int, default 2000
        Bootstrap replicates (>= 1).
    seed : int, default 0
        Seed of the bootstrap, so a result is reproducible.
    beta : float, default 0
        Exponent of the place offset. The expected background is
        ``mean(L_p) * (R_k / mean(R_p)) ** beta``: ``L_p`` and ``R_p`` the counted and the
        reference harm of the placebo areas, ``R_k`` the reference harm of the market's own
        cells. ``beta = 0`` is the placebo mean; ``beta = 1`` the ratio estimator
        ``R_k * sum(L_p) / sum(R_p)`` (Cochran 1977, ch. 6), which takes the market's place to
        draw every kind of crime alike; values between are the log-linear (Poisson) model
        ``log E[L_k] = log mean(L_p) + beta log(R_k / mean(R_p))``. Needs
        ``cells.reference`` when not 0.
    widen : float, default 1
        Factor on each replicate's deviation from the draws' median (1: the plain
        bootstrap); a value above 1 widens the interval by that factor about the central
        excess.
    background : {'placebo', 'distance', 'place', 'local'}, default 'placebo'
        ``'distance'`` or ``'place'``: the expected background is the sum over the market's
        cells of :func:`distance_background` or :func:`place_background` (fitted on every
        background cell of the city; ``beta`` is not used), and each replicate multiplies it
        by one placebo area's ratio of observed to predicted harm ``L_p / M_p`` (the model's
        error on an area of the same shape nearby, where no market is), so the interval is
        the model's own error on comparable places. ``'local'``: the ``'place'`` prediction
        times the median of those ratios (the model calibrated on the places around the
        market), with the same draws.

    Returns
    -------
    observed, expected : ndarray (n_markets,)
        Harm in each market's cells; its expected background.
    boot : ndarray (n_markets, replicates)
        Replicate excess: ``observed`` minus the prediction of one placebo area drawn at
        random (uniformly, with replacement) for each market and replicate
        (``L_p * (R_k / mean(R_p)) ** beta``, or ``expected`` times one ratio ``L_p / M_p``),
        scaled by ``widen`` about the draws' median and centred on ``observed - expected``
        (:func:`centred`), so the interval holds the estimate. A whole area is drawn, not
        cells one by one, so the spatial correlation of harm inside an area is kept.
    placebos : ndarray of int (n_markets,)
        Placebo areas each market was compared with.
    offset : ndarray (n_markets,)
        The place offset ``(R_k / mean(R_p)) ** beta`` of each market (1 when ``beta`` is 0).

    Raises
    ------
    ValueError
        A market with too few placebo areas even at the whole study area's reach, or a bad
        replicate count.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates!r}")
    if not math.isfinite(beta):
        raise ValueError(f"beta must be a finite number, got {beta!r}")
    if beta != 0 and cells.reference is None:
        raise ValueError("beta other than 0 needs the cells' reference harm")
    if not (math.isfinite(widen) and widen > 0):
        raise ValueError(f"widen must be a finite number > 0, got {widen!r}")
    if background not in BACKGROUNDS:
        raise ValueError(
            f"background must be one of {', '.join(map(repr, BACKGROUNDS))}, got {background!r}"
        )
    model = None
    if background == "distance" and n_markets:
        model = distance_background(cells)
    elif background in ("place", "local") and n_markets:
        model = place_background(cells)
    harm = np.asarray(cells.harm, dtype=np.float64)
    rng = np.random.default_rng(seed)
    inside = np.flatnonzero(cells.market >= 0)
    observed: F = np.bincount(cells.market[inside], weights=harm[inside], minlength=n_markets)[
        :n_markets
    ].astype(np.float64)
    reference = (
        np.asarray(cells.reference, dtype=np.float64) if cells.reference is not None else None
    )
    expect = np.zeros(n_markets)
    boot = np.tile(observed[:, None], (1, replicates)).astype(np.float64)
    count = np.zeros(n_markets, dtype=np.int64)
    offsets = np.ones(n_markets)
    span = float(np.hypot(np.ptp(cells.ix), np.ptp(cells.iy))) if len(cells.ix) else 0.0
    # Each market's cells and the lattice by column, sorted once for every market.
    lookup = cell_lookup(cells, n_markets)
    for k in range(n_markets):
        own = lookup.own[k]
        if not len(own):
            continue
        reach = reach_cells
        values = placebo_areas(cells, k, reach_cells=reach, min_share=min_share, lookup=lookup)
        while len(values) < min_placebos and reach <= span:
            reach *= 1.25
            values = placebo_areas(cells, k, reach_cells=reach, min_share=min_share, lookup=lookup)
        if len(values) < min_placebos:
            raise ValueError(
                f"market {k}: only {len(values)} placebo areas in the study area "
                f"(at least {min_placebos} needed): the markets cover it"
            )
        count[k] = len(values)
        if model is not None:
            predicted = placebo_areas(
                AttributionCells(model, cells.ix, cells.iy, cells.market),
                k,
                reach_cells=reach,
                min_share=min_share,
                lookup=lookup,
            )
            expect[k] = float(model[own].sum())
            # The model's relative error on each placebo area of the same shape: draws of it
            # give the interval (areas the model predicts no harm for say nothing).
            ratio = values[predicted > 0] / predicted[predicted > 0]
            draws = expect[k] * ratio[rng.integers(0, len(ratio), size=replicates)]
            if background == "local" and len(ratio):
                # The city-wide model's error near this market, read off the places of its
                # shape around it: the median ratio, robust to one busy placebo area.
                expect[k] *= float(np.median(ratio))
            offsets[k] = expect[k] / float(values.mean()) if values.mean() > 0 else math.nan
            boot[k] = centred(observed[k] - expect[k], -widen * draws)
            continue
        factor = 1.0
        if beta != 0 and reference is not None:
            ref = placebo_areas(
                cells, k, reach_cells=reach, min_share=min_share, column="reference", lookup=lookup
            )
            own_ref = float(reference[own].sum())
            # A market place with no reference harm, or placebos with none, gives no
            # information on the place: the placebo mean stands.
            if ref.mean() > 0 and own_ref > 0:
                factor = (own_ref / float(ref.mean())) ** beta
        offsets[k] = factor
        expect[k] = float(values.mean()) * factor
        preds = values * factor
        draws = preds[rng.integers(0, len(preds), size=replicates)]
        boot[k] = centred(observed[k] - expect[k], -widen * draws)
    return Attributed(observed, expect, boot, count, offsets)


def centred(point: float, replicates: F) -> F:
    """Replicates moved so that their median is ``point``: ``point + (r - median(r))``.

    The replicates' spread is the interval's width; their centre is the estimate's. The
    placebo areas near a market need not average the model's prediction, and an interval
    built from uncentred draws can then miss its own point estimate: on 1/8 of the
    39-force extract (260 markets, 'place' background), an excess of 739,965 days came with
    a 95 % interval of 442,280 to 554,718 (``docs/markets.md``, fifth pass). Centring on the
    median (not the mean) makes every equal-tailed percentile interval hold the point,
    however skewed the replicates are (the median lies between any two percentiles that
    straddle 50).

    Parameters
    ----------
    point : float
        The estimate (scheme unit).
    replicates : ndarray
        Bootstrap replicates of it, or of its deviations (any centre).

    Returns
    -------
    ndarray
        ``point + replicates - median(replicates)``.
    """
    r = np.asarray(replicates, dtype=np.float64)
    if len(r) == 0:
        return r
    return np.asarray(point + (r - float(np.median(r))), dtype=np.float64)


def percentile_interval(boot: F, level: float) -> tuple[float, float]:
    """Equal-tailed percentile interval of replicates."""
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(boot, [tail, 100.0 - tail])
    return float(lo), float(hi)


def grid_index(values: Sequence[float] | F, cell_size: float) -> Ints:
    """Integer grid index of lower-left corners (metres)."""
    return np.rint(np.asarray(values, dtype=np.float64) / cell_size).astype(np.int64)


def frame_cells(cells: pd.DataFrame, cell_size: float) -> tuple[Ints, Ints]:
    """Grid indices of a frame's ``cell_x``/``cell_y``."""
    return grid_index(cells["cell_x"].to_numpy(), cell_size), grid_index(
        cells["cell_y"].to_numpy(), cell_size
    )


def market_cells(
    ix: Ints, iy: Ints, found: Sequence[Located], cell_size: float, radius: float | None
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
    # Only the band of columns within ``radius`` (plus a cell, against rounding) can hold a
    # market's disc: distances are taken there alone, cell for cell as over the whole lattice.
    columns = ColumnIndex(cx)
    for k, m in enumerate(found):
        band = columns.band(m.centroid_x - radius - cell_size, m.centroid_x + radius + cell_size)
        d = np.hypot(cx[band] - m.centroid_x, cy[band] - m.centroid_y)
        take = (d <= radius) & (d < best[band])
        out[band[take]] = k
        best[band[take]] = d[take]
    return out
