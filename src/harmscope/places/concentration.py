"""Concentration of harm across places: Lorenz curve, Gini, the "power few", count vs harm.

Crime and harm concentrate in few places (Weisburd 2015's law of crime concentration; Sherman
2007's "power few"), and harm concentrates *more* than counts: a ranking by harm-weighted totals
(e.g. Cambridge Crime Harm Index days) picks different places than a ranking by the number of
events (Sherman, Neyroud & Neyroud 2016). These functions measure both for any weights — a
weight scheme's harm per place, or the ``count`` scheme's events per place — and compare them.

All functions take one value per place (zeros included: a study area's empty cells are places
with no harm, and leaving them out understates concentration).

References
----------
.. [1] Lorenz, M. O. (1905). Methods of measuring the concentration of wealth. *Publications of
   the American Statistical Association*, 9(70), 209–219.
.. [2] Gini, C. (1912). *Variabilità e mutabilità*. Bologna: Tipografia di Paolo Cuppini.
.. [3] Sherman, L. W. (2007). The power few: experimental criminology and the reduction of
   harm. *Journal of Experimental Criminology*, 3(4), 299–321.
.. [4] Weisburd, D. (2015). The law of crime concentration and the criminology of place.
   *Criminology*, 53(2), 133–157.
.. [5] Sherman, L., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index:
   measuring total harm from crime based on sentencing guidelines. *Policing*, 10(3), 171–183.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from harmscope.harm import Dropped, dropped_events, select_events
from harmscope.harm.selection import (
    DEFAULT_HARM,
    check_harm,
    check_types,
    harm_label,
    selection_attrs,
)
from harmscope.places.grid import values_on_cells
from harmscope.places.hotspots import cell_totals
from harmscope.places.study_area import AREA, AreaCells, resolve_area

__all__ = [
    "CountVsHarm",
    "PlaceConcentration",
    "count_vs_harm",
    "gini",
    "lorenz_curve",
    "place_concentration",
    "power_few",
    "top_cells",
    "top_share",
]

DEFAULT_SHARES: tuple[float, ...] = (0.01, 0.05, 0.10)
"""Top 1 %, 5 % and 10 % of places."""


def _weights(weights: ArrayLike, name: str = "weights") -> NDArray[np.float64]:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        raise ValueError(f"{name} is empty: give one value per place")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} hold NaN or infinite values")
    if np.any(w < 0):
        raise ValueError(f"{name} must be >= 0 (harm or counts per place)")
    if w.sum() <= 0:
        raise ValueError(f"{name} sum to zero: concentration is undefined")
    return w


def _check_share(share: float) -> None:
    if not 0 < share <= 1:
        raise ValueError(f"share of places must be in (0, 1], got {share}")


def lorenz_curve(weights: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lorenz curve of a non-negative quantity over places.

    Parameters
    ----------
    weights : array_like, shape (n,)
        Value per place (harm or count), zeros included.

    Returns
    -------
    places : numpy.ndarray of float64, shape (n + 1,)
        Cumulative share of places, :math:`0, 1/n, \\dots, 1`, least harmful first.
    total : numpy.ndarray of float64, shape (n + 1,)
        Cumulative share of the total held by those places, from 0 to 1.

    Examples
    --------
    >>> places, total = lorenz_curve([0, 0, 0, 4])
    >>> places.tolist(), total.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.0, 0.0, 1.0])
    """
    w = np.sort(_weights(weights))
    n = w.size
    cum = np.concatenate([[0.0], np.cumsum(w)])
    return np.arange(n + 1, dtype=np.float64) / n, cum / cum[-1]


def gini(weights: ArrayLike) -> float:
    """Gini coefficient of a non-negative quantity over places.

    Parameters
    ----------
    weights : array_like, shape (n,)
        Value per place, zeros included.

    Returns
    -------
    float
        :math:`G = \\sum_{i=1}^{n} (2i - n - 1)\\, x_{(i)} / (n \\sum_i x_i)` with
        :math:`x_{(i)}` sorted ascending: 0 when every place has the same value, at most
        :math:`(n-1)/n` when one place has everything. Equal to one minus twice the area under
        the (piecewise linear) Lorenz curve.

    Examples
    --------
    >>> gini([1, 2, 3, 4])
    0.25
    >>> gini([0, 0, 0, 1])
    0.75
    """
    w = np.sort(_weights(weights))
    n = w.size
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2 * i - n - 1) * w) / (n * w.sum()))


def top_share(weights: ArrayLike, share: float) -> float:
    """Share of the total held by the top ``share`` of places.

    Parameters
    ----------
    weights : array_like, shape (n,)
        Value per place, zeros included.
    share : float
        Fraction of places, in (0, 1] (e.g. 0.05 for the top 5 %).

    Returns
    -------
    float
        :math:`1 - L(1 - \\text{share})` with :math:`L` the Lorenz curve interpolated linearly,
        so a fraction of a place counts in proportion (the top 10 % of 5 places is half of the
        highest place).

    Examples
    --------
    >>> top_share([0, 0, 0, 0, 10, 30], 1 / 6)
    0.75
    >>> top_share([1, 1, 1, 1, 1, 5], 0.25)
    0.55
    """
    _check_share(share)
    places, total = lorenz_curve(weights)
    return float(1.0 - np.interp(1.0 - share, places, total))


def top_cells(n: int, share: float) -> int:
    """Whole number of places in the top ``share`` of ``n``: :math:`\\max(1, \\lceil
    \\text{share} \\cdot n \\rceil)`, the fewest whole places covering the share.

    The power-few table and the count-vs-harm comparison both use it, so a "top 1 %" row
    counts the same places in every column.

    Examples
    --------
    >>> top_cells(164, 0.01), top_cells(60, 0.05), top_cells(200, 0.05)
    (2, 3, 10)
    """
    _check_share(share)
    if n < 1:
        raise ValueError(f"need at least one place, got {n}")
    # The tolerance keeps 0.07 * 100 (= 7.000000000000001 in floating point) at 7.
    return max(1, math.ceil(share * n - 1e-9))


def _whole_top_share(w: NDArray[np.float64], k: int) -> float:
    """Share of the total held by the ``k`` largest values."""
    return float(np.sort(w)[::-1][:k].sum() / w.sum())


def power_few(weights: ArrayLike, *, shares: Sequence[float] = DEFAULT_SHARES) -> pd.DataFrame:
    """Share of the total in the top 1/5/10 % of places (the "power few", Sherman 2007).

    Parameters
    ----------
    weights : array_like, shape (n,)
        Value per place, zeros included.
    shares : sequence of float, default (0.01, 0.05, 0.10)
        Fractions of places to report.

    Returns
    -------
    pandas.DataFrame
        One row per share with columns ``share_of_places``, ``places`` (a whole number:
        :func:`top_cells`, the share of places rounded up, at least 1) and ``share_of_total``
        (share of the total held by those ``places`` highest places).

    Examples
    --------
    The top 10 % of 15 places is 2 places (1.5 rounded up), holding 9 of 12:

    >>> power_few([5, 4, 1, 1, 1] + [0] * 10, shares=[0.1]).values.tolist()
    [[0.1, 2.0, 0.75]]
    """
    w = _weights(weights)
    ks = [top_cells(w.size, s) for s in shares]
    return pd.DataFrame(
        {
            "share_of_places": [float(s) for s in shares],
            "places": np.asarray(ks, dtype=np.int64),
            "share_of_total": [_whole_top_share(w, k) for k in ks],
        }
    )


@dataclass(frozen=True)
class CountVsHarm:
    """How a ranking of places changes when harm is weighed instead of events counted.

    Attributes
    ----------
    spearman : float
        Spearman's rank correlation between count and harm per place.
    kendall_tau : float
        Kendall's :math:`\\tau_b` between count and harm per place.
    top : pandas.DataFrame
        One row per share of places with ``share_of_places``, ``k`` (places in the top,
        :func:`top_cells`), ``overlap`` (places in both top-k
        sets), ``overlap_share`` (``overlap / k``), ``jaccard``, ``harm_by_count_top`` and
        ``harm_by_harm_top`` (share of all harm in the count-ranked and harm-ranked top k: what
        targeting the busiest places captures versus targeting the most harmful).
    ranks : pandas.DataFrame
        One row per place, in input order: ``count``, ``harm``, ``count_rank``, ``harm_rank``
        (1 = highest; ties share the lowest rank) and ``rank_change`` (``count_rank -
        harm_rank``; positive when harm moves a place up).
    """

    spearman: float
    kendall_tau: float
    top: pd.DataFrame
    ranks: pd.DataFrame


def _top_k(values: NDArray[np.float64], k: int) -> NDArray[np.intp]:
    """Indices of the k largest values; ties broken by input order (stable)."""
    return np.argsort(-values, kind="stable")[:k]


def count_vs_harm(
    counts: ArrayLike, harm: ArrayLike, *, shares: Sequence[float] = DEFAULT_SHARES
) -> CountVsHarm:
    """Compare the ranking of places by event counts with their ranking by harm.

    Parameters
    ----------
    counts : array_like, shape (n,)
        Events per place (the ``count`` scheme, "busyness").
    harm : array_like, shape (n,)
        Harm per place under a weight scheme (e.g. CCHI days), same places and order.
    shares : sequence of float, default (0.01, 0.05, 0.10)
        Fractions of places for the top-k comparison.

    Returns
    -------
    CountVsHarm
        Rank correlations, top-k overlap and harm captured, and per-place ranks.

    Notes
    -----
    Top-k sets break ties by input order, so pass places in a stable order (e.g. sorted by
    cell) for reproducible sets. Rank correlations are undefined (NaN) when either input is
    constant.

    Examples
    --------
    >>> r = count_vs_harm([10, 8, 6, 4, 2], [20, 1000, 30, 5, 700], shares=[0.4])
    >>> r.top[["k", "overlap", "harm_by_count_top", "harm_by_harm_top"]].round(4).values.tolist()
    [[2.0, 1.0, 0.5812, 0.9687]]
    >>> r.ranks["rank_change"].tolist()
    [-3, 1, 0, -1, 3]
    """
    c = _weights(counts, "counts")
    h = _weights(harm, "harm")
    if c.shape != h.shape:
        raise ValueError(f"counts and harm differ in length: {c.size} vs {h.size}")
    n = c.size
    total_harm = h.sum()
    rows = []
    for share in shares:
        _check_share(share)
        k = top_cells(n, share)
        by_count, by_harm = _top_k(c, k), _top_k(h, k)
        overlap = np.intersect1d(by_count, by_harm).size
        rows.append(
            {
                "share_of_places": float(share),
                "k": k,
                "overlap": overlap,
                "overlap_share": overlap / k,
                "jaccard": overlap / (2 * k - overlap),
                "harm_by_count_top": float(h[by_count].sum() / total_harm),
                "harm_by_harm_top": float(h[by_harm].sum() / total_harm),
            }
        )
    count_rank = pd.Series(c).rank(ascending=False, method="min").astype(np.int64)
    harm_rank = pd.Series(h).rank(ascending=False, method="min").astype(np.int64)
    ranks = pd.DataFrame(
        {
            "count": c,
            "harm": h,
            "count_rank": count_rank,
            "harm_rank": harm_rank,
            "rank_change": count_rank - harm_rank,
        }
    )
    constant = np.ptp(c) == 0 or np.ptp(h) == 0
    spearman = math.nan if constant else float(stats.spearmanr(c, h).statistic)
    kendall = math.nan if constant else float(stats.kendalltau(c, h).statistic)
    return CountVsHarm(spearman=spearman, kendall_tau=kendall, top=pd.DataFrame(rows), ranks=ranks)


@dataclass(frozen=True)
class PlaceConcentration:
    """Concentration of harm and of counts over the grid cells of a study area.

    Attributes
    ----------
    cells : int
        Places compared: every cell of the study area, empty ones included (the same cells
        ``hotspots`` and ``validate-forecast`` use).
    gini_harm, gini_count : float
        Gini coefficient of harm (scheme unit) and of recorded events per cell.
    power_few : pandas.DataFrame
        ``share_of_places``, ``places`` (whole cells, :func:`top_cells`), ``harm_share``,
        ``count_share``.
    count_vs_harm : CountVsHarm
        How the ranking changes when harm is weighed instead of events counted.
    dropped : Dropped
        Located events of types the scheme does not weigh (left out of both measures).
    study_area : dict or None
        The study area and the stray records left out
        (:meth:`~harmscope.places.study_area.AreaCells.to_dict`); None for explicit cells.
    harm_view : {'drug', 'all'}
        The view of harm measured; :attr:`harm_label` names it.
    types : tuple of str or None
        Crime types kept, or None for every type.
    """

    cells: int
    gini_harm: float
    gini_count: float
    power_few: pd.DataFrame
    count_vs_harm: CountVsHarm
    dropped: Dropped = field(default_factory=lambda: Dropped(scheme=""))
    study_area: dict[str, Any] | None = None
    harm_view: str = DEFAULT_HARM
    types: tuple[str, ...] | None = None

    @property
    def harm_label(self) -> str:
        """``'drug-attributed harm'`` or ``'all crime harm'``."""
        return harm_label(self.harm_view)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (per-place ranks left out)."""
        return {
            "cells": self.cells,
            "gini_harm": self.gini_harm,
            "gini_count": self.gini_count,
            "power_few": self.power_few.to_dict(orient="records"),
            "count_vs_harm": {
                "spearman": self.count_vs_harm.spearman,
                "kendall_tau": self.count_vs_harm.kendall_tau,
                "top": self.count_vs_harm.top.to_dict(orient="records"),
            },
            "dropped": self.dropped.to_dict(),
            "study_area": self.study_area,
            **selection_attrs(self.harm_view, self.types),
        }


def place_concentration(
    events: Any,
    *,
    scheme: Any = "cchi",
    cell_size: float = 250.0,
    months: tuple[Any, Any] | None = None,
    shares: Sequence[float] = DEFAULT_SHARES,
    mask: tuple[Any, Any] | AreaCells | None = None,
    harm: str = DEFAULT_HARM,
    attribution: Any = None,
    types: Collection[str] | None = None,
) -> PlaceConcentration:
    """Power few, Gini and count-vs-harm over the cells of the study area.

    Harm per cell is aggregated in the engine (:func:`~harmscope.places.hotspots.cell_totals`);
    the count is every weighted event (harm and activity: what a busyness map counts). Places
    are the cells of the dataset's study area
    (:func:`~harmscope.places.study_area.dataset_area`), or of ``mask``, with zeros for cells
    without events; events in other cells (strays) are left out. ``harm`` (``'drug'``, the
    default, or ``'all'``), ``attribution`` and ``types`` (police.uk crime types, any case)
    choose what is weighed, as :func:`~harmscope.places.hotspots.hotspots`; the count is of
    the same types.
    """
    harm = check_harm(harm)
    types = check_types(types)
    totals = (
        cell_totals(
            events,
            scheme=scheme,
            cell_size=cell_size,
            months=months,
            harm=harm,
            attribution=attribution,
            types=types,
        )
        .order_by(["cell_y", "cell_x"])
        .to_pandas()
    )
    cells_mask, _, area_info = resolve_area(events, mask=mask, within=AREA, cell_size=cell_size)
    assert cells_mask is not None  # within=AREA always yields cells
    ax = np.asarray(cells_mask[0], dtype=np.float64)
    ay = np.asarray(cells_mask[1], dtype=np.float64)
    stacked = values_on_cells(
        totals["cell_x"].to_numpy(dtype=np.float64),
        totals["cell_y"].to_numpy(dtype=np.float64),
        np.vstack(
            [
                totals["harm"].to_numpy(dtype=np.float64),
                (totals["harm_events"] + totals["activity_events"]).to_numpy(dtype=np.float64),
            ]
        )
        if len(totals)
        else np.zeros((2, 0)),
        ax,
        ay,
        drop_outside=True,
    )
    harm_cells, count = stacked[0], stacked[1]
    if harm_cells.sum() <= 0:
        kinds = "" if types is None else f" of type {', '.join(types)}"
        raise ValueError(
            f"no located harm events{kinds} in the study area in the period: nothing to measure"
        )
    few = power_few(harm_cells, shares=shares).rename(columns={"share_of_total": "harm_share"})
    few["count_share"] = [_whole_top_share(count, k) for k in few["places"]]
    return PlaceConcentration(
        cells=int(harm_cells.size),
        gini_harm=gini(harm_cells),
        gini_count=gini(count),
        power_few=few,
        count_vs_harm=count_vs_harm(count, harm_cells, shares=shares),
        dropped=dropped_events(
            select_events(events, types=types), scheme, months=months, located=True
        ),
        study_area=area_info,
        harm_view=harm,
        types=types,
    )
