"""The places lens: grid cells ranked by the harm to come, with the matrix cells behind it.

Score
-----
For cell :math:`i` over the period, :math:`H_i` is its harm (sum of scheme weights of its
harm-kind events; activity is never added), :math:`\\hat H_i` its forecast harm over the next
period of the same length and :math:`z_i` its Gi* z of harm
(:func:`harmscope.places.hotspots.hotspots`). The forecast weighs each crime type's
empirical-Bayes count (the cell's count of the type, shrunk towards its volume of harm
events times the study area's type mix) by the type's harm per event
(:mod:`harmscope.places.forecast_counts`): one robbery or rape no longer decides a cell's
place, because a cell's volume of harm is steadier than its mix of types. ``validate-forecast``
checks this forecast against next month's harm as the ``forecast_harm`` ranking
(docs/forecast.md). With ``score_by='harm'``, :math:`S_i = H_i` (the lens before issue 12);
by default :math:`S_i = \\hat H_i`.

==============  ==========================================  ==================================
significance    score                                       cells ranked
==============  ==========================================  ==================================
``'none'``      :math:`S_i`                                 every cell with :math:`H_i > 0`
``'weight'``    :math:`S_i \\, \\Phi(z_i)`                   every cell with :math:`H_i > 0`
``'require'``   :math:`S_i`                                 hot cells: FDR p ≤ ``alpha``, z > 0
==============  ==========================================  ==================================

:math:`\\Phi` is the standard normal CDF, so ``'weight'`` keeps a harmful cell in a hot cluster
near its full score and discounts an isolated one (z ≈ 0 halves it) or one in a cold area.
Ties are broken by harm, then south to north, west to east; ranks are 1..n.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.special import ndtr  # the normal CDF, as scipy.stats.norm.cdf computes it

from harmscope.harm import load_scheme, parse_month, select_events
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types, selection_attrs
from harmscope.harm.shares import matrix_shares, spread_harm
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import AttributionLike, SchemeLike, event_key, repeatable_sum, weigh
from harmscope.periods import Months, Progress
from harmscope.places.forecast_counts import forecast_type_harm
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.places.hotspots import hotspots
from harmscope.places.study_area import AREA, AreaCells, Within
from harmscope.priorities.reasons import formatted, frame_reasons
from harmscope.warehouse.handle import Warehouse

__all__ = ["PLACE_COLUMNS", "ScoreBy", "Significance", "place_id", "rank_places"]

Significance = Literal["none", "weight", "require"]
ScoreBy = Literal["forecast", "harm"]

PLACE_COLUMNS: tuple[str, ...] = (
    "rank",
    "unit_id",
    "score",
    "reasons",
    "reason_cells",
    "name",
    "cell_x",
    "cell_y",
    "harm",
    "forecast_harm",
    "trend",
    "months_since_last",
    "activity",
    "gi_z",
    "p_fdr",
    "category",
    "harm_events",
)
"""Columns of :func:`rank_places`; ``reasons`` and ``reason_cells`` hold lists of strings;
``harm`` and ``forecast_harm`` are in the scheme's unit (``attrs["unit"]``); ``trend`` and
``months_since_last`` as :data:`harmscope.priorities.lenses.BOARD_COLUMNS` says."""


def place_id(cell_x: float, cell_y: float, cell_size: float) -> str:
    """Unit id of a cell: ``'cell-<size>m-<cell_x>-<cell_y>'``.

    Examples
    --------
    >>> place_id(532000, 181250, 250)
    'cell-250m-532000-181250'
    """
    return f"{_place_head(cell_size)}{float(cell_x):g}-{float(cell_y):g}"


def _place_head(cell_size: float) -> str:
    """The start of every place id on a grid of *cell_size* metres: ``'cell-250m-'``."""
    return f"cell-{float(cell_size):g}m-"


def rank_places(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    significance: Significance = "none",
    alpha: float = 0.05,
    top: int | None = None,
    reasons: int = 3,
    within: Within = AREA,
    mask: tuple[Any, Any] | AreaCells | None = None,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
    score_by: ScoreBy = "forecast",
) -> pd.DataFrame:
    """Rank grid cells by the harm to come (see the module docstring for the score).

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        Warehouse ``events``, a backend holding it, or a warehouse path.
    scheme : Scheme, str or path-like, default 'cchi'
    cell_size : float, default 250
        Metres.
    months : (from, to), optional
        Inclusive month bounds.
    significance : {'none', 'weight', 'require'}, default 'none'
        How Gi* enters the score.
    alpha : float, default 0.05
        FDR level for ``'require'``.
    top : int, optional
        Keep the first ``top`` rows.
    reasons : int, default 3
        Matrix cells named per row (after the two crime types with most harm;
        :func:`~harmscope.priorities.reasons.word_reasons`).
    within : 'area', float or None, default 'area'
        Study area of the Gi* (as :func:`~harmscope.places.hotspots.hotspots`: by default
        the dataset's one study area).
    mask : (cell_x, cell_y) arrays, optional
        Exact study area (e.g. from :mod:`harmscope.places.study_area`): only these cells
        are ranked, and the Gi* runs on them, zeros included.
    taxonomy : Taxonomy or path, optional
        Harm taxonomy behind the reasons.
    progress : callable, optional
        Passed to :func:`~harmscope.places.hotspots.hotspots`.
    harm : {'drug', 'all'}, default 'drug'
        View of harm ranked: drug-attributed (default) or every crime's; the reasons are the
        matrix cells of the same view (:func:`~harmscope.harm.shares.matrix_shares`).
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Only these crime types (police.uk names, any case).
    score_by : {'forecast', 'harm'}, default 'forecast'
        Score by the forecast harm of the next period of the same length
        (:func:`~harmscope.places.forecast_counts.forecast_type_harm` over the study area's
        cells), or by the harm of the period itself.

    Returns
    -------
    pandas.DataFrame
        :data:`PLACE_COLUMNS`, rank 1 first; ``harm`` is the period's harm and
        ``forecast_harm`` the harm expected over the next period of the same length, both in
        the scheme's unit. ``trend`` is the least-squares slope of the cell's monthly harm
        over the period's months (months with none count as 0), as a fraction of its mean
        month (+0.05: rising 5 % a month; NaN for a one-month period);
        ``months_since_last`` the whole months from the last month with harm to the period's
        last month (0: harm in the last month). ``attrs`` has ``lens``, ``scheme``, ``unit``, ``dropped``,
        ``cell_size``, ``months``, ``significance``, ``score_by``, ``study_area`` (cells and
        strays left out), ``harm_view``, ``harm_label`` and ``types``.
    """
    if significance not in ("none", "weight", "require"):
        raise ValueError(f"significance must be none, weight or require, got {significance!r}")
    if score_by not in ("forecast", "harm"):
        raise ValueError(f"score_by must be forecast or harm, got {score_by!r}")
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    sch = load_scheme(scheme)
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    harm = check_harm(harm)
    types = check_types(types, tax)
    shares = matrix_shares(sch, taxonomy=tax, attribution=attribution, harm=harm)
    with Warehouse.of(source) as wh:
        events = wh.events()
        spots = hotspots(
            events,
            scheme=sch,
            cell_size=cell_size,
            months=months,
            within=within,
            mask=mask,
            progress=progress,
            harm=harm,
            attribution=attribution,
            types=types,
        )
        # Every crime's harm per cell and type: the shares of the view then spread it, as
        # the matrix does, so a cell's reasons add up to its harm in that view.
        chosen = select_events(events, months=months, types=types)
        w = weigh(chosen.mutate(event_key=event_key(chosen)), sch, harm="all")
        w = w.filter((w.kind == "harm") & w.x.notnull() & w.y.notnull())
        c = with_cells(w, cell_size=cell_size)
        by_month = c.group_by(["cell_x", "cell_y", "event_key", "month"]).aggregate(
            value=repeatable_sum(c.weight), events=c.count()
        )
        # In a fixed order: the engine returns groups in any order, and the trend and forecast
        # add these rows in pandas, whose float sums follow the order (repeatable boards).
        monthly = by_month.order_by(["cell_x", "cell_y", "event_key", "month"]).to_pandas()
    for col in ("cell_x", "cell_y"):
        monthly[col] = monthly[col].astype(np.float64)
    totals = monthly.groupby(["cell_x", "cell_y", "event_key"], as_index=False)[
        ["value", "events"]
    ].sum()
    # Each type's harm per event in the view (drug: times its drug share, the sum of its
    # shares), so the reasons, the forecast and the score are shares of the same harm.
    view_share = shares.groupby("event_key")["share"].sum()
    spots = spots.assign(forecast_harm=_forecast(spots, totals, view_share))
    trend, since = _trend_and_recency(spots, monthly, view_share, months)
    spots = spots.assign(trend=trend, months_since_last=since)
    ranked = spots[spots["harm"] > 0].copy()
    base = ranked["forecast_harm" if score_by == "forecast" else "harm"].astype(float)
    if significance == "weight":
        ranked["score"] = base * ndtr(ranked["gi_z"].to_numpy())
    else:
        ranked["score"] = base
    if significance == "require":
        ranked = ranked[(ranked["p_fdr"] <= alpha) & (ranked["gi_z"] > 0)]
    ranked = ranked.sort_values(
        ["score", "harm", "cell_y", "cell_x"], ascending=[False, False, True, True], kind="stable"
    ).reset_index(drop=True)
    if top is not None:
        ranked = ranked.head(top)
    ranked["rank"] = np.arange(1, len(ranked) + 1, dtype=np.int64)
    # place_id of every row, each coordinate written once per distinct value
    ranked["unit_id"] = (
        _place_head(cell_size)
        + formatted(ranked["cell_x"], "g")
        + "-"
        + formatted(ranked["cell_y"], "g")
    ).tolist()
    keys = ranked[["cell_x", "cell_y"]].astype(np.float64)
    totals = totals.merge(keys, on=["cell_x", "cell_y"])
    matrix = spread_harm(totals, shares, unit_columns=["cell_x", "cell_y"]) if len(totals) else None
    if matrix is not None:
        # Each type's harm in the view (drug: times its drug share), so the type phrases
        # are shares of the same harm as the cells and the score.
        in_view = totals.assign(
            value=totals["value"] * totals["event_key"].map(view_share).fillna(0.0)
        )
        # set-based: every cell's reasons in one pass (issue 13; was to_dict per cell)
        words = frame_reasons(matrix, in_view, ["cell_x", "cell_y"], sch.unit, tax, k=reasons)
        words = words.astype({c: ranked[c].dtype for c in ("cell_x", "cell_y")})
        ranked = ranked.merge(words, on=["cell_x", "cell_y"], how="left", sort=False)
    else:
        ranked["reasons"] = None
        ranked["reason_cells"] = None
    for col in ("reasons", "reason_cells"):
        ranked[col] = [v if isinstance(v, list) else [] for v in ranked[col]]
    out = ranked[list(PLACE_COLUMNS)].reset_index(drop=True)
    out["months_since_last"] = out["months_since_last"].astype("Int64")  # whole months
    out.attrs.update(
        {
            "lens": "places",
            "scheme": sch.name,
            "unit": sch.unit,
            "cell_size": cell_size,
            "months": None if months is None else tuple(str(m) for m in months),
            "significance": significance,
            "score_by": score_by,
            "dropped": spots.attrs.get("dropped"),
            "study_area": spots.attrs.get("study_area"),
            **selection_attrs(harm, types),
        }
    )
    return out


def _forecast(spots: pd.DataFrame, totals: pd.DataFrame, view_share: pd.Series) -> np.ndarray:
    """Forecast harm of every study-area cell of *spots* from its counts per type (*totals*).

    The empirical-Bayes prior (the area's type mix, each type's scatter) is worked out over
    the study area's cells only, as ``validate-forecast`` does; types weigh their mean harm
    per event over the period in the view.
    """
    cells = pd.MultiIndex.from_arrays(
        [spots["cell_x"].astype(np.float64), spots["cell_y"].astype(np.float64)]
    )
    if totals.empty or cells.empty:
        return np.zeros(len(spots))
    counts = totals.pivot_table(
        index=["cell_x", "cell_y"], columns="event_key", values="events", aggfunc="sum"
    )
    counts = counts.reindex(cells).fillna(0.0)
    per_type = totals.groupby("event_key")[["value", "events"]].sum()
    per_event = per_type["value"] / per_type["events"] * view_share.reindex(per_type.index)
    weights = {str(k): float(v) for k, v in per_event.fillna(0.0).items()}
    return forecast_type_harm({str(k): counts[k].to_numpy() for k in counts.columns}, weights)


def _trend_and_recency(
    spots: pd.DataFrame, monthly: pd.DataFrame, view_share: pd.Series, months: Months | None
) -> tuple[np.ndarray, np.ndarray]:
    """Trend (slope / mean month) and months since the last harm of every cell of *spots*.

    The period runs over ``months`` when given, else from the first to the last month with
    a located harm event anywhere; months without harm in a cell count as 0 there.
    """
    n = len(spots)
    if monthly.empty or n == 0:
        return np.full(n, np.nan), np.full(n, np.nan)
    seen = pd.PeriodIndex(pd.to_datetime(monthly["month"]), freq="M")
    first = pd.Period(parse_month(months[0]), freq="M") if months and months[0] else seen.min()
    last = pd.Period(parse_month(months[1]), freq="M") if months and months[1] else seen.max()
    periods = last.ordinal - first.ordinal + 1
    cells = pd.MultiIndex.from_arrays(
        [spots["cell_x"].astype(np.float64), spots["cell_y"].astype(np.float64)]
    )
    row = cells.get_indexer(pd.MultiIndex.from_arrays([monthly["cell_x"], monthly["cell_y"]]))
    col = np.asarray(seen.asi8 - first.ordinal, dtype=np.int64)
    keep = (row >= 0) & (col >= 0) & (col < periods)
    value = monthly["value"].to_numpy(dtype=np.float64) * (
        monthly["event_key"].map(view_share).fillna(0.0).to_numpy(dtype=np.float64)
    )
    grid = np.zeros((n, periods))
    np.add.at(grid, (row[keep], col[keep]), value[keep])
    t = np.arange(periods, dtype=np.float64)
    mean = grid.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # ordinary least squares slope of harm on month number, per cell, in one product
        slope = (grid - mean[:, None]) @ (t - t.mean()) / ((t - t.mean()) ** 2).sum()
        trend = np.where((mean > 0) & (periods > 1), slope / mean, np.nan)
    has = grid > 0
    latest = np.where(has.any(axis=1), periods - 1 - np.argmax(has[:, ::-1], axis=1), -1)
    since = np.where(latest >= 0, periods - 1 - latest, np.nan)
    return trend, since
