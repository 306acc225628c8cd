"""Forecast checks: does a ranking of places made today pick out where harm happens next?

Rolling-origin evaluation on monthly data (DESIGN §6 "Forecast checks", issue 4 item 6). For
every origin month :math:`t` after a warm-up of :math:`k` months, each ranking scores every
study-area cell using only months up to and including :math:`t`; the top cells covering 1, 2,
5 and 10 % of the study area are then scored against what happened in months
:math:`t+1 \\ldots t+h` (the horizon). Scores are aggregated over origins (mean, standard
deviation, minimum, maximum).

Rankings
--------
``last_harm``
    Harm in the origin month (the "last period" map).
``mean_harm``
    Mean monthly harm over the ``window`` months ending at the origin.
``ewma_harm``
    Exponentially weighted mean of monthly harm up to the origin, half-life ``half_life``
    months (weight :math:`0.5^{(t-i)/H}` for month :math:`i \\le t`).
``gi_star``
    Gi* z (:func:`~harmscope.places.gi_star.gi_star`, binary band ``distance``, self included)
    of harm summed over the ``window`` months.
``kde``
    Kernel-smoothed harm: each located harm event's weight is spread by an isotropic Gaussian of
    standard deviation ``bandwidth`` metres, and a cell gets the share of it that falls inside
    the cell (:func:`kde_cell_harm`); summed over the ``window`` months.
``count``
    The "busyness" baseline: number of recorded located events of every kind (harm *and*
    activity: drug offences, weapons possession, stop-and-search) over the ``window`` months,
    what a plain count hot-spot map shows.

Measures (per ranking, area share :math:`p`, target)
-----------------------------------------------------
With :math:`A` study-area cells, :math:`a = \\max(1, \\lfloor pA + 1/2 \\rfloor)` selected cells,
:math:`N` the target total over all cells in the horizon and :math:`n` the part of it in the
selected cells:

- hit rate :math:`= n / N`;
- PAI :math:`= (n / N) / (a / A)` (Chainey, Tompson & Uhlig 2008);
- PEI* :math:`= \\mathrm{PAI} / \\mathrm{PAI}^*_a = n / n^*_a`, where :math:`n^*_a` is the largest
  total any :math:`a` cells hold in the horizon (the sum of the :math:`a` largest cell values),
  i.e. the PAI of the perfect-hindsight map of the *same* area. Between 0 and 1.

Two targets sit side by side: ``harm`` (the scheme's harm, e.g. CCHI days) and ``events`` (the
number of the same harm events, unweighted). Where :math:`N = 0` (no event in the horizon) the
three measures are undefined (NaN) and that origin is left out of the aggregates.

Ties. When cells tie at the selection boundary, the measure is its expectation under a uniformly
random choice among the tied cells: cells scored above the boundary count in full and the tied
group counts in proportion to the places left (:func:`captured`). A ranking that is constant
(e.g. last month's harm after a month with no harm) therefore scores hit rate :math:`a/A` and
PAI 1 — exactly what a random map achieves — instead of an artefact of input order.

Study area. By default the dataset's one study area
(:func:`harmscope.places.study_area.dataset_area`: the force's own LSOAs as cells, stray
records left out), the same cells as ``hotspots`` and ``concentration``; or an explicit
``mask``; or, with a numeric ``within``, the older lattice of cells with at least
``min_events`` located events widened by ``within`` metres. Events in other cells are not
scored. PAI grows with the study area (adding empty cells lowers :math:`a/A` for the same
hits), so PAI over a force's whole land area is higher than over its occupied cells; compare
PAI only between runs on the same area.

References
----------
.. [1] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for predicting
   spatial patterns of crime. *Security Journal*, 21(1–2), 4–28.
.. [2] Hunt, J. M. (2016). *Do crime hot spots move? Exploring the effects of the modifiable
   areal unit problem and modifiable temporal unit problem on crime hot spot stability*. PhD
   dissertation, American University. (Introduces PEI = PAI / PAI*.)
.. [3] National Institute of Justice (2017). *Real-Time Crime Forecasting Challenge*: judging
   criteria, PAI and PEI* (PAI relative to the maximum PAI for the forecast's area).
.. [4] White, V. M., Hunt, J. & Green, B. (2023). A discussion of current crime forecasting
   indices and an improvement to the prediction efficiency index for applications. *Security
   Journal* (PEI*, NCJ 306617).
.. [5] Wheeler, A. P. & Steenbeek, W. (2021). Mapping the risk terrain for crime using machine
   learning. *Journal of Quantitative Criminology*, 37, 445–480 (PAI, PEI, rolling evaluation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, special
from scipy.spatial import cKDTree

from harmscope.errors import WarehouseError
from harmscope.harm import load_scheme, parse_month, select_events, weigh
from harmscope.harm.weigh import SchemeLike
from harmscope.places.gi_star import gi_star
from harmscope.places.grid import DEFAULT_CELL_SIZE, study_area_cells
from harmscope.places.hotspots import _events_table, _grouped_cell_totals
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area

__all__ = [
    "DEFAULT_SHARES",
    "RANKINGS",
    "SUMMARY_COLUMNS",
    "TARGETS",
    "ForecastCheck",
    "ForecastMeasures",
    "captured",
    "cells_for_shares",
    "forecast_measures",
    "kde_cell_harm",
    "monthly_cell_totals",
    "monthly_harm_points",
    "ranking_scores",
    "rolling_forecast_check",
    "validate_forecast",
]

Progress = Callable[[str, int, int], None]
Months = tuple[str | date | None, str | date | None]

DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)
"""Area shares at which rankings are scored: 1, 2, 5 and 10 % of the study area."""

RANKINGS: tuple[str, ...] = ("last_harm", "mean_harm", "ewma_harm", "gi_star", "kde", "count")
"""Rankings compared by :func:`validate_forecast` (see the module docstring)."""

TARGETS: tuple[str, ...] = ("harm", "events")
"""What the next months are scored on: harm (scheme weights) and the number of harm events."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "ranking",
    "target",
    "area_share",
    "cells",
    "origins",
    "hit_rate_mean",
    "hit_rate_sd",
    "hit_rate_min",
    "hit_rate_max",
    "pai_mean",
    "pai_sd",
    "pai_min",
    "pai_max",
    "pei_star_mean",
    "pei_star_sd",
    "pei_star_min",
    "pei_star_max",
)
"""Columns of :attr:`ForecastCheck.summary`."""


# --------------------------------------------------------------------------------------------
# Measures
# --------------------------------------------------------------------------------------------


def cells_for_shares(n_cells: int, shares: Sequence[float] = DEFAULT_SHARES) -> NDArray[np.int64]:
    """Number of cells selected at each area share: ``max(1, floor(share * n + 1/2))``.

    Parameters
    ----------
    n_cells : int
        Cells in the study area.
    shares : sequence of float
        Area shares in (0, 1].

    Examples
    --------
    >>> cells_for_shares(202).tolist()
    [2, 4, 10, 20]
    """
    if n_cells < 1:
        raise ValueError(f"the study area needs at least one cell, got {n_cells}")
    s = np.asarray(shares, dtype=np.float64).ravel()
    if s.size == 0 or not np.all((s > 0) & (s <= 1)):
        raise ValueError(f"area shares must be in (0, 1], got {list(s)}")
    return np.maximum(1, np.floor(s * n_cells + 0.5)).astype(np.int64)


def _scores_outcome(
    scores: ArrayLike, outcome: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    if s.ndim == 0 or y.ndim == 0:
        raise ValueError("scores and outcome need one value per cell")
    try:
        s, y = np.broadcast_arrays(s, y)
    except ValueError:
        raise ValueError(
            f"scores {s.shape} and outcome {y.shape} do not align (one value per cell)"
        ) from None
    if s.shape[-1] == 0:
        raise ValueError("no cells to rank")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(y))):
        raise ValueError("scores and outcome must be finite (no NaN or infinity)")
    if np.any(y < 0):
        raise ValueError("outcome must be >= 0 (harm or event counts per cell)")
    return s, y


def captured(scores: ArrayLike, outcome: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Outcome held by the ``k`` highest-scoring cells, ties split evenly.

    Cells scored strictly above the ``k``-th highest score count in full; the cells tied with
    it share the places left, each counting ``places / tied`` of its outcome. This is the
    expected capture when ties are broken uniformly at random, so the result never depends on
    the order of the input.

    Parameters
    ----------
    scores : array_like, shape (..., n)
        Ranking score of each cell (higher = selected first), finite.
    outcome : array_like, shape (..., n)
        What happened in each cell (harm or events), >= 0. Broadcast against ``scores``.
    k : int or array_like of int
        Number of cells selected, each in ``0 … n``.

    Returns
    -------
    numpy.ndarray of float64, shape (..., len(k))
        Captured outcome for every ``k`` (a trailing axis even for a scalar ``k``).

    Examples
    --------
    Scores (3, 1, 1, 0), outcome (5, 2, 4, 9): the top cell holds 5; the second place is shared
    by two tied cells, so two cells capture 5 + (2 + 4) / 2 = 8.

    >>> captured([3, 1, 1, 0], [5, 2, 4, 9], [1, 2, 3]).tolist()
    [5.0, 8.0, 11.0]
    """
    s, y = _scores_outcome(scores, outcome)
    n = s.shape[-1]
    ks = np.atleast_1d(np.asarray(k)).astype(np.int64).ravel()
    if np.any((ks < 0) | (ks > n)):
        raise ValueError(f"k must be between 0 and the number of cells ({n}), got {ks.tolist()}")
    order = np.argsort(-s, axis=-1, kind="stable")
    ss = np.take_along_axis(s, order, axis=-1)
    ys = np.take_along_axis(y, order, axis=-1)
    zero = np.zeros((*ss.shape[:-1], 1))
    cum = np.concatenate([zero, np.cumsum(ys, axis=-1)], axis=-1)
    pos = np.arange(n)
    first = np.ones(ss.shape, dtype=bool)
    first[..., 1:] = ss[..., 1:] != ss[..., :-1]
    start = np.maximum.accumulate(np.where(first, pos, 0), axis=-1)
    last = np.ones(ss.shape, dtype=bool)
    last[..., :-1] = first[..., 1:]
    end = np.minimum.accumulate(np.where(last, pos, n)[..., ::-1], axis=-1)[..., ::-1] + 1
    at = np.broadcast_to(np.maximum(ks - 1, 0), (*ss.shape[:-1], ks.size))
    g0 = np.take_along_axis(start, at, axis=-1)
    g1 = np.take_along_axis(end, at, axis=-1)
    c0 = np.take_along_axis(cum, g0, axis=-1)
    c1 = np.take_along_axis(cum, g1, axis=-1)
    out = c0 + (ks - g0) / (g1 - g0) * (c1 - c0)
    return np.where(ks > 0, out, 0.0)


@dataclass(frozen=True)
class ForecastMeasures:
    """Hit rate, PAI and PEI* of rankings against outcomes, per selected area.

    All arrays have shape ``(..., len(shares))``; the leading axes are those of the scores
    (e.g. origins). NaN where the outcome total is zero.

    Attributes
    ----------
    cells : numpy.ndarray of int64, shape (len(shares),)
        Cells selected, :math:`a`.
    area_share : numpy.ndarray of float64, shape (len(shares),)
        Share of the study area actually selected, :math:`a / A`.
    captured : numpy.ndarray of float64
        Outcome in the selected cells, :math:`n` (ties split evenly).
    best : numpy.ndarray of float64
        Largest outcome any :math:`a` cells hold, :math:`n^*_a`.
    total : numpy.ndarray of float64, shape (...)
        Outcome over the study area, :math:`N`.
    hit_rate, pai, pei_star : numpy.ndarray of float64
        :math:`n/N`, :math:`(n/N)/(a/A)` and :math:`n/n^*_a`.
    """

    cells: NDArray[np.int64]
    area_share: NDArray[np.float64]
    captured: NDArray[np.float64]
    best: NDArray[np.float64]
    total: NDArray[np.float64]
    hit_rate: NDArray[np.float64]
    pai: NDArray[np.float64]
    pei_star: NDArray[np.float64]


def forecast_measures(
    scores: ArrayLike, outcome: ArrayLike, shares: Sequence[float] = DEFAULT_SHARES
) -> ForecastMeasures:
    """Hit rate, PAI (Chainey et al. 2008) and PEI* of a ranking at several area shares.

    Parameters
    ----------
    scores : array_like, shape (..., n)
        Ranking score of every study-area cell (higher first), made *before* the outcome.
    outcome : array_like, shape (..., n)
        Harm or event count of every cell in the scored period(s), >= 0.
    shares : sequence of float, default (0.01, 0.02, 0.05, 0.10)
        Area shares; each selects :func:`cells_for_shares` cells.

    Returns
    -------
    ForecastMeasures

    Notes
    -----
    hit rate :math:`= n/N`; PAI :math:`= (n/N)/(a/A)`; PEI* :math:`= \\mathrm{PAI} /
    \\mathrm{PAI}^*_a = n / n^*_a` with :math:`n^*_a` the sum of the :math:`a` largest cell
    outcomes (the perfect-hindsight map of the same area). Ties at the selection boundary are
    split evenly (:func:`captured`). When :math:`N = 0` all three are NaN.

    Examples
    --------
    Four cells, one selected (25 % of the area); the ranking picks the cell holding 2 of 8
    events while the best cell holds 5:

    >>> m = forecast_measures([9, 1, 0, 0], [2, 5, 1, 0], shares=[0.25])
    >>> m.hit_rate.tolist(), m.pai.tolist(), m.pei_star.tolist()
    ([0.25], [1.0], [0.4])
    """
    s, y = _scores_outcome(scores, outcome)
    n = s.shape[-1]
    cells = cells_for_shares(n, shares)
    got = captured(s, y, cells)
    top = -np.sort(-y, axis=-1)
    cum = np.cumsum(top, axis=-1)
    best = cum[..., cells - 1]
    total = y.sum(axis=-1)
    area = cells / n
    with np.errstate(invalid="ignore", divide="ignore"):
        hit = np.where(total[..., None] > 0, got / total[..., None], np.nan)
        pei = np.where(best > 0, got / best, np.nan)
    return ForecastMeasures(
        cells=cells,
        area_share=area.astype(np.float64),
        captured=got,
        best=best,
        total=total,
        hit_rate=hit,
        pai=hit / area,
        pei_star=np.minimum(pei, 1.0),
    )


# --------------------------------------------------------------------------------------------
# Kernel density on cells
# --------------------------------------------------------------------------------------------


def _interval_mass(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    """P(lo < Z < hi) for a standard normal Z, without cancellation in the upper tail."""
    upper = lo > 0
    return np.where(
        upper,
        special.ndtr(-np.where(upper, lo, 0.0)) - special.ndtr(-np.where(upper, hi, 0.0)),
        special.ndtr(hi) - special.ndtr(lo),
    )


def kde_cell_harm(
    cell_x: ArrayLike,
    cell_y: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    weights: ArrayLike,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    bandwidth: float = DEFAULT_CELL_SIZE,
    truncate: float = 4.0,
) -> NDArray[np.float64]:
    """Kernel-smoothed harm in each cell: Gaussian KDE of weighted points, integrated per cell.

    Each point :math:`j` at :math:`(x_j, y_j)` with weight :math:`w_j` is spread as an isotropic
    Gaussian of standard deviation :math:`h` (``bandwidth``); a square cell
    :math:`[c_x, c_x + s) \\times [c_y, c_y + s)` receives the part of it that falls inside:

    .. math::

        K_i = \\sum_j w_j
              \\left[\\Phi\\!\\left(\\tfrac{c_x + s - x_j}{h}\\right)
                    - \\Phi\\!\\left(\\tfrac{c_x - x_j}{h}\\right)\\right]
              \\left[\\Phi\\!\\left(\\tfrac{c_y + s - y_j}{h}\\right)
                    - \\Phi\\!\\left(\\tfrac{c_y - y_j}{h}\\right)\\right],

    the integral over the cell of the kernel density estimate
    :math:`\\hat f(u) = \\sum_j w_j \\, \\phi_h(u - p_j)`. Over cells covering every point's
    neighbourhood, :math:`\\sum_i K_i = \\sum_j w_j` (harm is conserved), so values read as
    "smoothed harm per cell" in the scheme's unit.

    Parameters
    ----------
    cell_x, cell_y : array_like, shape (n,)
        Lower-left corners of the cells, metres.
    x, y : array_like, shape (m,)
        Point coordinates, metres (EPSG:27700).
    weights : array_like, shape (m,) or (periods, m)
        Weight of each point (e.g. harm days), one row per period if 2-D.
    cell_size : float, default 250
        Cell side :math:`s`, metres.
    bandwidth : float, default 250
        Kernel standard deviation :math:`h`, metres.
    truncate : float, default 4.0
        Points more than ``truncate * bandwidth`` from a cell along either axis contribute
        nothing to it (the neglected mass is at most :math:`\\Phi(-4) \\approx 3 \\times 10^{-5}`
        of the point's weight per axis), as in ``scipy.ndimage.gaussian_filter``.

    Returns
    -------
    numpy.ndarray of float64, shape (n,) or (periods, n)

    Notes
    -----
    Cell–point pairs within reach come from one ``cKDTree.sparse_distance_matrix`` query
    (Chebyshev distance between cell centre and point at most ``truncate * h + s / 2``); the
    kernel masses form a sparse matrix that is applied to all periods in one product. Exact
    point positions are used (no binning), and there is no loop over cells or points.

    Examples
    --------
    One point in the middle of a 100 m cell, bandwidth 50 m: the cell holds
    :math:`(2\\Phi(1) - 1)^2` of the weight.

    >>> round(float(kde_cell_harm([0], [0], [50], [50], [10.0], cell_size=100, bandwidth=50)[0]), 6)
    4.660649
    """
    if not (math.isfinite(cell_size) and cell_size > 0):
        raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive number of metres, got {bandwidth!r}")
    if not (math.isfinite(truncate) and truncate > 0):
        raise ValueError(f"truncate must be positive, got {truncate!r}")
    cx = np.asarray(cell_x, dtype=np.float64).ravel()
    cy = np.asarray(cell_y, dtype=np.float64).ravel()
    px = np.asarray(x, dtype=np.float64).ravel()
    py = np.asarray(y, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64)
    if cx.shape != cy.shape or px.shape != py.shape:
        raise ValueError("x and y arrays must have equal lengths")
    if w.ndim not in (1, 2) or w.shape[-1] != px.size:
        raise ValueError(f"weights must have shape (m,) or (periods, m) with m={px.size}")
    if not (
        np.all(np.isfinite(cx))
        and np.all(np.isfinite(cy))
        and np.all(np.isfinite(px))
        and np.all(np.isfinite(py))
        and np.all(np.isfinite(w))
    ):
        raise ValueError("cells, points and weights must be finite")
    out_shape = (*w.shape[:-1], cx.size)
    if cx.size == 0 or px.size == 0:
        return np.zeros(out_shape)
    half = cell_size / 2.0
    centres = np.column_stack([cx + half, cy + half])
    reach = truncate * bandwidth + half
    pairs = cKDTree(centres).sparse_distance_matrix(
        cKDTree(np.column_stack([px, py])), reach, p=np.inf, output_type="ndarray"
    )
    i = pairs["i"].astype(np.int64)
    j = pairs["j"].astype(np.int64)
    fx = _interval_mass((cx[i] - px[j]) / bandwidth, (cx[i] + cell_size - px[j]) / bandwidth)
    fy = _interval_mass((cy[i] - py[j]) / bandwidth, (cy[i] + cell_size - py[j]) / bandwidth)
    kernel = sparse.csr_matrix((fx * fy, (i, j)), shape=(cx.size, px.size))
    if w.ndim == 1:
        return np.asarray(kernel @ w, dtype=np.float64)
    return np.asarray((kernel @ w.T).T, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Rankings
# --------------------------------------------------------------------------------------------


def _window_matrix(origins: NDArray[np.int64], periods: int, window: int) -> NDArray[np.float64]:
    """Rows select the ``window`` periods ending at each origin (fewer at the start)."""
    t = np.arange(periods)
    o = origins[:, None]
    return ((t <= o) & (t > o - window)).astype(np.float64)


def _ewma_matrix(origins: NDArray[np.int64], periods: int, half_life: float) -> NDArray[np.float64]:
    t = np.arange(periods)
    age = origins[:, None] - t
    w = np.where(age >= 0, 0.5 ** (np.maximum(age, 0) / half_life), 0.0)
    return w / w.sum(axis=1, keepdims=True)


def ranking_scores(
    harm: ArrayLike,
    events: ArrayLike,
    xy: ArrayLike,
    origins: ArrayLike,
    *,
    window: int = 12,
    half_life: float = 3.0,
    distance: float | None = None,
    kde: ArrayLike | None = None,
    rankings: Sequence[str] = RANKINGS,
) -> dict[str, NDArray[np.float64]]:
    """Score every cell at every origin with each ranking, using only data up to the origin.

    Parameters
    ----------
    harm : array_like, shape (periods, n)
        Harm per period (month) and study-area cell, time order along axis 0.
    events : array_like, shape (periods, n)
        All recorded located events per period and cell (harm and activity kinds), for the
        ``count`` ranking.
    xy : array_like, shape (n, 2)
        Cell coordinates (lower-left corners), metres, for ``gi_star``.
    origins : array_like of int
        Period indices of the origins.
    window : int, default 12
        Periods of history used by ``mean_harm``, ``gi_star``, ``kde`` and ``count`` (fewer
        when an origin has less history).
    half_life : float, default 3
        Half-life of ``ewma_harm``, periods.
    distance : float, optional
        Gi* band, metres (inclusive). Default 1.5 times the lattice step of ``xy``: the cell and
        its eight neighbours.
    kde : array_like, shape (periods, n), optional
        Kernel-smoothed harm per period and cell (:func:`kde_cell_harm`); needed for ``kde``.
    rankings : sequence of str
        Names from :data:`RANKINGS`.

    Returns
    -------
    dict of str to numpy.ndarray, shape (len(origins), n)
        One score array per ranking, higher = ranked first.
    """
    h = np.asarray(harm, dtype=np.float64)
    e = np.asarray(events, dtype=np.float64)
    if h.ndim != 2 or e.shape != h.shape:
        raise ValueError(
            f"harm and events must both have shape (periods, n), got {h.shape}, {e.shape}"
        )
    o = np.asarray(origins, dtype=np.int64).ravel()
    if o.size == 0 or o.min() < 0 or o.max() >= h.shape[0]:
        raise ValueError(f"origins must be period indices in 0..{h.shape[0] - 1}")
    if window < 1:
        raise ValueError(f"window must be at least 1 period, got {window}")
    if not (half_life > 0 and math.isfinite(half_life)):
        raise ValueError(f"half_life must be positive, got {half_life}")
    unknown = [r for r in rankings if r not in RANKINGS]
    if unknown:
        raise ValueError(f"unknown ranking(s) {unknown}; choose from {list(RANKINGS)}")
    periods = h.shape[0]
    win = _window_matrix(o, periods, window)
    span = win.sum(axis=1, keepdims=True)
    out: dict[str, NDArray[np.float64]] = {}
    for name in rankings:
        if name == "last_harm":
            out[name] = h[o]
        elif name == "mean_harm":
            out[name] = (win @ h) / span
        elif name == "ewma_harm":
            out[name] = _ewma_matrix(o, periods, half_life) @ h
        elif name == "gi_star":
            pts = np.asarray(xy, dtype=np.float64)
            if distance is None:
                steps = np.diff(np.unique(pts[:, 0]))
                step = float(steps.min()) if steps.size else 1.0
                distance = 1.5 * step
            out[name] = gi_star(win @ h, pts, distance)
        elif name == "kde":
            if kde is None:
                raise ValueError("the kde ranking needs kernel-smoothed harm per period (kde=)")
            k = np.asarray(kde, dtype=np.float64)
            if k.shape != h.shape:
                raise ValueError(f"kde must have the shape of harm {h.shape}, got {k.shape}")
            out[name] = win @ k
        else:  # count
            out[name] = win @ e
    return out


# --------------------------------------------------------------------------------------------
# Rolling-origin evaluation on arrays
# --------------------------------------------------------------------------------------------


def _summarise(scores: pd.DataFrame) -> pd.DataFrame:
    keys = ["ranking", "target", "area_share", "cells"]
    grouped = scores.groupby(keys, sort=False)
    parts = {"origins": grouped["hit_rate"].count()}
    for measure in ("hit_rate", "pai", "pei_star"):
        col = grouped[measure]
        parts[f"{measure}_mean"] = col.mean()
        parts[f"{measure}_sd"] = col.std(ddof=1)
        parts[f"{measure}_min"] = col.min()
        parts[f"{measure}_max"] = col.max()
    summary = pd.DataFrame(parts).reset_index()
    summary["origins"] = summary["origins"].astype(np.int64)
    return summary[list(SUMMARY_COLUMNS)]


def rolling_forecast_check(
    scores: Mapping[str, ArrayLike],
    outcomes: Mapping[str, ArrayLike],
    *,
    shares: Sequence[float] = DEFAULT_SHARES,
    origin_labels: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score rankings against outcomes at every origin, and aggregate over origins.

    Parameters
    ----------
    scores : mapping of str to array_like, shape (origins, n)
        Ranking scores per origin (e.g. from :func:`ranking_scores`).
    outcomes : mapping of str to array_like, shape (origins, n)
        Target per origin: what each cell held in the horizon after the origin.
    shares : sequence of float
        Area shares.
    origin_labels : sequence of str, optional
        Label of each origin (e.g. ``'2019-11'``); default ``0, 1, …``.

    Returns
    -------
    per_origin : pandas.DataFrame
        ``origin, ranking, target, area_share, cells, captured, best, total, hit_rate, pai,
        pei_star``, one row per origin, ranking, target and share.
    summary : pandas.DataFrame
        :data:`SUMMARY_COLUMNS`: mean, sample standard deviation, minimum and maximum of each
        measure over the origins where it is defined (``origins`` counts them).
    """
    rows: list[pd.DataFrame] = []
    for target, outcome in outcomes.items():
        y = np.asarray(outcome, dtype=np.float64)
        labels = list(origin_labels) if origin_labels is not None else list(range(y.shape[0]))
        if len(labels) != y.shape[0]:
            raise ValueError(f"{len(labels)} origin labels for {y.shape[0]} origins")
        for ranking, score in scores.items():
            m = forecast_measures(score, y, shares)
            n_origins, n_shares = m.hit_rate.shape
            rows.append(
                pd.DataFrame(
                    {
                        "origin": np.repeat(np.asarray(labels, dtype=object), n_shares),
                        "ranking": ranking,
                        "target": target,
                        "area_share": np.tile(np.asarray(shares, dtype=np.float64), n_origins),
                        "cells": np.tile(m.cells, n_origins),
                        "captured": m.captured.ravel(),
                        "best": m.best.ravel(),
                        "total": np.repeat(m.total, n_shares),
                        "hit_rate": m.hit_rate.ravel(),
                        "pai": m.pai.ravel(),
                        "pei_star": m.pei_star.ravel(),
                    }
                )
            )
    per_origin = pd.concat(rows, ignore_index=True)
    return per_origin, _summarise(per_origin)


# --------------------------------------------------------------------------------------------
# Warehouse
# --------------------------------------------------------------------------------------------


def monthly_cell_totals(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
) -> ir.Table:
    """Harm, activity and event counts per month and grid cell (Ibis expression, any engine).

    Like :func:`~harmscope.places.hotspots.cell_totals` with ``month`` added to the grouping.

    Returns
    -------
    ibis.Table
        ``month``, ``cell_x``, ``cell_y``, ``harm``, ``activity`` (sums of weights),
        ``harm_events``, ``activity_events`` (counts). Unlocated events are left out.
    """
    return _grouped_cell_totals(
        events,
        scheme=scheme,
        cell_size=cell_size,
        months=months,
        by=["month", "cell_x", "cell_y"],
    )


def monthly_harm_points(
    events: ir.Table, *, scheme: SchemeLike = "cchi", months: Months | None = None
) -> ir.Table:
    """Harm per month at each distinct event location (Ibis), the input of the KDE ranking.

    police.uk snaps every record to one of a fixed set of anonymous map points, so this table is
    far smaller than the events.

    Returns
    -------
    ibis.Table
        ``month``, ``x``, ``y`` (metres) and ``harm`` (sum of harm weights there that month).
    """
    w = weigh(select_events(events, months=months), scheme)
    w = w.filter(w.x.notnull() & w.y.notnull() & (w.kind == "harm"))
    return w.group_by(["month", "x", "y"]).aggregate(harm=w.weight.sum())


def _month_index(values: pd.Series, first: pd.Period) -> NDArray[np.int64]:
    periods = pd.PeriodIndex(pd.to_datetime(values), freq="M")
    return np.asarray(periods.asi8 - first.ordinal, dtype=np.int64)


@dataclass(frozen=True)
class ForecastCheck:
    """Result of :func:`validate_forecast`.

    Attributes
    ----------
    summary : pandas.DataFrame
        :data:`SUMMARY_COLUMNS`, one row per ranking, target and area share.
    per_origin : pandas.DataFrame
        Every origin's scores (see :func:`rolling_forecast_check`).
    meta : dict
        ``scheme``, ``unit``, ``cell_size``, ``cells`` (study-area cells), ``months``
        (first and last month used), ``origins`` (origin months, ``'YYYY-MM'``), ``warmup``,
        ``horizon``, ``window``, ``half_life``, ``bandwidth``, ``distance``, ``within``,
        ``min_events``, ``study_area`` (the area and the strays left out, or None for explicit
        cells), ``shares``, ``empty_months`` (months without any located event).
    """

    summary: pd.DataFrame
    per_origin: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``meta`` keys plus ``rows`` (the summary; NaN as None)."""
        rows = self.summary.astype(object).where(self.summary.notna(), None)
        return {**self.meta, "rows": rows.to_dict(orient="records")}


def validate_forecast(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    warmup: int = 12,
    horizon: int = 1,
    window: int = 12,
    half_life: float = 3.0,
    bandwidth: float | None = None,
    distance: float | None = None,
    shares: Sequence[float] = DEFAULT_SHARES,
    within: Within = AREA,
    min_events: int = 1,
    mask: tuple[Any, Any] | AreaCells | None = None,
    rankings: Sequence[str] = RANKINGS,
    progress: Progress | None = None,
) -> ForecastCheck:
    """Rolling-origin forecast check of place rankings on the warehouse's monthly data.

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        The warehouse ``events`` table, a backend holding it, or a warehouse file path.
    scheme : Scheme, str or path-like, default 'cchi'
        Weight scheme for harm (the ``events`` target counts the same harm events unweighted).
    cell_size : float, default 250
        Cell side, metres.
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'``); default every month in the warehouse. Months in
        the range with no located event count as months with nothing recorded.
    warmup : int, default 12
        Months of data before the first origin is scored: the first origin is month
        ``warmup`` (1-based), so every ranking has ``warmup`` months of history.
    horizon : int, default 1
        Months after each origin that are scored (summed). The last origin is the month
        ``horizon`` months before the end.
    window : int, default 12
        Months of history used by ``mean_harm``, ``gi_star``, ``kde`` and ``count``.
    half_life : float, default 3
        Half-life of ``ewma_harm``, months.
    bandwidth : float, optional
        KDE kernel standard deviation, metres; default ``cell_size``.
    distance : float, optional
        Gi* band, metres; default ``1.5 * cell_size``.
    shares : sequence of float, default (0.01, 0.02, 0.05, 0.10)
        Area shares at which rankings are scored.
    within : 'area', float or None, default 'area'
        Study area. ``'area'``: the dataset's one study area
        (:func:`harmscope.places.study_area.dataset_area`, the same cells as ``hotspots`` and
        ``concentration``). A number: cells within this many metres of a cell with
        ``min_events`` located events in the months (0: those cells only); None: their full
        bounding box.
    min_events : int, default 1
        With a numeric ``within``: located events (any kind, all months) a cell needs to seed
        the study area.
    mask : (cell_x, cell_y) or AreaCells, optional
        Explicit study-area cells; overrides ``within``. Events in other cells are not scored
        (the KDE still spreads harm from just outside into the area).
    rankings : sequence of str, default :data:`RANKINGS`
        Rankings to compare.
    progress : callable, optional
        ``progress(stage, done, total)`` with stages ``'aggregate'``, ``'rank'``, ``'score'``.

    Returns
    -------
    ForecastCheck

    Raises
    ------
    WarehouseError
        If no located event matches, or there are fewer than ``warmup + horizon`` months.
    ValueError
        On impossible parameters (non-positive warm-up, horizon or window, bad shares).
    """
    if min_events < 1:
        raise ValueError(f"min_events must be at least 1, got {min_events}")
    if warmup < 1 or horizon < 1 or window < 1:
        raise ValueError(
            f"warmup, horizon and window must be at least 1 month, got {warmup}, {horizon}, {window}"
        )
    if bandwidth is None:
        bandwidth = float(cell_size)
    if distance is None:
        distance = 1.5 * cell_size
    cells_for_shares(1, shares)  # validates the shares before any query runs
    scheme_obj = load_scheme(scheme)
    events, owned = _events_table(source)
    try:
        if progress:
            progress("aggregate", 0, 2)
        totals = monthly_cell_totals(
            events, scheme=scheme_obj, cell_size=cell_size, months=months
        ).to_pandas()
        if progress:
            progress("aggregate", 1, 2)
        points = (
            monthly_harm_points(events, scheme=scheme_obj, months=months).to_pandas()
            if "kde" in rankings
            else pd.DataFrame({"month": [], "x": [], "y": [], "harm": []})
        )
        given_within = within
        mask, within, area_info = resolve_area(
            events, mask=mask, within=within, cell_size=cell_size
        )
        if progress:
            progress("aggregate", 2, 2)
    finally:
        if owned is not None:
            owned.disconnect()
    if totals.empty:
        span = "" if months is None else f" in {months[0] or '...'} to {months[1] or '...'}"
        raise WarehouseError(f"no located events{span}: nothing to check")

    data_months = pd.PeriodIndex(pd.to_datetime(totals["month"]), freq="M")
    first = (
        pd.Period(parse_month(months[0]), freq="M") if months and months[0] else data_months.min()
    )
    last = (
        pd.Period(parse_month(months[1]), freq="M") if months and months[1] else data_months.max()
    )
    month_labels = [str(p) for p in pd.period_range(first, last, freq="M")]
    periods = len(month_labels)
    if periods < warmup + horizon:
        raise WarehouseError(
            f"{periods} month(s) from {first} to {last}: a warm-up of {warmup} and a horizon of "
            f"{horizon} need at least {warmup + horizon}"
        )

    cx = totals["cell_x"].to_numpy(dtype=np.float64)
    cy = totals["cell_y"].to_numpy(dtype=np.float64)
    if mask is None:
        per_cell = (
            totals.assign(_n=totals["harm_events"] + totals["activity_events"])
            .groupby(["cell_x", "cell_y"])["_n"]
            .sum()
        )
        busy = per_cell[per_cell >= min_events].index
        if busy.empty:
            raise WarehouseError(
                f"no cell has {min_events} or more located events: the study area would be empty"
            )
        sx = busy.get_level_values(0).to_numpy(dtype=np.float64)
        sy = busy.get_level_values(1).to_numpy(dtype=np.float64)
    else:
        sx, sy = cx, cy
    ax, ay = study_area_cells(sx, sy, cell_size=cell_size, within=within, mask=mask)
    n = ax.size
    pos = pd.MultiIndex.from_arrays([ax, ay]).get_indexer(pd.MultiIndex.from_arrays([cx, cy]))
    keep = pos >= 0
    flat = _month_index(totals["month"], first)[keep] * n + pos[keep]

    def _grid(column: str) -> NDArray[np.float64]:
        values = totals[column].to_numpy(dtype=np.float64)[keep]
        counts = np.bincount(flat, weights=values, minlength=periods * n)
        return np.asarray(counts, dtype=np.float64).reshape(periods, n)

    harm = _grid("harm")
    harm_events = _grid("harm_events")
    all_events = harm_events + _grid("activity_events")
    kde_monthly = None
    if "kde" in rankings:
        kde_monthly = np.zeros((periods, n))
        if not points.empty:
            locations = points.groupby(["x", "y"], sort=False).ngroup().to_numpy()
            where = points.groupby(["x", "y"], sort=False).size().index
            px = where.get_level_values(0).to_numpy(dtype=np.float64)
            py = where.get_level_values(1).to_numpy(dtype=np.float64)
            month_of = _month_index(points["month"], first)
            w = np.zeros((periods, px.size))
            np.add.at(w, (month_of, locations), points["harm"].to_numpy(dtype=np.float64))
            kde_monthly = kde_cell_harm(ax, ay, px, py, w, cell_size=cell_size, bandwidth=bandwidth)

    origins = np.arange(warmup - 1, periods - horizon, dtype=np.int64)
    if progress:
        progress("rank", 0, 1)
    scores = ranking_scores(
        harm,
        all_events,
        np.column_stack([ax, ay]),
        origins,
        window=window,
        half_life=half_life,
        distance=distance,
        kde=kde_monthly,
        rankings=rankings,
    )
    if progress:
        progress("rank", 1, 1)
        progress("score", 0, 1)
    ahead = _window_matrix(origins + horizon, periods, horizon)
    outcomes = {"harm": ahead @ harm, "events": ahead @ harm_events}
    per_origin, summary = rolling_forecast_check(
        scores, outcomes, shares=shares, origin_labels=[month_labels[t] for t in origins]
    )
    if progress:
        progress("score", 1, 1)
    month_has_data = np.zeros(periods, dtype=bool)
    month_has_data[np.unique(_month_index(totals["month"], first))] = True
    meta: dict[str, Any] = {
        "scheme": scheme_obj.name,
        "unit": scheme_obj.unit,
        "cell_size": cell_size,
        "cells": int(n),
        "months": [month_labels[0], month_labels[-1]],
        "origins": [month_labels[t] for t in origins],
        "warmup": warmup,
        "horizon": horizon,
        "window": window,
        "half_life": half_life,
        "bandwidth": float(bandwidth),
        "distance": float(distance),
        "within": given_within,
        "min_events": min_events if mask is None else None,
        "study_area": area_info,
        "shares": [float(s) for s in shares],
        "empty_months": [m for m, has in zip(month_labels, month_has_data, strict=True) if not has],
    }
    return ForecastCheck(summary=summary, per_origin=per_origin, meta=meta)
