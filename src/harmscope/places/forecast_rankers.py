"""Place rankings for the forecast checks: last, mean and EWMA harm, Gi*, kernel density, count,
and the forecast harm of :mod:`harmscope.places.forecast_counts`.

Every ranking scores every study-area cell at every origin from the months up to and
including it (:func:`ranking_scores`); :func:`kde_cell_harm` integrates a Gaussian kernel
density of weighted points over square cells. Definitions are in
:mod:`harmscope.places.forecast` and ``docs/forecast.md``; how rankings are scored is in
:mod:`harmscope.places.forecast_accuracy`.

References
----------
.. [1] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
   issues and an application. *Geographical Analysis*, 27(4), 286–306.
.. [2] Wheeler, A. P. & Steenbeek, W. (2021). Mapping the risk terrain for crime using machine
   learning. *Journal of Quantitative Criminology*, 37, 445–480.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse, special
from scipy.spatial import cKDTree

from harmscope.places.forecast_counts import shrunk_counts
from harmscope.places.gi_star import gi_star
from harmscope.places.grid import DEFAULT_CELL_SIZE

__all__ = ["RANKINGS", "kde_cell_harm", "ranking_scores", "window_matrix"]

RANKINGS: tuple[str, ...] = (
    "last_harm",
    "mean_harm",
    "ewma_harm",
    "gi_star",
    "kde",
    "count",
    "forecast_harm",
)
"""Rankings compared by :func:`harmscope.places.forecast.validate_forecast` (see the module docstring)."""
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


def window_matrix(origins: NDArray[np.int64], periods: int, window: int) -> NDArray[np.float64]:
    """A 0/1 matrix whose row ``r`` selects the ``window`` periods ending at ``origins[r]``
    (fewer at the start); ``matrix @ values`` sums each origin's window.

    Examples
    --------
    >>> window_matrix(np.array([1, 3]), 4, 2).tolist()
    [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """
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
    type_counts: Mapping[str, Any] | None = None,
    type_weights: Mapping[str, float] | None = None,
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
    type_counts : mapping of str to array_like or scipy sparse matrix, shape (periods, n)
        Count of each harm type per period and cell (every harm type, so that they add up to
        each cell's harm events); needed for ``forecast_harm``. Sparse matrices keep a force's
        whole area (about 10^5 cells) small.
    type_weights : mapping of str to float
        Harm of one event of each type in the scheme's unit (``forecast_harm``).

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
    win = window_matrix(o, periods, window)
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
        elif name == "forecast_harm":
            if type_counts is None or type_weights is None:
                raise ValueError(
                    "the forecast_harm ranking needs counts per harm type (type_counts=) and "
                    "their harm per event (type_weights=)"
                )
            out[name] = _forecast_harm(type_counts, type_weights, o, periods)
        else:  # count
            out[name] = win @ e
    return out


def _forecast_harm(
    type_counts: Mapping[str, Any],
    type_weights: Mapping[str, float],
    origins: NDArray[np.int64],
    periods: int,
) -> NDArray[np.float64]:
    """Forecast harm of :mod:`~harmscope.places.forecast_counts` from all months up to each
    origin, scaled to one month (so it reads as next month's expected harm)."""
    # The whole history: a cell's type mix needs every month it has to be told from noise,
    # and on Lincolnshire a longer history never scored worse (docs/forecast.md).
    upto = window_matrix(origins, periods, periods)

    def history(grid: Any) -> NDArray[np.float64]:
        if sparse.issparse(grid):
            return np.asarray(sparse.csr_matrix(grid).T.dot(upto.T).T, dtype=np.float64)
        g = np.asarray(grid, dtype=np.float64)
        if g.ndim != 2 or g.shape[0] != periods:
            raise ValueError(f"type_counts must have shape (periods={periods}, n), got {g.shape}")
        return upto @ g

    if not type_counts:
        raise ValueError("the forecast_harm ranking needs at least one harm type")
    # One type at a time (never all types x origins x cells at once: a force's whole area
    # is ~10^5 cells); the volume N_i first, as every type's prior needs it.
    total = history(sum(type_counts.values()))
    out = np.zeros(total.shape)
    for key, grid in type_counts.items():
        w = float(type_weights.get(key, 0.0))
        if w != 0.0:
            out += w * shrunk_counts(history(grid), total)[0]
    return out / upto.sum(axis=1, keepdims=True)
