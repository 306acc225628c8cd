"""A kernel-density harm surface: harm smoothed over the study area's grid cells.

Each located harm event's weight (its scheme's harm, e.g. days of imprisonment) is spread as
an isotropic Gaussian of standard deviation ``bandwidth`` around its police.uk map point, and
each cell receives the part of it that falls inside the cell: the KDE integrated per cell of
the forecast checks (:func:`harmscope.places.forecast_rankers.kde_cell_harm`), reused here,
not re-implemented. Summed over cells covering every point's neighbourhood it gives back the
total harm (harm is conserved), so a cell's value reads as "smoothed harm in this cell" in the
scheme's unit over the period.

The cells are the one study area every places command uses
(:func:`harmscope.places.study_area.resolve_area`); events outside it (strays) are left out,
and the part of a kernel that falls outside the study area is not drawn (edge effect: cells
on the area's border read low by at most half their harm when the bandwidth is large).
Activity (drug offences, stop and search) is not harm and is not smoothed.

References
----------
.. [1] Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*.
   Chapman & Hall.
.. [2] Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping for
   predicting spatial patterns of crime. *Security Journal* 21, 4–28 (KDE for crime maps).
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
from harmscope.harm import dropped_events, select_events, weigh
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types, selection_attrs
from harmscope.harm.weigh import AttributionLike, SchemeLike, repeatable_sum
from harmscope.periods import Months, Progress
from harmscope.places.forecast_rankers import kde_cell_harm
from harmscope.places.grid import DEFAULT_CELL_SIZE, study_area_cells
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area
from harmscope.warehouse.handle import Warehouse

__all__ = ["SURFACE_COLUMNS", "harm_points", "harm_surface"]

SURFACE_COLUMNS: tuple[str, ...] = ("cell_x", "cell_y", "kde_harm", "harm", "harm_events")
"""Columns of :func:`harm_surface`."""


def harm_points(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm and harm events at each distinct located point of the period (Ibis, any engine).

    police.uk snaps every record to one of a fixed set of anonymous map points, so this table
    is far smaller than the events.

    Returns
    -------
    ibis.Table
        ``x``, ``y`` (metres, EPSG:27700), ``harm`` (sum of harm weights, scheme unit, in
        the ``harm`` view) and ``harm_events`` (count).
    """
    chosen = select_events(events, months=months, types=types)
    w = weigh(chosen, scheme, harm=harm, attribution=attribution)
    w = w.filter(w.x.notnull() & w.y.notnull() & (w.kind == "harm"))
    return w.group_by(["x", "y"]).aggregate(harm=repeatable_sum(w.weight), harm_events=w.count())


def harm_surface(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    bandwidth: float | None = None,
    months: Months | None = None,
    within: Within = AREA,
    mask: tuple[Any, Any] | AreaCells | None = None,
    progress: Progress | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> pd.DataFrame:
    """Kernel-smoothed harm in every study-area cell.

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        The warehouse ``events`` table, a backend holding it, or a warehouse file.
    scheme : Scheme, str or path-like, default 'cchi'
        Weight scheme.
    cell_size : float, default 250
        Cell side, metres.
    bandwidth : float, optional
        Kernel standard deviation, metres; default ``cell_size``.
    months : (from, to), optional
        Inclusive ``'YYYY-MM'`` bounds.
    within, mask
        The study area, as in :func:`harmscope.places.hotspots.hotspots`.
    progress : callable, optional
        ``progress(stage, done, total)``, stages ``'aggregate'`` and ``'kde'``.
    harm, attribution, types
        View of harm (``'drug'``: drug-attributed, the default; ``'all'``), attributable
        fractions and crime types, as :func:`harmscope.places.hotspots.hotspots`.

    Returns
    -------
    pandas.DataFrame
        :data:`SURFACE_COLUMNS`, one row per study-area cell: ``cell_x``, ``cell_y``
        (lower-left corner, metres), ``kde_harm`` (smoothed harm in the cell, scheme unit),
        ``harm`` and ``harm_events`` (what fell in the cell itself). Sorted by ``kde_harm``
        descending, then ``cell_y``, ``cell_x``. ``attrs``: ``scheme``, ``unit``,
        ``cell_size``, ``bandwidth``, ``months``, ``cells``, ``study_area``, ``dropped``
        (located events of types the scheme does not weigh), ``harm_view``, ``harm_label``
        and ``types``.

    Raises
    ------
    WarehouseError
        No located harm event in the period.

    Examples
    --------
    Two robberies (365 days each under ``cchi``, all crime harm) at one point, on a study area of 3 x 3 cells
    of 100 m (``mask``: their lower-left corners) around it: the middle cell holds :math:`(2\\Phi(1) - 1)^2` of 730 days with a 50 m
    bandwidth, and the nine cells hold :math:`(2\\Phi(3) - 1)^2` (99.5 %) of it:

    >>> import ibis, pandas as pd
    >>> events = ibis.memtable({
    ...     "source": ["street"] * 2, "event_type": ["Robbery"] * 2,
    ...     "month": pd.to_datetime(["2020-01-01"] * 2).date,
    ...     "x": [150.0, 150.0], "y": [150.0, 150.0],
    ... })
    >>> corners = [(x, y) for y in (0, 100, 200) for x in (0, 100, 200)]
    >>> mask = ([x for x, _ in corners], [y for _, y in corners])
    >>> out = harm_surface(events, cell_size=100, bandwidth=50, mask=mask, harm="all")
    >>> round(float(out["kde_harm"].iloc[0]), 2), len(out), round(float(out["kde_harm"].sum()))
    (340.23, 9, 726)
    """
    from harmscope.harm import load_scheme

    scheme_obj = load_scheme(scheme)
    harm = check_harm(harm)
    types = check_types(types)
    if bandwidth is None:
        bandwidth = cell_size
    with Warehouse.of(source) as wh:
        events = wh.events()
        if progress:
            progress("aggregate", 0, 1)
        points = harm_points(
            events,
            scheme=scheme_obj,
            months=months,
            harm=harm,
            attribution=attribution,
            types=types,
        ).to_pandas()
        dropped = dropped_events(
            select_events(events, types=types), scheme_obj, months=months, located=True
        )
        mask, within, area_info = resolve_area(
            events, mask=mask, within=within, cell_size=cell_size
        )
        if progress:
            progress("aggregate", 1, 1)
    if points.empty:
        span = "" if months is None else f" in {months[0] or '...'} to {months[1] or '...'}"
        raise WarehouseError(f"no located harm events{span}: no surface to draw")
    px = points["x"].to_numpy(dtype=np.float64)
    py = points["y"].to_numpy(dtype=np.float64)
    # The cell of each point, as the grid names it (floor to a multiple of the cell size).
    cx = np.floor(px / cell_size) * cell_size
    cy = np.floor(py / cell_size) * cell_size
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    where = pd.MultiIndex.from_arrays([ax, ay]).get_indexer(pd.MultiIndex.from_arrays([cx, cy]))
    inside = where >= 0  # strays outside the study area are left out, as by every places command
    weights = points["harm"].to_numpy(dtype=np.float64)
    if progress:
        progress("kde", 0, 1)
    kde = kde_cell_harm(
        ax,
        ay,
        px[inside],
        py[inside],
        weights[inside],
        cell_size=cell_size,
        bandwidth=bandwidth,
    )
    own = np.bincount(where[inside], weights=weights[inside], minlength=ax.size)
    counted = np.bincount(
        where[inside],
        weights=points["harm_events"].to_numpy(dtype=np.float64)[inside],
        minlength=ax.size,
    )
    integer_cells = float(cell_size).is_integer()
    out = pd.DataFrame(
        {
            "cell_x": ax.astype(np.int64) if integer_cells else ax,
            "cell_y": ay.astype(np.int64) if integer_cells else ay,
            "kde_harm": kde,
            "harm": own,
            "harm_events": counted.astype(np.int64),
        }
    )
    out = out.sort_values(
        ["kde_harm", "cell_y", "cell_x"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    out.attrs.update(
        {
            "scheme": scheme_obj.name,
            "unit": scheme_obj.unit,
            "cell_size": float(cell_size),
            "bandwidth": float(bandwidth),
            "months": None if months is None else tuple(str(m) for m in months),
            "cells": int(ax.size),
            "study_area": area_info,
            "dropped": dropped.to_dict(),
            **selection_attrs(harm, types),
        }
    )
    if progress:
        progress("kde", 1, 1)
    return out
