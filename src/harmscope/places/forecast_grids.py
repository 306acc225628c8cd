"""The study area's monthly grids, read from the warehouse once for the forecast check.

:func:`forecast_grids` turns the events into per-month, per-cell arrays (harm, harm events,
events of every kind, and on request the KDE and per-type inputs) over the study area's cells
(:mod:`harmscope.places.study_area`). :func:`harmscope.places.forecast.validate_forecast` ranks
and scores these; a ranking built elsewhere (``bench/forecast_learned.py``) is scored on the
same cells and months.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from harmscope.errors import WarehouseError
from harmscope.harm import dropped_events, load_scheme, parse_month, select_events, weigh
from harmscope.harm.selection import check_harm, check_types, selection_attrs
from harmscope.harm.weigh import AttributionLike, SchemeLike, event_key, repeatable_sum
from harmscope.periods import Months, Progress
from harmscope.places.forecast_rankers import kde_cell_harm
from harmscope.places.grid import DEFAULT_CELL_SIZE, study_area_cells, with_cells
from harmscope.places.hotspots import monthly_cell_totals
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "FORECAST_HARM",
    "ForecastGrids",
    "forecast_grids",
    "monthly_harm_points",
    "monthly_type_counts",
    "type_grids",
]


#: The view of harm the forecast check scores by default: every crime's harm, so its figures
#: compare with the published ones (docs/forecast.md; issue 12 item 6 asks for the all-crime
#: figure). ``harm='drug'`` (``--harm drug``) scores drug-attributed harm instead.
FORECAST_HARM = "all"


def monthly_type_counts(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    harm: str = FORECAST_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm events and their harm per month, cell and crime type (Ibis), for ``forecast_harm``.

    Only harm-kind events with a location; ``harm``, ``attribution`` and ``types`` as
    :func:`~harmscope.places.hotspots.cell_totals`.

    Returns
    -------
    ibis.Table
        ``month``, ``cell_x``, ``cell_y``, ``event_key`` (the scheme's type), ``events``
        (count) and ``harm`` (sum of weights, scheme unit).
    """
    chosen = select_events(events, months=months, types=check_types(types))
    w = weigh(
        chosen.mutate(event_key=event_key(chosen)),
        scheme,
        harm=check_harm(harm),
        attribution=attribution,
    )
    w = w.filter(w.x.notnull() & w.y.notnull() & (w.kind == "harm"))
    c = with_cells(w, cell_size=cell_size)
    return c.group_by(["month", "cell_x", "cell_y", "event_key"]).aggregate(
        events=c.count(), harm=repeatable_sum(c.weight)
    )


def type_grids(
    counts: pd.DataFrame,
    month_index: NDArray[np.int64],
    cell_index: NDArray[np.int64],
    *,
    periods: int,
    cells: int,
) -> tuple[dict[str, sparse.csr_matrix], dict[str, float]]:
    """Sparse (periods, cells) count grid of each type and its mean harm per event.

    ``month_index`` and ``cell_index`` give each row of ``counts``
    (:func:`monthly_type_counts`) its period and study-area cell (-1: outside, left out).
    The harm per event is taken over every located event of the type, inside the area or not.
    """
    keep = cell_index >= 0
    grids: dict[str, sparse.csr_matrix] = {}
    weights: dict[str, float] = {}
    keys = counts["event_key"].astype(str).to_numpy()
    n_events = counts["events"].to_numpy(dtype=np.float64)
    harm = counts["harm"].to_numpy(dtype=np.float64)
    for key in sorted(set(keys)):
        rows = keys == key
        weights[key] = float(harm[rows].sum() / n_events[rows].sum())
        inside = rows & keep
        grids[key] = sparse.csr_matrix(
            (n_events[inside], (month_index[inside], cell_index[inside])), shape=(periods, cells)
        )
    return grids, weights


def monthly_harm_points(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
    harm: str = FORECAST_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm per month at each distinct event location (Ibis), the input of the KDE ranking.

    police.uk snaps every record to one of a fixed set of anonymous map points, so this table is
    far smaller than the events. ``harm`` (default ``'all'``, see :data:`FORECAST_HARM`),
    ``attribution`` and ``types`` as :func:`~harmscope.places.hotspots.cell_totals`.

    Returns
    -------
    ibis.Table
        ``month``, ``x``, ``y`` (metres) and ``harm`` (sum of harm weights there that month).
    """
    chosen = select_events(events, months=months, types=check_types(types))
    w = weigh(chosen, scheme, harm=check_harm(harm), attribution=attribution)
    w = w.filter(w.x.notnull() & w.y.notnull() & (w.kind == "harm"))
    return w.group_by(["month", "x", "y"]).aggregate(harm=repeatable_sum(w.weight))


def _month_index(values: pd.Series, first: pd.Period) -> NDArray[np.int64]:
    periods = pd.PeriodIndex(pd.to_datetime(values), freq="M")
    return np.asarray(periods.asi8 - first.ordinal, dtype=np.int64)


@dataclass(frozen=True)
class ForecastGrids:
    """Monthly grids over the study area: what every ranking and outcome is computed from.

    Attributes
    ----------
    month_labels : list of str
        Every month from the first to the last, ``'YYYY-MM'`` (row ``t`` of each grid).
    coords : numpy.ndarray, shape (n, 2)
        Lower-left corner of each study-area cell, metres (EPSG:27700).
    harm, harm_events, all_events : numpy.ndarray, shape (months, n)
        Harm (scheme unit), harm events, and events of every kind (harm and police activity)
        per month and cell.
    kde : numpy.ndarray, shape (months, n), or None
        Kernel-smoothed harm per month (:func:`kde_cell_harm`); None unless asked for.
    type_counts : dict of str to scipy.sparse.csr_matrix, or None
        Each harm type's count per month and cell (:func:`type_grids`); None unless asked for.
    type_weights : dict of str to float, or None
        Mean harm of one event of each type.
    empty_months : list of str
        Months without any located event.
    scheme, unit : str
        The weight scheme's name and unit.
    study_area, dropped, selection : dict
        As ``study_area``, ``dropped`` and the harm view and types of
        :attr:`ForecastCheck.meta`.
    """

    month_labels: list[str]
    coords: NDArray[np.float64]
    harm: NDArray[np.float64]
    harm_events: NDArray[np.float64]
    all_events: NDArray[np.float64]
    kde: NDArray[np.float64] | None
    type_counts: dict[str, sparse.csr_matrix] | None
    type_weights: dict[str, float] | None
    empty_months: list[str]
    scheme: str
    unit: str
    study_area: dict[str, Any] | None
    dropped: dict[str, Any]
    selection: dict[str, Any]


def forecast_grids(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    bandwidth: float | None = None,
    within: Within = AREA,
    min_events: int = 1,
    mask: tuple[Any, Any] | AreaCells | None = None,
    kde: bool = False,
    by_type: bool = False,
    progress: Progress | None = None,
    harm: str = FORECAST_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ForecastGrids:
    """The monthly grids of the study area's cells, read from the warehouse once.

    Parameters are as :func:`validate_forecast`'s; ``kde`` and ``by_type`` ask for the inputs
    of the ``kde`` and ``forecast_harm`` rankings. Exposed so that a ranking outside this
    module (a benchmark's model, say) is scored on exactly the cells and months the check uses.

    Raises
    ------
    WarehouseError
        If no located event matches, or no cell has ``min_events`` events.
    """
    if min_events < 1:
        raise ValueError(f"min_events must be at least 1, got {min_events}")
    if bandwidth is None:
        bandwidth = float(cell_size)
    scheme_obj = load_scheme(scheme)
    view = check_harm(harm)
    types = check_types(types)
    with Warehouse.of(source) as wh:
        events = wh.events()
        if progress:
            progress("aggregate", 0, 2)
        totals = monthly_cell_totals(
            events,
            scheme=scheme_obj,
            cell_size=cell_size,
            months=months,
            month_first=True,
            harm=view,
            attribution=attribution,
            types=types,
        ).to_pandas()
        dropped = dropped_events(
            select_events(events, types=types), scheme_obj, months=months, located=True
        )
        if progress:
            progress("aggregate", 1, 2)
        points = (
            monthly_harm_points(
                events,
                scheme=scheme_obj,
                months=months,
                harm=view,
                attribution=attribution,
                types=types,
            ).to_pandas()
            if kde
            else pd.DataFrame({"month": [], "x": [], "y": [], "harm": []})
        )
        by_type_counts = (
            monthly_type_counts(
                events,
                scheme=scheme_obj,
                cell_size=cell_size,
                months=months,
                harm=view,
                attribution=attribution,
                types=types,
            ).to_pandas()
            if by_type
            else None
        )
        mask, within, area_info = resolve_area(
            events, mask=mask, within=within, cell_size=cell_size
        )
        if progress:
            progress("aggregate", 2, 2)
    if totals.empty:
        span = "" if months is None else f" in {months[0] or '...'} to {months[1] or '...'}"
        kinds = "" if types is None else f" of type {', '.join(types)}"
        raise WarehouseError(f"no located events{kinds}{span}: nothing to check")

    data_months = pd.PeriodIndex(pd.to_datetime(totals["month"]), freq="M")
    first = (
        pd.Period(parse_month(months[0]), freq="M") if months and months[0] else data_months.min()
    )
    last = (
        pd.Period(parse_month(months[1]), freq="M") if months and months[1] else data_months.max()
    )
    month_labels = [str(p) for p in pd.period_range(first, last, freq="M")]
    periods = len(month_labels)
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

    harm_grid = _grid("harm")
    harm_events = _grid("harm_events")
    all_events = harm_events + _grid("activity_events")
    kde_monthly = None
    if kde:
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

    type_counts, type_weights = None, None
    if by_type_counts is not None and not by_type_counts.empty:
        cell_of = pd.MultiIndex.from_arrays([ax, ay]).get_indexer(
            pd.MultiIndex.from_arrays(
                [
                    by_type_counts["cell_x"].astype(np.float64),
                    by_type_counts["cell_y"].astype(np.float64),
                ]
            )
        )
        type_counts, type_weights = type_grids(
            by_type_counts,
            _month_index(by_type_counts["month"], first),
            cell_of,
            periods=periods,
            cells=n,
        )

    month_has_data = np.zeros(periods, dtype=bool)
    month_has_data[np.unique(_month_index(totals["month"], first))] = True
    return ForecastGrids(
        month_labels=month_labels,
        coords=np.column_stack([ax, ay]),
        harm=harm_grid,
        harm_events=harm_events,
        all_events=all_events,
        kde=kde_monthly,
        type_counts=type_counts,
        type_weights=type_weights,
        empty_months=[m for m, has in zip(month_labels, month_has_data, strict=True) if not has],
        scheme=scheme_obj.name,
        unit=scheme_obj.unit,
        study_area=area_info,
        dropped=dropped.to_dict(),
        selection=selection_attrs(view, types),
    )
