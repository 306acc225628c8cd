"""Accuracy of a place forecast: hit rate, PAI and PEI*, and the rolling-origin harness.

The measures score a ranking of cells against what happened next (ties split evenly at the
selection boundary, :func:`captured`); :func:`rolling_forecast_check` applies them at every
origin and aggregates over origins. Definitions, references and results are in
:mod:`harmscope.places.forecast` and ``docs/forecast.md``; the rankings themselves are in
:mod:`harmscope.places.forecast_rankers`.

References
----------
.. [1] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for predicting
   spatial patterns of crime. *Security Journal*, 21(1–2), 4–28.
.. [2] Hunt, J. M. (2016). *Do crime hot spots move?* PhD dissertation, American University
   (PEI = PAI / PAI*).
.. [3] White, V. M., Hunt, J. & Green, B. (2023). A discussion of current crime forecasting
   indices and an improvement to the prediction efficiency index for applications. *Security
   Journal* (PEI*, NCJ 306617).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "DEFAULT_SHARES",
    "SUMMARY_COLUMNS",
    "ForecastMeasures",
    "captured",
    "cells_for_shares",
    "forecast_measures",
    "rolling_forecast_check",
]

DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)
"""Area shares at which rankings are scored: 1, 2, 5 and 10 % of the study area."""
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
"""Columns of :attr:`harmscope.places.forecast.ForecastCheck.summary`."""

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
