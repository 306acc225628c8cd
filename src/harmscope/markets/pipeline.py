""":func:`markets`: detect candidate drug markets, apply the curation log, split shared cells and
describe each market — the whole pipeline over a warehouse.

Intelligence enters detection as *sites* (:mod:`harmscope.markets.sites`): by default the
force's market list (``records_markets``, non-personal) whenever it was loaded, and the
markets graded reports name when a ``user`` and ``reason`` are given for the audited read of
reports table. Without any site (no force records loaded, or ``sites=()``) detection is
activity alone, as before.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.harm import load_scheme, parse_month
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types
from harmscope.harm.taxonomy import Taxonomy
from harmscope.harm.weigh import AttributionLike, SchemeLike, repeatable_sum
from harmscope.markets.activity import (
    DRUG_OBJECTS,
    DRUG_TYPES,
    Months,
    intelligence_cells,
    market_activity,
)
from harmscope.markets.allocation import Allocation, allocate_cells
from harmscope.markets.cells import Cells, sorted_cells
from harmscope.markets.curation import CurationState, load_decisions, replay
from harmscope.markets.description import describe_markets
from harmscope.markets.detection import Candidate, detect
from harmscope.markets.linked import linked_crimes, linked_totals
from harmscope.markets.model import Decision, Market, MarketSite
from harmscope.markets.sites import (
    MIN_REPORTS,
    known_sites,
    read_reports,
    report_counts,
    reported_sites,
)
from harmscope.periods import Progress, month_range
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.places.names import area_table, unit_names
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area
from harmscope.warehouse.handle import Warehouse

__all__ = ["markets"]


def markets(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    scheme: SchemeLike = "cchi",
    cell_size: float = DEFAULT_CELL_SIZE,
    months: Months | None = None,
    buffer: float = 250.0,
    alpha: float = 0.05,
    alpha_trend: float = 0.10,
    distance: float | None = None,
    within: Within = AREA,
    min_activity: float = 0.0,
    drug_types: Sequence[str] = DRUG_TYPES,
    drug_objects: Sequence[str] = DRUG_OBJECTS,
    unfound_search_weight: float = 0.0,
    intelligence: pd.DataFrame | None = None,
    decisions: Sequence[Decision] | None = None,
    include_rejected: bool = False,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    mask: tuple[Any, Any] | AreaCells | None = None,
    progress: Progress | None = None,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
    sites: Sequence[MarketSite] | None = None,
    reach: float | None = None,
    min_harm_ratio: float = 0.0,
    min_reports: int = MIN_REPORTS,
    user: str | None = None,
    reason: str | None = None,
) -> list[Market]:
    """Detect candidate drug markets and describe the harm in and around each.

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        Warehouse ``events``, a backend holding it, or a warehouse path (decisions are then
        read from its ``market_decisions`` table unless ``decisions`` is given).
    scheme : Scheme, str or path-like, default 'cchi'
    cell_size : float, default 250
        Cell side, metres.
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'``); open ends take the first / last month with data.
    buffer : float, default 250
        Metres around the footprint in which harm is measured (0: the footprint only).
    alpha : float, default 0.05
        FDR level of a market cell.
    alpha_trend : float, default 0.10
        Significance of the Mann–Kendall trend of monthly harm.
    distance : float, optional
        Gi* band, metres (default ``1.5 * cell_size``).
    within : 'area', float or None, default 'area'
        Study area: ``'area'`` is the dataset's one study area
        (:func:`harmscope.places.study_area.dataset_area`, as every places command); a number
        keeps the cells within this distance (metres) of a cell with any located event (0:
        exactly those cells), None the whole bounding box.
    min_activity : float, default 0
        A market cell must hold market activity greater than this itself.
    drug_types, drug_objects, unfound_search_weight
        What counts as market activity (see :func:`market_activity`).
    intelligence : DataFrame, optional
        Intelligence reports with ``month``, ``x``, ``y`` (BNG metres) and optional ``weight``;
        each adds its weight (default 1) to market activity.
    decisions : sequence of Decision, optional
        Curation log to apply; default: the warehouse's when ``source`` is a path, else none.
    include_rejected : bool, default False
        Keep markets an analyst rejected.
    taxonomy : Taxonomy or path, optional
        Harm taxonomy of the matrices.
    mask : (cell_x, cell_y), optional
        Explicit study-area cells (e.g. from
        :func:`harmscope.places.study_area.study_area_mask`); overrides ``within``. Market
        activity in other cells is left out of detection, so every footprint lies inside; the
        harm in a footprint's buffer is measured wherever it falls.
    progress : callable, optional
        ``progress(stage, done, total)``; stages ``'aggregate'``, ``'detect'``, ``'describe'``.
    harm : {'drug', 'all'}, default 'drug'
        View of the harm in and around each market: drug-attributed (default) or every
        crime's (``Market.matrix.view_label`` names it). Market activity is counted, so
        detection does not depend on it.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Crime types whose harm is measured (police.uk names, any case); detection still uses
        all market activity (see :func:`market_activity`).
    sites : sequence of MarketSite, optional
        Markets located by intelligence, each a candidate of its own
        (:func:`~harmscope.markets.detection.detect`, steps 6-8). Default: the warehouse's
        known markets (``records_markets``) and, with ``user`` and ``reason``, the markets
        graded reports name; ``()`` detects from activity alone.
    reach : float, optional
        With sites: metres a footprint reaches from its site or peak cell (default
        ``cell_size``: the cell and its eight neighbours).
    min_harm_ratio : float, default 0
        With sites: an unexplained hot spot is kept only when its footprint's mean harm per
        cell is at least this times the study area's mean per cell with harm.
    min_reports : int, default 3
        Graded reports (assessment 1-3) that make a market named in them a site.
    user, reason : str, optional
        Who reads the force's personal records and why (``read_personal``, audited): the
        graded reports naming markets, and the crime-person links and nominal index that
        give each market its linked harm (:mod:`harmscope.markets.linked`). Without both,
        neither is read.

    Returns
    -------
    list of Market
        Largest :attr:`Market.score` first (the linked harm when links were read, else the
        harm; ties by id).

    Raises
    ------
    WarehouseError
        No located event, or no market activity, in the period.
    ValueError
        Bad months, buffer or weights.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    if distance is None:
        distance = 1.5 * cell_size
    if buffer < 0 or not math.isfinite(buffer):
        raise ValueError(f"buffer must be >= 0 metres, got {buffer!r}")
    sch = load_scheme(scheme)
    harm = check_harm(harm)
    types = check_types(types)
    # Decisions are read from the warehouse file when one was named (not from a caller's table).
    path = source if isinstance(source, str | Path) else None  # str: a URL stays whole
    reports = None
    links = None
    if (user or "").strip() and (reason or "").strip():
        # Before the read-only handle opens: the audit row needs a writable connection.
        if sites is None:
            reports = read_reports(source, user=str(user), reason=str(reason))
        links = linked_crimes(source, user=str(user), reason=str(reason))
    with Warehouse.of(source) as wh:
        events = wh.events()
        # The dataset's one study area (places/study_area.py), unless cells are given.
        mask, within, _ = resolve_area(events, mask=mask, within=within, cell_size=cell_size)
        if progress:
            progress("aggregate", 0, 1)
        act = market_activity(
            events,
            scheme=sch,
            months=months,
            drug_types=drug_types,
            drug_objects=drug_objects,
            unfound_search_weight=unfound_search_weight,
            harm=harm,
            attribution=attribution,
            types=types,
        )
        cells_t = with_cells(act, cell_size=cell_size)
        is_harm = cells_t.kind == "harm"
        agg = cells_t.group_by(["cell_x", "cell_y", "month"]).aggregate(
            harm=repeatable_sum(cells_t.weight, where=is_harm).coalesce(0.0),
            market=cells_t.market.sum().coalesce(0.0),
        )
        frame = agg.to_pandas()
        anchor = _anchor(
            events,
            scheme=sch,
            cell_size=float(cell_size),
            drug_types=drug_types,
            drug_objects=drug_objects,
            unfound_search_weight=unfound_search_weight,
        )
        if progress:
            progress("aggregate", 1, 1)
        if frame.empty:
            span = "" if months is None else f" in {months[0] or '...'} to {months[1] or '...'}"
            raise WarehouseError(f"no located events{span}: no markets to detect")
        frame["month"] = pd.to_datetime(frame["month"]).dt.date
        frame["cell_x"] = frame["cell_x"].astype(np.float64)
        frame["cell_y"] = frame["cell_y"].astype(np.float64)
        lo = parse_month(months[0]) if months and months[0] is not None else min(frame["month"])
        hi = parse_month(months[1]) if months and months[1] is not None else max(frame["month"])
        month_list = month_range(lo, hi)
        intel = intelligence_cells(intelligence, month_list, cell_size)
        if not intel.empty:
            intel = intel.assign(harm=0.0)
            frame = pd.concat([frame, intel[frame.columns]], ignore_index=True)
        if sites is None:
            sites = known_sites(wh, cell_size=float(cell_size))
            if reports is not None and not reports.empty:
                counts = report_counts(
                    reports, exclude=[s.id for s in sites], min_reports=min_reports
                )
                if not counts.empty:
                    sites = [
                        *sites,
                        *reported_sites(
                            counts,
                            _cell_lsoas(events, act, cell_size=float(cell_size)),
                            placed=sites,
                            reach=float(cell_size if reach is None else reach),
                        ),
                    ]
        found = detect(
            frame,
            cell_size=cell_size,
            distance=distance,
            within=within,
            alpha=alpha,
            min_activity=min_activity,
            mask=mask,
            anchor=anchor,
            sites=sites,
            reach=reach,
            min_harm_ratio=min_harm_ratio,
        )
        evidence = {c.id: c.evidence for c in found}
        force_ids = {c.id: c.sites for c in found}
        linked = None if links is None else linked_totals(events, links, scheme=sch, months=months)
        if progress:
            progress("detect", 1, 1)
        if decisions is None:
            decisions = load_decisions(path) if path is not None else []
        groups = replay(found, decisions, float(cell_size))
        out: list[Market] = []
        todo = [g for g in groups if include_rejected or g[2].status != "rejected"]
        shares = _split(todo, frame, cell_size=float(cell_size), buffer=buffer)
        places = _place_names(todo, events, cell_size=float(cell_size), areas=area_table(wh))
        if progress:
            progress("describe", 0, len(todo))
        described = describe_markets(
            events,
            frame,
            todo,
            shares=shares,
            places=places,
            scheme=sch,
            taxonomy=taxonomy,
            months=months,
            month_list=month_list,
            cell_size=cell_size,
            buffer=buffer,
            alpha_trend=alpha_trend,
            harm=harm,
            attribution=attribution,
            types=types,
        )
        for (_, members, _), market in zip(todo, described, strict=True):
            said = tuple(dict.fromkeys(e for m in members for e in evidence.get(m.id, ())))
            ids = tuple(dict.fromkeys(i for m in members for i in force_ids.get(m.id, ())))
            own, n = None, None
            if linked is not None:
                mine = linked.reindex(list(ids)).fillna(0)
                own, n = float(mine["harm"].sum()), int(mine["crimes"].sum())
            out.append(
                dataclasses.replace(
                    market, evidence=said, force_ids=ids, linked_harm=own, linked_crimes=n
                )
            )
        if progress:
            progress("describe", len(todo), len(todo))
    out.sort(key=lambda m: (-m.score, m.id))
    return out


def _split(
    groups: Sequence[tuple[Candidate, list[Candidate], CurationState]],
    frame: pd.DataFrame,
    *,
    cell_size: float,
    buffer: float,
) -> dict[str, Allocation]:
    """Split the cells that several markets' footprints plus buffers reach (one owner each)."""
    per_cell = frame.groupby(["cell_x", "cell_y"])["market"].sum()
    footprints: dict[str, Cells] = {}
    tiers: dict[str, int] = {}
    for root, members, state in groups:
        footprints[root.id] = sorted_cells([c for m in members for c in m.cells])
        tiers[root.id] = 1 if state.status == "rejected" else 0
    # Every footprint's activity in one look-up; each footprint's sum over its own run of
    # cells, NaN as 0 like Series.sum (same values, same order: the same float).
    every = [c for cells in footprints.values() for c in cells]
    looked = per_cell.reindex(pd.MultiIndex.from_tuples(every)) if every else per_cell.iloc[:0]
    values = looked.fillna(0.0).to_numpy(dtype=np.float64)
    ends = np.cumsum([len(cells) for cells in footprints.values()], dtype=np.int64)
    strength = {
        key: float(values[end - len(cells) : end].sum())
        for (key, cells), end in zip(footprints.items(), ends, strict=True)
    }
    return allocate_cells(footprints, cell_size, buffer, strength=strength, tiers=tiers)


def _place_names(
    groups: Sequence[tuple[Candidate, list[Candidate], CurationState]],
    events: ir.Table,
    *,
    cell_size: float,
    areas: ir.Table | None,
) -> dict[str, str]:
    """Readable name of each market from the records in its footprint (its core cells)."""
    units = pd.DataFrame(
        [(root.id, x, y) for root, members, _ in groups for m in members for x, y in m.cells],
        columns=["unit_id", "cell_x", "cell_y"],
    )
    if units.empty:
        return {}
    named = unit_names(events, units, cell_size=cell_size, areas=areas)
    return dict(zip(named["unit_id"], named["name"], strict=True))


def _anchor(
    events: ir.Table,
    *,
    scheme: Any,
    cell_size: float,
    drug_types: Sequence[str],
    drug_objects: Sequence[str],
    unfound_search_weight: float,
) -> pd.Series:
    """Market activity per cell over every month the warehouse holds (picks market ids).

    The query period is left out on purpose: a market's id is read from its busiest cell of
    all time, so asking about another period does not rename it.
    """
    act = market_activity(
        events,
        scheme=scheme,
        months=None,
        drug_types=drug_types,
        drug_objects=drug_objects,
        unfound_search_weight=unfound_search_weight,
    )
    cells = with_cells(act, cell_size=cell_size)
    per = cells.group_by(["cell_x", "cell_y"]).aggregate(market=cells.market.sum().coalesce(0.0))
    frame = per.to_pandas()
    index = pd.MultiIndex.from_arrays(
        [frame["cell_x"].astype(np.float64), frame["cell_y"].astype(np.float64)]
    )
    return pd.Series(frame["market"].to_numpy(dtype=np.float64), index=index)


def _cell_lsoas(events: ir.Table, act: ir.Table, *, cell_size: float) -> pd.DataFrame:
    """Per cell: the LSOA most of its located records fall in, its market activity and records.

    Where a market named in reports is placed (:func:`~harmscope.markets.sites.reported_sites`).
    """
    located = with_cells(
        events.filter(events.x.notnull() & events.y.notnull()), cell_size=cell_size
    )
    lsoa = (
        located.group_by(["cell_x", "cell_y", "lsoa_code"]).aggregate(n=located.count()).to_pandas()
    )
    lsoa = lsoa.sort_values(["n", "lsoa_code"]).drop_duplicates(["cell_x", "cell_y"], keep="last")
    per = with_cells(act, cell_size=cell_size)
    activity = (
        per.group_by(["cell_x", "cell_y"])
        .aggregate(market=per.market.sum().coalesce(0.0), records=per.count())
        .to_pandas()
    )
    out = lsoa.drop(columns="n").merge(activity, on=["cell_x", "cell_y"], how="left")
    out["cell_x"] = out["cell_x"].astype(np.float64)
    out["cell_y"] = out["cell_y"].astype(np.float64)
    return out.fillna({"market": 0.0, "records": 0})
