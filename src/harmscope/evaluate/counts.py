"""The count query of an evaluation: events per area role, month and event type.

:func:`area_counts` pulls event counts per area, month and event type from the warehouse
(one Ibis query over plain columns; polygons matched with shapely on the aggregated
locations). :func:`searches_loaded` says whether the warehouse can answer stop-and-search
counts at all; months it does not cover are refused, never read as zero.

References
----------
Gillies, S. et al. Shapely: manipulation and analysis of geometric objects
(``shapely.contains_xy``). https://shapely.readthedocs.io
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.evaluate.areas import AreaSpec, area_mask
from harmscope.evaluate.spec import Intervention, Role, resolve_areas
from harmscope.harm import Dropped, load_scheme, select_events, weigh
from harmscope.places.study_area import lsoa_geometry
from harmscope.warehouse.handle import Warehouse

__all__ = ["COUNT_COLUMNS", "area_counts", "searches_loaded"]

COUNT_COLUMNS = ("role", "month", "event_type", "kind", "weight", "count")


# ---------------------------------------------------------------------- counts ------------
def _prefilter(table: ir.Table, areas: Mapping[Role, AreaSpec]) -> ir.Table:
    """Engine-side filter to rows that can be in any area (bounding boxes, LSOA lists)."""
    conds = []
    for spec in areas.values():
        if spec.kind == "all":
            return table
        if spec.kind == "lsoas":
            conds.append(table.lsoa_code.isin(list(spec.lsoas)))
        else:
            minx, miny, maxx, maxy = spec.polygon().bounds
            conds.append(table.x.between(minx, maxx) & table.y.between(miny, maxy))
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    return table.filter(cond)


def area_counts(
    intervention: Intervention,
    *,
    db: str | Path | None = None,
    con: Any = None,
    events: ir.Table | None = None,
) -> pd.DataFrame:
    """Event counts per area role, month and event type, from the warehouse.

    Parameters
    ----------
    intervention : Intervention
        Areas, periods and scheme.
    db : str or Path, optional
        Warehouse DuckDB file (default ``$HARMSCOPE_DB`` or ``harmscope.duckdb``).
    con : ibis backend, optional
        An open Ibis connection (used instead of ``db``).
    events : ibis.Table, optional
        The events table itself (used instead of ``db``/``con``).

    Returns
    -------
    pandas.DataFrame
        ``role`` (target/buffer/control), ``month`` (``YYYY-MM``), ``event_type`` (the scheme
        key: stop-and-search rows are ``Stop and search``), ``kind`` (harm/activity),
        ``weight`` (scheme unit per event, in the intervention's view of harm: drug-attributed
        by default) and ``count``; only ``intervention.types`` when given. Street crimes and ASB are harm
        or activity as the scheme says; stop-and-searches are activity; outcome rows are not
        counted. Each event is counted once, in the first of target, buffer, control that
        contains it. Months from ``baseline_start`` (or the pre start) to the post end.

    Raises
    ------
    WarehouseError
        The warehouse has no events in those months.
    """
    if events is not None and con is None and db is None:
        return _counts(intervention, events, None)
    with Warehouse.of(con if con is not None else db) as wh:
        return _counts(intervention, wh.events() if events is None else events, wh.backend)


def _counts(intervention: Intervention, events: ir.Table, con: Any) -> pd.DataFrame:
    """:func:`area_counts` on a resolved events table (``con``: its warehouse, or None)."""
    if any(a.kind == "lad" for a in intervention.areas.values()):
        if con is None:
            raise ValueError("a lad: area needs the warehouse's areas table (give db or con)")
        intervention = resolve_areas(intervention, con)
    areas = dict(intervention.areas)
    ring = areas.get("buffer")
    if ring is not None and ring.kind == "ring":
        if con is None:
            raise ValueError("a ring around LSOAs needs the warehouse (give db or con)")
        outline = lsoa_geometry(con, intervention.target.lsoas)
        areas["buffer"] = ring.resolve_ring(intervention.target, outline=outline)
    months = intervention.series_months
    _require_months(events, intervention)
    first = pd.Period(months[0], freq="M").to_timestamp().date()
    last = pd.Period(months[-1], freq="M").to_timestamp().date()
    ev = events.filter(
        (events.month >= first)
        & (events.month <= last)
        & events.source.isin(["street", "stop_search"])
    )
    ev = select_events(_prefilter(ev, areas), types=intervention.types)
    # Unknown types are kept to be counted as dropped; harm types' weights are in the
    # intervention's view (drug-attributed by default), counts are not.
    w = weigh(ev, intervention.scheme, harm=intervention.harm, keep_unknown=True)
    needs_xy = any(a.kind in ("cells", "polygons") for a in areas.values())
    keys = ["lsoa_code", "month", "event_type", "kind", "weight"] + (["x", "y"] if needs_xy else [])
    agg = w.group_by(keys).aggregate(count=w.count()).execute()
    if agg.empty:
        kinds = "" if intervention.types is None else f" of type {', '.join(intervention.types)}"
        raise WarehouseError(
            f"no street or stop-and-search events{kinds} between {months[0]} and {months[-1]} "
            "in these areas; check the periods and that the months are ingested"
        )
    n = len(agg)
    x = agg["x"].to_numpy(dtype=float) if needs_xy else np.full(n, np.nan)
    y = agg["y"].to_numpy(dtype=float) if needs_xy else np.full(n, np.nan)
    lsoa = agg["lsoa_code"].to_numpy(dtype=object)
    role = np.full(n, None, dtype=object)
    for name, spec in areas.items():
        inside = area_mask(spec, x=x, y=y, lsoa=lsoa) & (role == None)  # noqa: E711
        role[inside] = name
    agg["role"] = role
    agg = agg[agg["role"].notna()]
    unknown = agg[agg["kind"].isna()].groupby("event_type", dropna=False)["count"].sum()
    dropped = Dropped.of(load_scheme(intervention.scheme).name, unknown.items())
    agg = agg[agg["kind"].notna()]
    agg["month"] = pd.to_datetime(agg["month"]).dt.strftime("%Y-%m")
    out = (
        agg.groupby(["role", "month", "event_type", "kind", "weight"], as_index=False)["count"]
        .sum()
        .astype({"count": "int64", "weight": "float64"})
    )
    out = out[list(COUNT_COLUMNS)].sort_values(["role", "month", "event_type"])
    out = out.reset_index(drop=True)
    out.attrs["dropped"] = dropped.to_dict()
    return out


def _month_list(events: ir.Table, source: str, iv: Intervention) -> set[str]:
    first = pd.Period(iv.series_months[0], freq="M").to_timestamp().date()
    last = pd.Period(iv.series_months[-1], freq="M").to_timestamp().date()
    sel = events.filter(
        (events.source == source) & (events.month >= first) & (events.month <= last)
    )
    got = sel.select("month").distinct().execute()["month"]
    return set(pd.to_datetime(got).dt.strftime("%Y-%m"))


def _require_months(events: ir.Table, iv: Intervention) -> None:
    """Refuse periods the warehouse does not cover: a month with no street record at all is
    a month not loaded, not a month without crime."""
    have = _month_list(events, "street", iv)
    wanted = iv.pre.months + iv.post.months
    missing = [m for m in wanted if m not in have]
    if missing:
        span = events.filter(events.source == "street").aggregate(
            lo=events.month.min(), hi=events.month.max()
        )
        row = span.execute().iloc[0]
        held = (
            "no street records at all"
            if pd.isna(row["lo"])
            else f"street records for {pd.Timestamp(row['lo']):%Y-%m} to "
            f"{pd.Timestamp(row['hi']):%Y-%m}"
        )
        shown = ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")
        raise WarehouseError(
            f"no answer from no data: the warehouse has no street records for {shown} "
            f"(it holds {held}); ingest those months or change --pre/--post"
        )


def searches_loaded(events: ir.Table, intervention: Intervention) -> bool:
    """Whether the events hold stop-and-search records in every pre and post month.

    Parameters
    ----------
    events : ibis.Table
        The warehouse ``events`` table.
    intervention : Intervention

    Returns
    -------
    bool
        False when some month of the periods has no search record at all (e.g. a force whose
        stop-and-search files were not loaded): its search counts are then "no data".
    """
    have = _month_list(events, "stop_search", intervention)
    return all(m in have for m in intervention.pre.months + intervention.post.months)
