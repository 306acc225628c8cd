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
``forecast_harm``
    Harm to come: each harm type's count over every month up to the origin, shrunk by
    empirical Bayes towards the cell's volume times the area's type mix, weighed by the
    type's harm per event, per month (:mod:`harmscope.places.forecast_counts`). The places
    lens ranks by the same forecast.

Hindsight bound
---------------
``meta["hindsight"]`` holds, per target and share, the mean hit rate of the best *single*
map over all origins, chosen knowing every outcome (the cells with the most harm summed over
all scored horizons). No ranking that keeps its cells from one origin to the next can beat it
on average; it says how much of the gap to PEI* = 1 is month-to-month noise.

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

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from harmscope.errors import WarehouseError
from harmscope.harm.weigh import AttributionLike, SchemeLike
from harmscope.periods import Months, Progress
from harmscope.places.forecast_accuracy import (
    DEFAULT_SHARES,
    SUMMARY_COLUMNS,
    ForecastMeasures,
    captured,
    cells_for_shares,
    forecast_measures,
    rolling_forecast_check,
)
from harmscope.places.forecast_grids import (
    FORECAST_HARM,
    ForecastGrids,
    forecast_grids,
    monthly_harm_points,
    monthly_type_counts,
    type_grids,
)
from harmscope.places.forecast_rankers import (
    RANKINGS,
    kde_cell_harm,
    ranking_scores,
    window_matrix,
)
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.places.hotspots import monthly_cell_totals
from harmscope.places.study_area import AREA, AreaCells, Within

__all__ = [
    "DEFAULT_SHARES",
    "FORECAST_HARM",
    "RANKINGS",
    "SUMMARY_COLUMNS",
    "TARGETS",
    "ForecastCheck",
    "ForecastGrids",
    "ForecastMeasures",
    "captured",
    "cells_for_shares",
    "forecast_grids",
    "forecast_measures",
    "hindsight_bound",
    "kde_cell_harm",
    "monthly_cell_totals",
    "monthly_harm_points",
    "monthly_type_counts",
    "ranking_scores",
    "rolling_forecast_check",
    "type_grids",
    "validate_forecast",
]


TARGETS: tuple[str, ...] = ("harm", "events")
"""What the next months are scored on: harm (scheme weights) and the number of harm events."""


def hindsight_bound(
    outcomes: dict[str, NDArray[np.float64]], shares: Sequence[float]
) -> dict[str, dict[str, float | None]]:
    """Mean hit rate of the best single map over all origins, chosen with hindsight.

    A map that keeps the same cells :math:`S` at every origin has mean hit rate
    :math:`\\frac{1}{T}\\sum_t \\sum_{i \\in S} y_{ti} / N_t` over the :math:`T` origins with
    :math:`N_t > 0`: linear in the cells, so the :math:`a` cells with the largest
    :math:`\\sum_t y_{ti} / N_t` are the best such map, exactly. No ranking whose top cells stay
    the same from one origin to the next can beat it on average.

    Parameters
    ----------
    outcomes : dict of str to numpy.ndarray, shape (origins, n)
        Each target's outcome per origin and cell (as :func:`rolling_forecast_check`).
    shares : sequence of float
        Area shares (:func:`cells_for_shares`).

    Returns
    -------
    dict
        ``{target: {"0.01": hit rate, ...}}`` (None where no origin has an outcome).

    Examples
    --------
    Two origins, three cells, one cell selected: cell 1 holds 5/6 and 1/4 of each origin's
    total, more than cell 0 (1/6 and 3/4), so the best single map is cell 1.

    >>> b = hindsight_bound({"harm": np.array([[1.0, 5, 0], [3, 1, 0]])}, [1 / 3])
    >>> round(b["harm"]["0.333333"], 4)
    0.5417
    """
    out: dict[str, dict[str, float | None]] = {}
    for target, y in outcomes.items():
        y = np.asarray(y, dtype=np.float64)
        total = y.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, y / total, 0.0)
            static = np.broadcast_to(share.sum(axis=0), y.shape)
            hits = forecast_measures(static, y, shares).hit_rate
            means = [float(np.nanmean(col)) if np.any(np.isfinite(col)) else None for col in hits.T]
        out[target] = {f"{s:g}": m for s, m in zip(shares, means, strict=True)}
    return out


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
        cells), ``shares``, ``empty_months`` (months without any located event), ``dropped``,
        ``hindsight`` (:func:`hindsight_bound`), ``harm_view``, ``harm_label`` and ``types``.
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
    harm: str = FORECAST_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
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
    harm : {'all', 'drug'}, default 'all'
        View of harm ranked and scored (:data:`FORECAST_HARM`: unlike the other analyses,
        every crime's harm by default, so the documented figures hold).
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Only these crime types (police.uk names, any case); the busyness count too.

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
    if warmup < 1 or horizon < 1 or window < 1:
        raise ValueError(
            f"warmup, horizon and window must be at least 1 month, got {warmup}, {horizon}, {window}"
        )
    if bandwidth is None:
        bandwidth = float(cell_size)
    if distance is None:
        distance = 1.5 * cell_size
    cells_for_shares(1, shares)  # validates the shares before any query runs
    grids = forecast_grids(
        source,
        scheme=scheme,
        cell_size=cell_size,
        months=months,
        bandwidth=bandwidth,
        within=within,
        min_events=min_events,
        mask=mask,
        kde="kde" in rankings,
        by_type="forecast_harm" in rankings,
        progress=progress,
        harm=harm,
        attribution=attribution,
        types=types,
    )
    month_labels = grids.month_labels
    periods = len(month_labels)
    if periods < warmup + horizon:
        raise WarehouseError(
            f"{periods} month(s) from {month_labels[0]} to {month_labels[-1]}: a warm-up of "
            f"{warmup} and a horizon of {horizon} need at least {warmup + horizon}"
        )
    origins = np.arange(warmup - 1, periods - horizon, dtype=np.int64)
    if progress:
        progress("rank", 0, 1)
    scores = ranking_scores(
        grids.harm,
        grids.all_events,
        grids.coords,
        origins,
        window=window,
        half_life=half_life,
        distance=distance,
        kde=grids.kde,
        rankings=rankings,
        type_counts=grids.type_counts,
        type_weights=grids.type_weights,
    )
    if progress:
        progress("rank", 1, 1)
        progress("score", 0, 1)
    ahead = window_matrix(origins + horizon, periods, horizon)
    outcomes = {"harm": ahead @ grids.harm, "events": ahead @ grids.harm_events}
    per_origin, summary = rolling_forecast_check(
        scores, outcomes, shares=shares, origin_labels=[month_labels[t] for t in origins]
    )
    if progress:
        progress("score", 1, 1)
    meta: dict[str, Any] = {
        "scheme": grids.scheme,
        "unit": grids.unit,
        "cell_size": cell_size,
        "cells": int(grids.coords.shape[0]),
        "months": [month_labels[0], month_labels[-1]],
        "origins": [month_labels[t] for t in origins],
        "warmup": warmup,
        "horizon": horizon,
        "window": window,
        "half_life": half_life,
        "bandwidth": float(bandwidth),
        "distance": float(distance),
        "within": within,
        "min_events": min_events if mask is None else None,
        "study_area": grids.study_area,
        "shares": [float(s) for s in shares],
        "empty_months": grids.empty_months,
        "dropped": grids.dropped,
        "hindsight": hindsight_bound(outcomes, shares),
        **grids.selection,
    }
    return ForecastCheck(summary=summary, per_origin=per_origin, meta=meta)
