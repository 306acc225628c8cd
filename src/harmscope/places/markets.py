"""Candidate drug markets: hot spots of market *activity*, the harm in and around them, curation.

DESIGN §3: drug-market harm is found where **market activity** (drug offences, drug
stop-and-search finds, intelligence) and **harm** coincide — not by counting drug arrests.
This module finds where market activity clusters, turns the clusters into candidate market
footprints, and describes the harm in and around each footprint with the UKDPC harm matrix.

Detection
---------
1. **Market activity** per event (in the engine): events the scheme classes as ``activity``
   that are drug-related —

   - street crimes of a drug type (``'Drugs'``), at their scheme weight;
   - stop-and-searches whose ``object_of_search`` is a drug object (``'Controlled drugs'``),
     at their scheme weight times ``1`` when the search found what it looked for
     (``outcome_linked`` true) and times ``unfound_search_weight`` (default 0) otherwise: a
     search that finds nothing is evidence of police attention, not of a market (it is
     counted as harm from *control* in the matrix instead);
   - intelligence reports when given (``intelligence=``, one unit each unless weighted).

2. Market activity and harm are summed per square BNG cell (``cell_size``) and month. The study
   area is, by default, every cell holding at least one located event of any kind (harm or
   activity; ``within=0``): cells where the force records crime but no market activity count as
   zeros, while cells beyond the force's area (where it records nothing) are not evidence of
   "no market" and are left out. :func:`harmscope.places.hotspots.hotspots` pads 1 km instead;
   on the City of London, padding makes the whole City one "market" against the empty ring
   around it.
3. Gi* (:func:`~harmscope.places.gi_star.gi_star_test`, band ``1.5 * cell_size`` by default: a
   cell and its eight neighbours) on the market activity of the whole period. A cell is a
   **market cell** when its FDR-adjusted p is at most ``alpha`` (default 0.05), its z is
   positive and it holds at least ``min_activity`` of activity itself (default: any), so that
   an empty cell beside a busy one is not called a market.
4. Market cells are merged into footprints: connected components with 8-neighbour
   connectivity (``scipy.ndimage.label`` on the raster of the study area).
5. Each footprint is a **candidate** with a stable id derived from its cells:
   ``mkt-`` + the first 8 hex digits of BLAKE2b over the cell size and the sorted cell corners.
   The same footprint gets the same id on every run, engine and machine.

Description of a market
-----------------------
For the footprint plus a **buffer** (cells any part of which lies strictly within ``buffer``
metres of a footprint cell; default 250 m, i.e. the ring of eight neighbours at 250 m cells):

- ``matrix``: :func:`harmscope.harm.harm_matrix` of the events in those cells (harm and, beside
  it, activity, including searches as harm from control);
- ``harm``: the matrix harm total; ``activity``: market activity in the same cells;
  ``activity_harm_ratio = activity / harm`` (None when harm is 0) — high values are
  "busy but not harmful" places;
- ``monthly``: harm per month (zeros included) and its Mann–Kendall trend
  (:func:`~harmscope.places.emerging.mann_kendall`): ``increasing`` / ``decreasing`` when the
  two-sided p is at most ``alpha_trend`` (0.10), otherwise ``no_trend``;
- ``top_types``: the harm event types contributing most, with value and share.

Curation
--------
Analysts confirm, rename, merge, reject and describe candidates (:func:`decide`). Decisions are
an append-only log in the warehouse table ``market_decisions`` (created here), each with who
and when. :func:`markets` replays the log in time order over the current candidates:

- a decision names a candidate id and stores that candidate's cells; if the id is not among
  today's candidates (the footprint changed with more data or another period) it applies to
  the current candidate overlapping the stored cells most (by area, so other cell sizes work),
  and is ignored if none overlaps;
- ``confirm`` / ``reject`` set the status (the later wins); ``rename`` sets the name;
  ``set`` records a characteristic (:data:`CHARACTERISTICS`);
- ``merge`` joins other candidates into the named one: the result is one market over the union
  of the cells (its harm recomputed, not summed, so overlapping buffers count once), keeping
  the target's id, name, status and characteristics (characteristics only the absorbed ones
  had are kept);
- rejected markets are left out unless ``include_rejected=True``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import ndimage

from harmscope.errors import HarmScopeError, WarehouseError
from harmscope.harm import harm_matrix, load_scheme, parse_month, select_events
from harmscope.harm.matrix import HarmMatrix
from harmscope.harm.taxonomy import Taxonomy
from harmscope.harm.weigh import SchemeLike, weigh_keyed
from harmscope.places.emerging import mann_kendall
from harmscope.places.gi_star import gi_star_test
from harmscope.places.grid import DEFAULT_CELL_SIZE, study_area_cells, values_on_cells, with_cells
from harmscope.places.hotspots import _month_range
from harmscope.places.study_area import AREA, AreaCells, Within, resolve_area
from harmscope.warehouse import connect, ibis_connect

__all__ = [
    "CHARACTERISTICS",
    "DECISIONS_DDL",
    "DRUG_OBJECTS",
    "DRUG_TYPES",
    "MARKET_COLUMNS",
    "Decision",
    "Market",
    "MarketDecisionError",
    "candidate_id",
    "decide",
    "find_market",
    "load_decisions",
    "market_activity",
    "markets",
    "markets_frame",
]

Months = tuple[str | date | None, str | date | None]
Cells = tuple[tuple[float, float], ...]
Progress = Callable[[str, int, int], None]

#: Street crime types that are market activity (when the scheme classes them as activity).
DRUG_TYPES: tuple[str, ...] = ("Drugs",)
#: Stop-and-search ``object_of_search`` values that are market activity.
DRUG_OBJECTS: tuple[str, ...] = ("Controlled drugs",)

DECISIONS_DDL = """CREATE TABLE IF NOT EXISTS market_decisions (
    decision_id BIGINT PRIMARY KEY,
    market_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    key VARCHAR,
    value VARCHAR,
    cells VARCHAR NOT NULL,
    cell_size DOUBLE NOT NULL,
    decided_by VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL
)"""
"""The curation log (append-only). ``action`` is confirm | reject | rename | merge | set;
``key`` the characteristic of a ``set``; ``value`` the new name, the JSON list of absorbed ids
of a ``merge`` or the JSON value of a characteristic; ``cells`` the JSON object
``{market_id: [[cell_x, cell_y], ...]}`` of every candidate the decision names, as detected
when it was made."""

ACTIONS: tuple[str, ...] = ("confirm", "reject", "rename", "merge", "set")

#: Characteristics an analyst can record: key -> allowed values (None: free text; bool: yes/no).
CHARACTERISTICS: dict[str, tuple[str, ...] | type[bool] | None] = {
    "market_type": ("open", "semi_open", "closed"),
    "mode": ("street", "premises", "delivery", "mixed"),
    "near_schools": bool,
    "juveniles_seen": bool,
    "firearms": bool,
    "violence": bool,
    "drugs": None,
    "notes": None,
}

_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


class MarketDecisionError(HarmScopeError, ValueError):
    """A curation decision is impossible: unknown market, key or value, or conflicting actions."""


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class Decision:
    """One entry of the curation log.

    Attributes
    ----------
    decision_id : int
        Order of recording.
    market_id : str
        Candidate the decision is about (for ``merge``, the one that absorbs the others).
    action : {'confirm', 'reject', 'rename', 'merge', 'set'}
    key : str or None
        Characteristic name of a ``set``.
    value : str, bool, list of str or None
        New name (rename), absorbed ids (merge), characteristic value (set).
    cells : dict of str to tuple of (x, y)
        Cells of every named candidate when the decision was made.
    cell_size : float
        Cell size of those cells, metres.
    decided_by : str
    decided_at : datetime
        UTC.
    """

    decision_id: int
    market_id: str
    action: str
    key: str | None
    value: Any
    cells: dict[str, Cells]
    cell_size: float
    decided_by: str
    decided_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (cells left out)."""
        return {
            "decision_id": self.decision_id,
            "market_id": self.market_id,
            "action": self.action,
            "key": self.key,
            "value": self.value,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat(),
        }


@dataclass(frozen=True)
class Market:
    """A candidate (or curated) drug market.

    Attributes
    ----------
    id : str
        Stable id (:func:`candidate_id` of the footprint; for a merge, the target's id).
    name : str or None
        Analyst's name for it.
    status : {'candidate', 'confirmed', 'rejected'}
    cells : tuple of (cell_x, cell_y)
        Footprint cells (lower-left corners, metres), sorted by y then x.
    cell_size : float
        Metres.
    centroid_x, centroid_y : float
        Mean of the footprint cell centres, BNG metres.
    buffer : float
        Buffer distance, metres.
    area_cells : tuple of (cell_x, cell_y)
        Footprint plus buffer cells: where ``matrix``, ``harm`` and ``activity`` are measured.
    harm : float
        Harm total in ``area_cells`` (scheme unit).
    activity : float
        Market activity in ``area_cells`` (scheme unit; intelligence one unit per report).
    footprint_activity : float
        Market activity in the footprint alone.
    activity_harm_ratio : float or None
        ``activity / harm``; None when harm is 0.
    peak_gi_z : float
        Largest Gi* z of market activity in the footprint.
    matrix : HarmMatrix
        Harm matrix of the events in ``area_cells``.
    months : tuple of str
        ``'YYYY-MM'`` of the monthly series.
    monthly_harm : tuple of float
        Harm in ``area_cells`` per month, aligned with ``months``.
    trend : dict
        Mann–Kendall on ``monthly_harm``: ``s``, ``z``, ``p``, ``tau``, ``direction``
        (``increasing`` | ``decreasing`` | ``no_trend``).
    top_types : tuple of dict
        Harm event types, largest first: ``event_type``, ``events``, ``value``, ``share``.
    merged_from : tuple of str
        Candidate ids merged into this market.
    characteristics : dict
        ``{key: {"value": ..., "by": ..., "at": ...}}``.
    decisions : tuple of Decision
        Decisions applied to it, in order.
    unit : str
        Scheme unit.
    """

    id: str
    cells: Cells
    cell_size: float
    centroid_x: float
    centroid_y: float
    buffer: float
    area_cells: Cells
    harm: float
    activity: float
    footprint_activity: float
    activity_harm_ratio: float | None
    peak_gi_z: float
    matrix: HarmMatrix
    months: tuple[str, ...]
    monthly_harm: tuple[float, ...]
    trend: dict[str, Any]
    top_types: tuple[dict[str, Any], ...]
    unit: str
    name: str | None = None
    status: str = "candidate"
    merged_from: tuple[str, ...] = ()
    characteristics: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: tuple[Decision, ...] = ()

    @property
    def label(self) -> str:
        """Name if given, else id."""
        return self.name or self.id

    def flat_summary(self) -> dict[str, Any]:
        """The flat fields a listing or ranking row shows: ``name`` ("" if none), ``status``,
        ``cells`` (footprint size), ``harm``, ``activity``, ``activity_harm_ratio`` and
        ``trend`` (the direction)."""
        return {
            "name": self.name or "",
            "status": self.status,
            "cells": len(self.cells),
            "harm": self.harm,
            "activity": self.activity,
            "activity_harm_ratio": self.activity_harm_ratio,
            "trend": self.trend["direction"],
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "cell_size": self.cell_size,
            "cells": [list(c) for c in self.cells],
            "centroid_x": self.centroid_x,
            "centroid_y": self.centroid_y,
            "buffer": self.buffer,
            "area_cells": len(self.area_cells),
            "unit": self.unit,
            "harm": self.harm,
            "activity": self.activity,
            "footprint_activity": self.footprint_activity,
            "activity_harm_ratio": self.activity_harm_ratio,
            "peak_gi_z": self.peak_gi_z,
            "trend": self.trend,
            "monthly": [
                {"month": m, "harm": h} for m, h in zip(self.months, self.monthly_harm, strict=True)
            ],
            "top_types": [dict(t) for t in self.top_types],
            "matrix": self.matrix.to_dict(),
            "merged_from": list(self.merged_from),
            "characteristics": self.characteristics,
            "decisions": [d.to_dict() for d in self.decisions],
        }


# --------------------------------------------------------------------------- ids and cells


def candidate_id(cells: Sequence[tuple[float, float]], cell_size: float) -> str:
    """Stable id of a footprint: ``mkt-`` + 8 hex digits of BLAKE2b of its cells.

    Examples
    --------
    >>> candidate_id([(530250, 181000), (530000, 181000)], 250)
    'mkt-e64cf39d'
    >>> candidate_id([(530000, 181000), (530250, 181000)], 250.0)
    'mkt-e64cf39d'
    """
    key = f"{float(cell_size):g}|" + ";".join(
        f"{float(x):g},{float(y):g}" for x, y in sorted(cells, key=lambda c: (c[1], c[0]))
    )
    return "mkt-" + hashlib.blake2b(key.encode("ascii"), digest_size=4).hexdigest()


def _sorted_cells(cells: Sequence[tuple[float, float]]) -> Cells:
    return tuple(sorted(((float(x), float(y)) for x, y in cells), key=lambda c: (c[1], c[0])))


def _buffer_cells(cells: Cells, cell_size: float, buffer: float) -> Cells:
    """Footprint plus every cell any part of which lies strictly within ``buffer`` metres."""
    if buffer < 0 or not math.isfinite(buffer):
        raise ValueError(f"buffer must be >= 0 metres, got {buffer!r}")
    if buffer == 0:
        return cells
    xy = np.asarray(cells, dtype=np.float64)
    ix = np.rint(xy[:, 0] / cell_size).astype(np.int64)
    iy = np.rint(xy[:, 1] / cell_size).astype(np.int64)
    r = math.ceil(buffer / cell_size)
    x0, y0 = int(ix.min()) - r, int(iy.min()) - r
    grid = np.zeros((int(iy.max()) - y0 + r + 1, int(ix.max()) - x0 + r + 1), dtype=bool)
    grid[iy - y0, ix - x0] = True
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    gap_x = np.maximum(np.abs(ox) - 1, 0) * cell_size
    gap_y = np.maximum(np.abs(oy) - 1, 0) * cell_size
    disc = np.hypot(gap_x, gap_y) < buffer
    area = ndimage.binary_dilation(grid, structure=disc)
    gy, gx = np.nonzero(area)
    return _sorted_cells(
        list(zip(((gx + x0) * cell_size).tolist(), ((gy + y0) * cell_size).tolist(), strict=True))
    )


def _overlap_area(a: Cells, a_size: float, b: Cells, b_size: float) -> float:
    """Area (m²) shared by two sets of square cells (each set non-overlapping)."""
    if not a or not b:
        return 0.0
    pa = np.asarray(a, dtype=np.float64)
    pb = np.asarray(b, dtype=np.float64)
    dx = np.minimum(pa[:, None, 0] + a_size, pb[None, :, 0] + b_size) - np.maximum(
        pa[:, None, 0], pb[None, :, 0]
    )
    dy = np.minimum(pa[:, None, 1] + a_size, pb[None, :, 1] + b_size) - np.maximum(
        pa[:, None, 1], pb[None, :, 1]
    )
    return float((np.clip(dx, 0, None) * np.clip(dy, 0, None)).sum())


# --------------------------------------------------------------------------- activity


def market_activity(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
    drug_types: Sequence[str] = DRUG_TYPES,
    drug_objects: Sequence[str] = DRUG_OBJECTS,
    unfound_search_weight: float = 0.0,
) -> ir.Table:
    """Weighted, located events with their market activity (an Ibis expression, any engine).

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (needs ``source``, ``event_type``, ``month``, ``x``, ``y``,
        ``object_of_search``, ``outcome_linked``).
    scheme : Scheme, str or path-like, default 'cchi'
    months : (from, to), optional
        Inclusive month bounds.
    drug_types : sequence of str, default ('Drugs',)
        Street crime types that count as market activity (only when the scheme classes them
        as activity).
    drug_objects : sequence of str, default ('Controlled drugs',)
        Stop-and-search objects that count as market activity.
    unfound_search_weight : float, default 0
        Factor on the weight of a drug search whose outcome is not linked to its object
        (nothing found). 1 counts every drug search alike.

    Returns
    -------
    ibis.Table
        Every located, weighted event: ``month``, ``x``, ``y``, ``event_key``, ``kind``,
        ``weight`` and ``market`` (market activity of the event, scheme unit; 0 for events that
        are not market activity).
    """
    if not (math.isfinite(unfound_search_weight) and 0 <= unfound_search_weight <= 1):
        raise ValueError(f"unfound_search_weight must lie in [0, 1], got {unfound_search_weight!r}")
    chosen = select_events(events, months=months)
    w = weigh_keyed(chosen, scheme)
    w = w.filter(w.x.notnull() & w.y.notnull())
    is_activity = w.kind == "activity"
    street_drug = is_activity & w.event_key.isin(list(drug_types))
    drug_search = (
        is_activity
        & (w.event_key == "Stop and search")
        & w.object_of_search.isin(list(drug_objects))
    )
    found = w.outcome_linked.fill_null(False)
    factor = ibis.cases(
        (street_drug, ibis.literal(1.0)),
        (drug_search & found, ibis.literal(1.0)),
        (drug_search, ibis.literal(float(unfound_search_weight))),
        else_=ibis.literal(0.0),
    )
    return w.mutate(market=w.weight * factor).select(
        "month", "x", "y", "event_key", "kind", "weight", "market"
    )


def _intelligence_frame(
    intelligence: pd.DataFrame | None, months: list[date], cell_size: float
) -> pd.DataFrame:
    """Intelligence reports as (cell_x, cell_y, month, market): one unit each unless weighted."""
    cols = ["cell_x", "cell_y", "month", "market"]
    if intelligence is None or intelligence.empty:
        return pd.DataFrame(columns=cols)
    missing = {"month", "x", "y"} - set(intelligence.columns)
    if missing:
        raise ValueError(
            f"intelligence needs columns month, x, y (BNG metres); missing {sorted(missing)}"
        )
    frame = intelligence.dropna(subset=["x", "y"])
    month = frame["month"].map(parse_month)
    keep = month.isin(set(months))
    frame, month = frame[keep], month[keep]
    weight = (
        frame["weight"].astype(float)
        if "weight" in frame.columns
        else pd.Series(1.0, index=frame.index)
    )
    return pd.DataFrame(
        {
            "cell_x": np.floor(frame["x"].to_numpy(dtype=float) / cell_size) * cell_size,
            "cell_y": np.floor(frame["y"].to_numpy(dtype=float) / cell_size) * cell_size,
            "month": month.to_numpy(),
            "market": weight.to_numpy(),
        }
    )


# --------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class _Candidate:
    id: str
    cells: Cells
    peak_z: float


@dataclass
class _State:
    """Curation state of one market while the log is replayed."""

    status: str = "candidate"
    name: str | None = None
    characteristics: dict[str, dict[str, Any]] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)


def _events_source(source: Any) -> tuple[ir.Table, Any, Path | None]:
    if isinstance(source, ir.Table):
        return source, None, None
    if isinstance(source, str | Path):
        backend = ibis_connect(source, read_only=True)
        return backend.table("events"), backend, Path(source)
    if hasattr(source, "table"):
        return source.table("events"), None, None
    raise TypeError(
        "markets() needs an Ibis events table, an Ibis backend holding 'events', "
        f"or a warehouse path; got {type(source).__name__}"
    )


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

    Returns
    -------
    list of Market
        Largest harm first (ties by id).

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
    events, owned, path = _events_source(source)
    try:
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
        )
        cells_t = with_cells(act, cell_size=cell_size)
        is_harm = cells_t.kind == "harm"
        agg = cells_t.group_by(["cell_x", "cell_y", "month"]).aggregate(
            harm=cells_t.weight.sum(where=is_harm).coalesce(0.0),
            market=cells_t.market.sum().coalesce(0.0),
        )
        frame = agg.to_pandas()
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
        month_list = _month_range(lo, hi)
        intel = _intelligence_frame(intelligence, month_list, cell_size)
        if not intel.empty:
            intel = intel.assign(harm=0.0)
            frame = pd.concat([frame, intel[frame.columns]], ignore_index=True)
        found = _detect(
            frame,
            cell_size=cell_size,
            distance=distance,
            within=within,
            alpha=alpha,
            min_activity=min_activity,
            mask=mask,
        )
        if progress:
            progress("detect", 1, 1)
        if decisions is None:
            decisions = load_decisions(path) if path is not None else []
        groups = _replay(found, decisions, float(cell_size))
        out: list[Market] = []
        todo = [g for g in groups if include_rejected or g[2].status != "rejected"]
        for i, (root, members, state) in enumerate(todo):
            if progress:
                progress("describe", i, len(todo))
            out.append(
                _describe(
                    events,
                    frame,
                    root=root,
                    members=members,
                    state=state,
                    scheme=sch,
                    taxonomy=taxonomy,
                    months=months,
                    month_list=month_list,
                    cell_size=cell_size,
                    buffer=buffer,
                    alpha_trend=alpha_trend,
                )
            )
        if progress:
            progress("describe", len(todo), len(todo))
    finally:
        if owned is not None:
            owned.disconnect()
    out.sort(key=lambda m: (-m.harm, m.id))
    return out


def _detect(
    frame: pd.DataFrame,
    *,
    cell_size: float,
    distance: float,
    within: float | None,
    alpha: float,
    min_activity: float,
    mask: tuple[Any, Any] | None = None,
) -> list[_Candidate]:
    """Gi* on market activity per cell, then 8-connected components of the market cells."""
    per_cell = frame.groupby(["cell_x", "cell_y"], as_index=False)[["harm", "market"]].sum()
    if not (per_cell["market"] > 0).any():
        raise WarehouseError(
            "no drug market activity (drug offences, drug search finds, intelligence) in the "
            "period: no markets to detect"
        )
    cx = per_cell["cell_x"].to_numpy(dtype=np.float64)
    cy = per_cell["cell_y"].to_numpy(dtype=np.float64)
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    activity = values_on_cells(
        cx, cy, per_cell["market"].to_numpy(dtype=np.float64), ax, ay, drop_outside=mask is not None
    )
    if not (activity > 0).any():
        raise WarehouseError(
            "no drug market activity inside the study area in the period: no markets to detect"
        )
    gi = gi_star_test(activity, np.column_stack([ax, ay]), distance)
    hot = (gi.p_fdr <= alpha) & (gi.z > 0) & (activity > min_activity)
    if not hot.any():
        return []
    ix = np.rint(ax / cell_size).astype(np.int64)
    iy = np.rint(ay / cell_size).astype(np.int64)
    x0, y0 = int(ix.min()), int(iy.min())
    raster = np.zeros((int(iy.max()) - y0 + 1, int(ix.max()) - x0 + 1), dtype=bool)
    raster[iy[hot] - y0, ix[hot] - x0] = True
    labels, n = ndimage.label(raster, structure=np.ones((3, 3), dtype=bool))
    lab = labels[iy - y0, ix - x0]
    out = []
    for k in range(1, n + 1):
        sel = lab == k
        cells = _sorted_cells(list(zip(ax[sel].tolist(), ay[sel].tolist(), strict=True)))
        out.append(
            _Candidate(
                id=candidate_id(cells, cell_size), cells=cells, peak_z=float(gi.z[sel].max())
            )
        )
    return out


def _resolve(
    market_id: str,
    cells: Mapping[str, Cells],
    cell_size: float,
    candidates: Mapping[str, _Candidate],
    current_size: float,
) -> str | None:
    """Today's candidate a decision about ``market_id`` applies to (exact id, else overlap)."""
    if market_id in candidates:
        return market_id
    stored = cells.get(market_id, ())
    best, best_area = None, 0.0
    for cid in sorted(candidates):
        area = _overlap_area(stored, cell_size, candidates[cid].cells, current_size)
        if area > best_area:
            best, best_area = cid, area
    return best


def _replay(
    found: list[_Candidate], decisions: Sequence[Decision], size: float
) -> list[tuple[_Candidate, list[_Candidate], _State]]:
    """Apply the curation log in order: (root candidate, all members, state) per market."""
    candidates = {c.id: c for c in found}
    parent = {cid: cid for cid in candidates}
    states = {cid: _State() for cid in candidates}

    def root(cid: str) -> str:
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    for d in sorted(decisions, key=lambda d: (d.decided_at, d.decision_id)):
        target = _resolve(d.market_id, d.cells, d.cell_size, candidates, size)
        if target is None:
            continue
        r = root(target)
        st = states[r]
        st.decisions.append(d)
        if d.action == "confirm":
            st.status = "confirmed"
        elif d.action == "reject":
            st.status = "rejected"
        elif d.action == "rename":
            st.name = str(d.value)
        elif d.action == "set" and d.key is not None:
            st.characteristics[d.key] = {
                "value": d.value,
                "by": d.decided_by,
                "at": d.decided_at.isoformat(),
            }
        elif d.action == "merge":
            for other in d.value:
                o = _resolve(str(other), d.cells, d.cell_size, candidates, size)
                if o is None or root(o) == r:
                    continue
                ro = root(o)
                absorbed = states.pop(ro)
                for key, val in absorbed.characteristics.items():
                    st.characteristics.setdefault(key, val)
                st.decisions.extend(absorbed.decisions)
                parent[ro] = r
    groups: dict[str, list[_Candidate]] = {}
    for cid in sorted(candidates):
        groups.setdefault(root(cid), []).append(candidates[cid])
    out = []
    for r, members in groups.items():
        st = states[r]
        st.decisions.sort(key=lambda d: (d.decided_at, d.decision_id))
        out.append((candidates[r], members, st))
    return out


def _describe(
    events: ir.Table,
    frame: pd.DataFrame,
    *,
    root: _Candidate,
    members: list[_Candidate],
    state: _State,
    scheme: Any,
    taxonomy: Taxonomy | str | os.PathLike[str] | None,
    months: Months | None,
    month_list: list[date],
    cell_size: float,
    buffer: float,
    alpha_trend: float,
) -> Market:
    cells = _sorted_cells([c for m in members for c in m.cells])
    area = _buffer_cells(cells, cell_size, buffer)
    area_frame = pd.DataFrame(area, columns=["cell_x", "cell_y"])
    in_area = frame.merge(area_frame, on=["cell_x", "cell_y"], how="inner")
    in_foot = frame.merge(
        pd.DataFrame(cells, columns=["cell_x", "cell_y"]), on=["cell_x", "cell_y"]
    )
    lookup = ibis.memtable(area_frame, schema={"cell_x": "float64", "cell_y": "float64"})
    located = with_cells(
        events.filter(events.x.notnull() & events.y.notnull()), cell_size=cell_size
    )
    chosen = located.semi_join(
        lookup, [located.cell_x == lookup.cell_x, located.cell_y == lookup.cell_y]
    )
    matrix = harm_matrix(
        chosen.drop("cell_x", "cell_y"), scheme=scheme, taxonomy=taxonomy, months=months
    )
    monthly = in_area.groupby("month")["harm"].sum()
    series = np.array([float(monthly.get(m, 0.0)) for m in month_list])
    mk = mann_kendall(series)
    p = float(mk.p)
    s = int(mk.s)
    direction = "no_trend"
    if p <= alpha_trend and s > 0:
        direction = "increasing"
    elif p <= alpha_trend and s < 0:
        direction = "decreasing"
    harm_types = [t for t in matrix.by_event_type if t.kind == "harm" and t.value > 0]
    top = tuple(
        {
            "event_type": t.event_type,
            "events": t.events,
            "value": t.value,
            "share": t.value / matrix.total if matrix.total > 0 else 0.0,
        }
        for t in harm_types[:5]
    )
    activity = float(in_area["market"].sum())
    centres = np.asarray(cells, dtype=np.float64) + cell_size / 2.0
    return Market(
        id=root.id,
        name=state.name,
        status=state.status,
        cells=cells,
        cell_size=float(cell_size),
        centroid_x=float(centres[:, 0].mean()),
        centroid_y=float(centres[:, 1].mean()),
        buffer=float(buffer),
        area_cells=area,
        harm=matrix.total,
        activity=activity,
        footprint_activity=float(in_foot["market"].sum()),
        activity_harm_ratio=activity / matrix.total if matrix.total > 0 else None,
        peak_gi_z=max(m.peak_z for m in members),
        matrix=matrix,
        months=tuple(f"{m:%Y-%m}" for m in month_list),
        monthly_harm=tuple(series.tolist()),
        trend={
            "s": s,
            "z": float(mk.z),
            "p": p,
            "tau": float(mk.tau),
            "direction": direction,
        },
        top_types=top,
        unit=matrix.unit,
        merged_from=tuple(m.id for m in members if m.id != root.id),
        characteristics=dict(state.characteristics),
        decisions=tuple(state.decisions),
    )


# --------------------------------------------------------------------------- curation log


def _has_decisions_table(con: Any) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'market_decisions'"
    ).fetchone()
    return bool(row and row[0])


def _decode_cells(text: str) -> dict[str, Cells]:
    raw = json.loads(text)
    return {str(k): _sorted_cells([(c[0], c[1]) for c in v]) for k, v in raw.items()}


def load_decisions(db: str | Path | None = None) -> list[Decision]:
    """The curation log of a warehouse, oldest first (empty when none was recorded).

    Parameters
    ----------
    db : str or Path, optional
        Warehouse file (default ``$HARMSCOPE_DB`` or ``harmscope.duckdb``).
    """
    con = connect(db, read_only=True)
    try:
        if not _has_decisions_table(con):
            return []
        rows = con.execute(
            "SELECT decision_id, market_id, action, key, value, cells, cell_size, decided_by, "
            "decided_at FROM market_decisions ORDER BY decided_at, decision_id"
        ).fetchall()
    finally:
        con.close()
    out = []
    for did, mid, action, key, value, cells, size, by, at in rows:
        out.append(
            Decision(
                decision_id=int(did),
                market_id=str(mid),
                action=str(action),
                key=key,
                value=json.loads(value) if value is not None else None,
                cells=_decode_cells(cells),
                cell_size=float(size),
                decided_by=str(by),
                decided_at=at.replace(tzinfo=UTC) if at.tzinfo is None else at,
            )
        )
    return out


def _characteristic(key: str, value: Any) -> Any:
    """Validate and normalise one characteristic value."""
    if key not in CHARACTERISTICS:
        raise MarketDecisionError(
            f"unknown market characteristic {key!r} (allowed: {', '.join(CHARACTERISTICS)})"
        )
    allowed = CHARACTERISTICS[key]
    if allowed is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise MarketDecisionError(f"{key}: expected yes or no (true/false), got {value!r}")
    text = str(value).strip()
    if isinstance(allowed, tuple):
        norm = text.lower().replace("-", "_").replace(" ", "_")
        if norm not in allowed:
            raise MarketDecisionError(f"{key}: expected one of {', '.join(allowed)}, got {value!r}")
        return norm
    if not text:
        raise MarketDecisionError(f"{key}: expected non-empty text")
    return text


def decide(
    db: str | Path | None,
    market: Market,
    *,
    confirm: bool = False,
    reject: bool = False,
    rename: str | None = None,
    merge: Sequence[Market] = (),
    characteristics: Mapping[str, Any] | None = None,
    by: str | None = None,
    at: datetime | None = None,
) -> list[Decision]:
    """Record an analyst's decisions about a market (one transaction; appended to the log).

    Parameters
    ----------
    db : str, Path or None
        Warehouse file; ``market_decisions`` is created if missing.
    market : Market
        The market decided about (from :func:`markets`, with ``include_rejected=True`` to
        revisit a rejected one).
    confirm, reject : bool
        Set the status (not both).
    rename : str, optional
        New name (non-empty).
    merge : sequence of Market
        Markets to merge into ``market``.
    characteristics : mapping, optional
        ``{key: value}`` with keys of :data:`CHARACTERISTICS`; booleans accept yes/no,
        true/false, 1/0.
    by : str, optional
        Who decides (default: the login name).
    at : datetime, optional
        When (default: now, UTC).

    Returns
    -------
    list of Decision
        What was recorded, in order.

    Raises
    ------
    MarketDecisionError
        Nothing to record, confirm and reject together, an empty name, merging a market into
        itself, an unknown characteristic or a bad value.
    """
    if confirm and reject:
        raise MarketDecisionError("a market cannot be confirmed and rejected at once")
    if rename is not None and not rename.strip():
        raise MarketDecisionError("a market name cannot be empty")
    if any(m.id == market.id for m in merge):
        raise MarketDecisionError(f"cannot merge market {market.id} into itself")
    chars = {k: _characteristic(k, v) for k, v in (characteristics or {}).items()}
    planned: list[tuple[str, str | None, Any, list[Market]]] = []
    if confirm:
        planned.append(("confirm", None, None, [market]))
    if reject:
        planned.append(("reject", None, None, [market]))
    if rename is not None:
        planned.append(("rename", None, rename.strip(), [market]))
    if merge:
        planned.append(("merge", None, [m.id for m in merge], [market, *merge]))
    for name, setting in chars.items():
        planned.append(("set", name, setting, [market]))
    if not planned:
        raise MarketDecisionError(
            "nothing to record: give confirm, reject, rename, merge or a characteristic"
        )
    who = (by or "").strip() or _login()
    when = (at or datetime.now(UTC)).astimezone(UTC)
    con = connect(db)
    out: list[Decision] = []
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(DECISIONS_DDL)
        row = con.execute("SELECT coalesce(max(decision_id), 0) FROM market_decisions").fetchone()
        next_id = int(row[0]) + 1 if row else 1
        for action, key, value, named in planned:
            cells = {m.id: m.cells for m in named}
            d = Decision(
                decision_id=next_id,
                market_id=market.id,
                action=action,
                key=key,
                value=value,
                cells=cells,
                cell_size=market.cell_size,
                decided_by=who,
                decided_at=when,
            )
            con.execute(
                "INSERT INTO market_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    d.decision_id,
                    d.market_id,
                    d.action,
                    d.key,
                    None if value is None else json.dumps(value),
                    json.dumps({k: [list(c) for c in v] for k, v in cells.items()}),
                    d.cell_size,
                    d.decided_by,
                    when.replace(tzinfo=None),
                ],
            )
            out.append(d)
            next_id += 1
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
    return out


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def find_market(found: Sequence[Market], market_id: str) -> Market:
    """The market with this id (or a merged candidate id, or a name, case-insensitive).

    Raises
    ------
    MarketDecisionError
        Unknown id, listing the ids there are.
    """
    for m in found:
        if m.id == market_id:
            return m
    for m in found:
        if market_id in m.merged_from:
            return m
    wanted = market_id.strip().lower()
    named = [m for m in found if m.name and m.name.lower() == wanted]
    if len(named) == 1:
        return named[0]
    ids = ", ".join(m.id for m in found) or "none"
    raise MarketDecisionError(
        f"no market {market_id!r} with these settings (markets: {ids}); use the same "
        "--from/--to/--cell-size/--scheme as the listing"
    )


MARKET_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "status",
    "cells",
    "centroid_x",
    "centroid_y",
    "harm",
    "activity",
    "activity_harm_ratio",
    "trend",
    "trend_p",
    "top_types",
    "merged_from",
    "characteristics",
)
"""Columns of :func:`markets_frame`."""


def markets_frame(found: Sequence[Market]) -> pd.DataFrame:
    """One flat row per market (for CSV and tables); columns :data:`MARKET_COLUMNS`."""
    rows = []
    for m in found:
        rows.append(
            {
                "id": m.id,
                **m.flat_summary(),
                "centroid_x": round(m.centroid_x, 1),
                "centroid_y": round(m.centroid_y, 1),
                "trend_p": m.trend["p"],
                "top_types": "; ".join(
                    f"{t['event_type']} ({t['share']:.0%})" for t in m.top_types[:3]
                ),
                "merged_from": " ".join(m.merged_from),
                "characteristics": "; ".join(
                    f"{k}={v['value']}" for k, v in sorted(m.characteristics.items())
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(MARKET_COLUMNS))
