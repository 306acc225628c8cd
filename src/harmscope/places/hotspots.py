"""Harm-weighted hot spots of the warehouse events: one row per grid cell (DESIGN §5).

Pipeline (the first three steps are one Ibis expression, run in the engine):

1. select the events of the requested months (:func:`harmscope.harm.select_events`);
2. weigh them with a scheme (:func:`harmscope.harm.weigh`): each event is ``harm`` or
   ``activity``; outcome rows and unknown types are left out;
3. assign located events to square BNG cells (:func:`harmscope.places.grid.with_cells`) and
   aggregate harm, activity and event counts per cell;
4. in numpy: take the dataset's study area (:func:`harmscope.places.study_area.dataset_area`:
   the force's own LSOAs as cells, strays left out; or a given ``mask``), put harm on it with
   explicit zeros, and run Gi* with an inclusive distance band
   (:func:`harmscope.places.gi_star.gi_star_test`), p-values FDR-adjusted over the study area.

Activity (drug offences, weapons possession, stop-and-search under the ``cchi`` scheme) is
reported beside harm and never added to it; Gi* is computed on harm only.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.harm import dropped_events, harm_and_activity, parse_month, select_events, weigh
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types, selection_attrs
from harmscope.harm.weigh import AttributionLike, SchemeLike
from harmscope.periods import Months, Progress, month_range, progress_stage
from harmscope.places.emerging import EMERGING_CATEGORIES, emerging_hot_spots
from harmscope.places.gi_star import gi_star_test
from harmscope.places.grid import DEFAULT_CELL_SIZE, study_area_cells, values_on_cells, with_cells
from harmscope.places.names import area_table, cell_names, name_cells
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "EMERGING_COLUMNS",
    "HOTSPOT_COLUMNS",
    "Progress",
    "cell_totals",
    "emerging_cells",
    "grouped_cell_totals",
    "hotspots",
    "monthly_cell_totals",
]

HOTSPOT_COLUMNS: tuple[str, ...] = (
    "cell_x",
    "cell_y",
    "name",
    "harm",
    "gi_z",
    "p_fdr",
    "category",
    "p",
    "gi_bin",
    "neighbours",
    "activity",
    "harm_events",
    "activity_events",
)
"""Columns of :func:`hotspots`; the first seven are the DESIGN §5 contract."""


def cell_totals(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm and activity per grid cell, as an Ibis expression (any engine).

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (needs ``event_type``, ``month``, ``x``, ``y``; ``source`` used).
    scheme : Scheme, str or path-like, default 'cchi'
        Weight scheme, or its name or TOML path.
    cell_size : float, default 250
        Cell side, metres (EPSG:27700).
    months : (from, to), optional
        Inclusive month bounds, ``'YYYY-MM'`` or dates; either end may be None.
    harm : {'drug', 'all'}, default 'drug'
        View of harm (any case): drug-attributed (each harm event's weight times its type's
        central drug-attributable share) or every crime's harm.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view (packaged default when None).
    types : collection of str, optional
        Only these crime types (police.uk names, any case; unknown names refused).

    Returns
    -------
    ibis.Table
        ``cell_x``, ``cell_y`` (lower-left corner, metres), ``harm`` (sum of weights, scheme
        unit, e.g. days), ``activity`` (police activity events, counted), ``harm_events`` and
        ``activity_events`` (counts).
        Events without a location are left out.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> events = ibis.memtable({
    ...     "source": ["street"] * 3,
    ...     "event_type": ["Robbery", "Robbery", "Drugs"],
    ...     "month": pd.to_datetime(["2020-01-01"] * 3).date,
    ...     "x": [100.0, 120.0, 1_010.0],
    ...     "y": [100.0, 130.0, 1_020.0],
    ... })
    >>> t = cell_totals(events, harm="all").order_by("cell_x")
    >>> ibis.duckdb.connect().execute(t).values.tolist()
    [[0.0, 0.0, 730.0, 0.0, 2.0, 0.0], [1000.0, 1000.0, 0.0, 1.0, 0.0, 1.0]]

    The default view keeps the drug-attributed share of each robbery (central 0.45):

    >>> ibis.duckdb.connect().execute(cell_totals(events).order_by("cell_x"))["harm"].tolist()
    [328.5, 0.0]
    """
    return grouped_cell_totals(
        events,
        scheme=scheme,
        cell_size=cell_size,
        months=months,
        by=["cell_x", "cell_y"],
        harm=harm,
        attribution=attribution,
        types=types,
    )


def hotspots(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    distance: float | None = None,
    within: Within = AREA,
    mask: tuple[Any, Any] | AreaCells | None = None,
    progress: Progress | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> pd.DataFrame:
    """Harm-weighted Gi* hot spots on a square grid: one row per study-area cell.

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        The warehouse ``events`` table, a backend holding it, or a warehouse file path.
    scheme : Scheme, str or path-like, default 'cchi'
        Weight scheme (``'count'`` gives the "busyness" baseline).
    cell_size : float, default 250
        Cell side, metres.
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'``); None for all months.
    distance : float, optional
        Gi* distance band, metres, inclusive. Default ``1.5 * cell_size``: a cell and its
        eight neighbours.
    within : 'area', float or None, default 'area'
        Study area. ``'area'``: the dataset's one study area
        (:func:`harmscope.places.study_area.dataset_area`: the force's own LSOAs, strays left
        out), the same for every places command. A number: the cells within that many metres
        of a cell with any event; None: their full bounding box.
    mask : (cell_x, cell_y) or AreaCells, optional
        Explicit study-area cells (e.g. a ``--area``); overrides ``within``. Events in cells
        outside the mask are left out.
    progress : callable, optional
        ``progress(stage, done, total)`` with stages ``'aggregate'``, ``'gi_star'``.
    harm : {'drug', 'all'}, default 'drug'
        View of harm (any case): drug-attributed (each harm event's weight times its type's
        central drug-attributable share) or every crime's harm.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view (packaged default when None).
    types : collection of str, optional
        Only these crime types (police.uk names, any case; unknown names refused).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`HOTSPOT_COLUMNS`: ``cell_x``, ``cell_y`` (lower-left corner, metres),
        ``name`` (:func:`harmscope.places.names.cell_names`; ``""`` for a cell with no record),
        ``harm`` (scheme unit), ``gi_z``, ``p_fdr`` (Benjamini–Hochberg), ``category``
        (``hot_99`` … ``cold_99``, see :data:`~harmscope.places.gi_star.CATEGORIES`), then
        ``p`` (two-sided), ``gi_bin`` (−3…3), ``neighbours`` (cells in the band, itself
        included), ``activity``, ``harm_events``, ``activity_events``. Sorted by ``gi_z``
        descending, then ``cell_y``, ``cell_x``. ``attrs`` records ``scheme``, ``cell_size``,
        ``distance``, ``months``, ``cells``, ``dropped`` (located events of types the scheme
        does not weigh, :meth:`harmscope.harm.Dropped.to_dict`) and ``study_area`` (the area's
        label, cells and strays left out,
        :meth:`~harmscope.places.study_area.AreaCells.to_dict`; None for explicit cells),
        ``harm_view``, ``harm_label`` and ``types``
        (:func:`~harmscope.harm.selection.selection_attrs`).

    Raises
    ------
    WarehouseError
        If no located event matches the request.
    harmscope.errors.SchemeError
        If the scheme cannot be loaded.

    Examples
    --------
    Two robberies (365 days each under ``cchi``) in one 250 m cell, a shoplifting (1 day) and a
    drug offence (activity, 3.39) in another, 1 km away; with ``within=None`` the study area is
    the 5 x 5 cells of their bounding box, and the robbery cell is the hottest:

    >>> import ibis, pandas as pd
    >>> events = ibis.memtable({
    ...     "source": ["street"] * 4,
    ...     "event_type": ["Robbery", "Robbery", "Shoplifting", "Drugs"],
    ...     "month": pd.to_datetime(["2020-01-01"] * 4).date,
    ...     "x": [100.0, 120.0, 1_000.0, 1_010.0],
    ...     "y": [100.0, 130.0, 1_000.0, 1_020.0],
    ... })
    >>> out = hotspots(events, within=None, harm="all")
    >>> out.attrs["cells"], out[["cell_x", "cell_y", "harm", "gi_z"]].iloc[0].round(3).tolist()
    (25, [0.0, 0.0, 730.0, 2.291])

    By default the study area is the dataset's (:func:`~harmscope.places.study_area.dataset_area`);
    these events name no LSOA, so it is the two cells holding them:

    >>> hotspots(events, harm="all")[["cell_x", "cell_y", "harm", "activity"]].values.tolist()
    [[0.0, 0.0, 730.0, 0.0], [1000.0, 1000.0, 1.0, 1.0]]
    """
    if distance is None:
        distance = 1.5 * cell_size
    view = check_harm(harm)
    types = check_types(types)
    with Warehouse.of(source) as wh:
        events = wh.events()
        if progress:
            progress("aggregate", 0, 1)
        totals = cell_totals(
            events,
            scheme=scheme,
            cell_size=cell_size,
            months=months,
            harm=view,
            attribution=attribution,
            types=types,
        )
        frame = totals.to_pandas()
        # Counted on the same selection, so "left out" describes the types asked for.
        dropped = dropped_events(
            select_events(events, types=types), scheme, months=months, located=True
        )
        mask, within, area_info = resolve_area(
            events, mask=mask, within=within, cell_size=cell_size
        )
        names = cell_names(events, cell_size=cell_size, areas=area_table(wh))
        if progress:
            progress("aggregate", 1, 1)
    if frame.empty:
        span = "" if months is None else f" in {months[0] or '...'} to {months[1] or '...'}"
        kinds = "" if types is None else f" of type {', '.join(types)}"
        raise WarehouseError(f"no located events{kinds}{span}: nothing to map")
    if progress:
        progress("gi_star", 0, 1)
    cx = frame["cell_x"].to_numpy(dtype=np.float64)
    cy = frame["cell_y"].to_numpy(dtype=np.float64)
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    columns = ["harm", "activity", "harm_events", "activity_events"]
    stacked = values_on_cells(
        cx, cy, frame[columns].to_numpy(dtype=np.float64).T, ax, ay, drop_outside=mask is not None
    )
    harm = stacked[0]
    gi = gi_star_test(harm, np.column_stack([ax, ay]), distance)
    integer_cells = float(cell_size).is_integer()
    out = pd.DataFrame(
        {
            "cell_x": ax.astype(np.int64) if integer_cells else ax,
            "cell_y": ay.astype(np.int64) if integer_cells else ay,
            "harm": harm,
            "gi_z": gi.z,
            "p_fdr": gi.p_fdr,
            "category": gi.category,
            "p": gi.p,
            "gi_bin": gi.gi_bin,
            "neighbours": gi.cardinality,
            "activity": stacked[1],
            "harm_events": stacked[2].astype(np.int64),
            "activity_events": stacked[3].astype(np.int64),
        }
    )
    out = (
        name_cells(out, names)
        .sort_values(["gi_z", "cell_y", "cell_x"], ascending=[False, True, True], kind="stable")
        .reset_index(drop=True)
    )
    out.attrs.update(
        {
            "scheme": getattr(scheme, "name", str(scheme)),
            "cell_size": cell_size,
            "distance": float(distance),
            "months": None if months is None else tuple(str(m) for m in months),
            "cells": int(ax.size),
            "dropped": dropped.to_dict(),
            "study_area": area_info,
            **selection_attrs(view, types),
        }
    )
    if progress:
        progress("gi_star", 1, 1)
    return out


EMERGING_COLUMNS: tuple[str, ...] = (
    "cell_x",
    "cell_y",
    "name",
    "category",
    "harm",
    "hot_periods",
    "cold_periods",
    "periods",
    "trend_z",
    "trend_p",
    "trend_tau",
    "final_gi_z",
    "events",
)
"""Columns of :func:`emerging_cells`."""


def monthly_cell_totals(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    month_first: bool = False,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm, activity and event counts per grid cell and month (Ibis expression, any engine).

    Like :func:`cell_totals` with ``month`` (DATE, first of the month) added to the grouping.

    Parameters
    ----------
    month_first : bool
        Put ``month`` before ``cell_x, cell_y`` (the forecast harness's order) instead of
        after them.
    harm, attribution, types
        View of harm and crime types, as :func:`cell_totals`.

    Returns
    -------
    ibis.Table
        ``cell_x``, ``cell_y``, ``month`` (or ``month`` first), ``harm`` (sum of weights),
        ``activity`` (police activity events, counted), ``harm_events``, ``activity_events``
        (counts). Unlocated events are left out.
    """
    by = ["month", "cell_x", "cell_y"] if month_first else ["cell_x", "cell_y", "month"]
    return grouped_cell_totals(
        events,
        scheme=scheme,
        cell_size=cell_size,
        months=months,
        by=by,
        harm=harm,
        attribution=attribution,
        types=types,
    )


def grouped_cell_totals(
    events: ir.Table,
    *,
    scheme: SchemeLike,
    cell_size: float,
    months: Months | None,
    by: list[str],
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm, activity and their event counts of the located events, grouped by ``by`` (Ibis).

    ``by`` names the grouping columns (``cell_x``, ``cell_y``, optionally ``month``); they come
    first in the result, in that order. ``harm``, ``attribution`` and ``types`` as
    :func:`cell_totals`.
    """
    chosen = select_events(events, months=months, types=check_types(types))
    w = weigh(chosen, scheme, harm=check_harm(harm), attribution=attribution)
    w = w.filter(w.x.notnull() & w.y.notnull())
    cells = with_cells(w, cell_size=cell_size)
    return cells.group_by(by).aggregate(**harm_and_activity(cells))


def emerging_cells(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    distance: float | None = None,
    within: Within = AREA,
    alpha: float = 0.10,
    alpha_trend: float = 0.10,
    mask: tuple[Any, Any] | AreaCells | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Emerging hot spot category of every study-area cell from its monthly harm.

    Monthly harm per cell (:func:`monthly_cell_totals`, zeros for months without events, every
    month from the first to the last bound or month with data) goes to
    :func:`harmscope.places.emerging.emerging_hot_spots` on the study area of :func:`hotspots`
    (the dataset's area by default, ``within`` metres, or exactly the ``mask`` cells, e.g.
    from :func:`harmscope.places.study_area.study_area_mask`; events in other cells are left
    out). ``harm``, ``attribution`` and ``types`` choose the view of harm and the crime
    types, as :func:`hotspots`. ``attrs`` hold ``cells``, ``study_area``, ``harm_view``,
    ``harm_label`` and ``types`` as in :func:`hotspots`. ``progress``
    (``progress(stage, done, total)``) hears the stages ``'aggregate'``, ``'months'`` (one
    unit per month of the period) and ``'gi_star'`` (Gi* per month and the trend test).

    Returns
    -------
    pandas.DataFrame
        :data:`EMERGING_COLUMNS`: ``cell_x``, ``cell_y``, ``name``, ``category``, ``harm`` (period total),
        ``hot_periods``, ``cold_periods``, ``periods``, Mann–Kendall ``trend_z``, ``trend_p``,
        ``trend_tau`` of the Gi* z series, ``final_gi_z`` and ``events`` (located events of
        the period, harm and activity, counted). Sorted by category (in
        :data:`~harmscope.places.emerging.EMERGING_CATEGORIES` order), then harm descending.

    Raises
    ------
    WarehouseError
        No located event, or fewer than two months.
    """
    if distance is None:
        distance = 1.5 * cell_size
    harm = check_harm(harm)
    types = check_types(types)
    with Warehouse.of(source) as wh, progress_stage(progress, "aggregate"):
        events = wh.events()
        frame = monthly_cell_totals(
            events,
            scheme=scheme,
            cell_size=cell_size,
            months=months,
            harm=harm,
            attribution=attribution,
            types=types,
        ).to_pandas()
        dropped = dropped_events(
            select_events(events, types=types), scheme, months=months, located=True
        )
        mask, within, area_info = resolve_area(
            events, mask=mask, within=within, cell_size=cell_size
        )
        names = cell_names(events, cell_size=cell_size, areas=area_table(wh))
    if frame.empty:
        kinds = "" if types is None else f" of type {', '.join(types)}"
        raise WarehouseError(f"no located events{kinds} in the period: nothing to analyse")
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    lo = parse_month(months[0]) if months and months[0] is not None else min(frame["month"])
    hi = parse_month(months[1]) if months and months[1] is not None else max(frame["month"])
    periods = month_range(lo, hi)
    if len(periods) < 2:
        raise WarehouseError(
            f"emerging hot spots need at least two months; the period has {len(periods)}"
        )
    cx = frame["cell_x"].to_numpy(dtype=np.float64)
    cy = frame["cell_y"].to_numpy(dtype=np.float64)
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    position = {m: i for i, m in enumerate(periods)}
    values = np.zeros((len(periods), ax.size), dtype=np.float64)
    with progress_stage(progress, "months", len(periods)) as advance:
        for month, part in frame.groupby("month"):
            values[position[month]] = values_on_cells(
                part["cell_x"].to_numpy(dtype=np.float64),
                part["cell_y"].to_numpy(dtype=np.float64),
                part["harm"].to_numpy(dtype=np.float64),
                ax,
                ay,
                drop_outside=mask is not None,
            )
            advance(position[month] + 1)
    with progress_stage(progress, "gi_star"):
        ehs = emerging_hot_spots(
            values, np.column_stack([ax, ay]), distance, alpha=alpha, alpha_trend=alpha_trend
        )
    # Events (harm and activity) per cell over the period: which cells a sparse output lists.
    per_cell = frame.groupby(["cell_x", "cell_y"], as_index=False)[
        ["harm_events", "activity_events"]
    ].sum()
    events_in = values_on_cells(
        per_cell["cell_x"].to_numpy(dtype=np.float64),
        per_cell["cell_y"].to_numpy(dtype=np.float64),
        (per_cell["harm_events"] + per_cell["activity_events"]).to_numpy(dtype=np.float64),
        ax,
        ay,
        drop_outside=mask is not None,
    )
    ehs = emerging_hot_spots(
        values, np.column_stack([ax, ay]), distance, alpha=alpha, alpha_trend=alpha_trend
    )
    integer_cells = float(cell_size).is_integer()
    out = pd.DataFrame(
        {
            "cell_x": ax.astype(np.int64) if integer_cells else ax,
            "cell_y": ay.astype(np.int64) if integer_cells else ay,
            "category": ehs.category.astype(str),
            "harm": values.sum(axis=0),
            "hot_periods": ehs.hot_periods,
            "cold_periods": ehs.cold_periods,
            "periods": len(periods),
            "trend_z": ehs.trend.z,
            "trend_p": ehs.trend.p,
            "trend_tau": ehs.trend.tau,
            "final_gi_z": ehs.gi.z[-1],
            "events": events_in.astype(np.int64),
        }
    )
    out = name_cells(out, names)
    order = {c: i for i, c in enumerate(EMERGING_CATEGORIES)}
    out["_order"] = out["category"].map(order)
    out = (
        out.sort_values(["_order", "harm", "cell_y", "cell_x"], ascending=[True, False, True, True])
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    out.attrs.update(
        {
            "scheme": getattr(scheme, "name", str(scheme)),
            "cell_size": cell_size,
            "distance": float(distance),
            "months": (f"{lo:%Y-%m}", f"{hi:%Y-%m}"),
            "dropped": dropped.to_dict(),
            "cells": int(ax.size),
            "study_area": area_info,
            **selection_attrs(harm, types),
        }
    )
    return out
