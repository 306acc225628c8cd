"""Description of a market: the harm in and around its footprint, and flat listings.

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
- ``top_types``: the harm event types contributing most, with value and share;
- ``harms``: the two matrix cells holding most harm, in the taxonomy's words and with their
  machine keys (:func:`harms_in_words`); :attr:`Market.description` says the top crime
  types and these harms in one line
  (``"Robbery: 45 % of harm; Health harm to individuals, from use: 30 %"``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm.grouped import harm_matrices
from harmscope.harm.matrix import HarmMatrix
from harmscope.harm.selection import DEFAULT_HARM
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.words import cell_key, cell_words, share_words
from harmscope.markets.activity import Months
from harmscope.markets.allocation import Allocation
from harmscope.markets.cells import Cells, sorted_cells
from harmscope.markets.curation import CurationState
from harmscope.markets.detection import Candidate
from harmscope.markets.model import Market
from harmscope.places.emerging import mann_kendall
from harmscope.places.grid import with_cells

__all__ = ["MARKET_COLUMNS", "describe_markets", "harms_in_words", "markets_frame"]


#: Column naming each event's market in the grouped matrix query (not a warehouse column).
_UNIT = "described_market"


def describe_markets(
    events: ir.Table,
    frame: pd.DataFrame,
    groups: Sequence[tuple[Candidate, list[Candidate], CurationState]],
    *,
    shares: Mapping[str, Allocation],
    places: Mapping[str, str],
    scheme: Any,
    taxonomy: Taxonomy | str | os.PathLike[str] | None,
    months: Months | None,
    month_list: list[date],
    cell_size: float,
    buffer: float,
    alpha_trend: float,
    harm: str = DEFAULT_HARM,
    attribution: Any = None,
    types: Collection[str] | None = None,
) -> list[Market]:
    """Describe every market: matrix, harm, activity, monthly trend and top harm types.

    Set-based: one grouped matrix query for all markets
    (:func:`harmscope.harm.grouped.harm_matrices`, the events of each market's held cells)
    and one pandas merge of the per-cell frame for their activity and monthly harm, instead
    of a query and a merge per market.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (the matrix is computed from the events in the held cells).
    frame : DataFrame
        ``cell_x, cell_y, month, harm, market`` per cell and month (scheme unit), as the
        pipeline aggregated it.
    groups : sequence of (Candidate, list of Candidate, CurationState)
        Per market: its own candidate (its id), every candidate merged into it (its
        footprint), and its status, name, characteristics and decisions after the log's
        replay.
    shares : mapping of str to Allocation
        Market id to the cells it holds (:func:`harmscope.markets.allocation.allocate_cells`).
    places : mapping of str to str
        Market id to the readable name of its footprint (missing: ``''``).
    scheme, taxonomy, months
        As :func:`harmscope.harm.harm_matrix`.
    month_list : list of date
        Months of the monthly series (zeros where a month has no harm).
    cell_size, buffer : float
        Metres.
    alpha_trend : float
        Significance of the Mann–Kendall trend.
    harm, attribution, types
        View of harm and crime types of the matrix, as :func:`harmscope.harm.harm_matrix`.

    Returns
    -------
    list of Market
        One per group, in the order of ``groups``.
    """
    if not groups:
        return []
    tax: Taxonomy
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    ids = [root.id for root, _, _ in groups]
    foot = {
        root.id: sorted_cells([c for m in members for c in m.cells]) for root, members, _ in groups
    }
    area = _unit_cells({i: shares[i].area_cells for i in ids})
    lookup = ibis.memtable(area, schema={_UNIT: "string", "cell_x": "float64", "cell_y": "float64"})
    located = with_cells(
        events.filter(events.x.notnull() & events.y.notnull()), cell_size=cell_size
    )
    chosen = located.inner_join(
        lookup, [located.cell_x == lookup.cell_x, located.cell_y == lookup.cell_y]
    ).drop("cell_x", "cell_y")
    matrices = harm_matrices(
        chosen,
        by=_UNIT,
        units=ids,
        scheme=scheme,
        taxonomy=tax,
        months=months,
        harm=harm,
        attribution=attribution,
        types=types,
    )
    in_area = frame.merge(area, on=["cell_x", "cell_y"], how="inner")
    monthly = in_area.groupby([_UNIT, "month"])["harm"].sum()
    activity = in_area.groupby(_UNIT)["market"].sum()
    in_foot = frame.merge(_unit_cells(foot), on=["cell_x", "cell_y"], how="inner")
    foot_activity = in_foot.groupby(_UNIT)["market"].sum()
    per_month = {unit: own.droplevel(0) for unit, own in monthly.groupby(level=0, sort=False)}
    out = []
    for root, members, state in groups:
        own = per_month.get(root.id)
        series = np.array(
            [0.0 if own is None else float(own.get(m, 0.0)) for m in month_list],
            dtype=np.float64,
        )
        out.append(
            _market(
                root,
                members,
                state,
                cells=foot[root.id],
                share=shares[root.id],
                matrix=matrices[root.id],
                series=series,
                activity=float(activity.get(root.id, 0.0)),
                footprint_activity=float(foot_activity.get(root.id, 0.0)),
                taxonomy=tax,
                month_list=month_list,
                cell_size=cell_size,
                buffer=buffer,
                alpha_trend=alpha_trend,
                place=places.get(root.id, ""),
            )
        )
    return out


def _unit_cells(cells: Mapping[str, Sequence[tuple[float, float]]]) -> pd.DataFrame:
    """``described_market, cell_x, cell_y``: one row per market and cell (float64 metres)."""
    rows = [(unit, float(x), float(y)) for unit, held in cells.items() for x, y in held]
    out = pd.DataFrame(rows, columns=[_UNIT, "cell_x", "cell_y"])
    return out.astype({_UNIT: "object", "cell_x": np.float64, "cell_y": np.float64})


def _market(
    root: Candidate,
    members: list[Candidate],
    state: CurationState,
    *,
    cells: Cells,
    share: Allocation,
    matrix: HarmMatrix,
    series: np.ndarray,
    activity: float,
    footprint_activity: float,
    taxonomy: Taxonomy,
    month_list: list[date],
    cell_size: float,
    buffer: float,
    alpha_trend: float,
    place: str,
) -> Market:
    """One market from its matrix, monthly harm series and activity (no query)."""
    mk = mann_kendall(series)
    p = float(mk.p)
    s = int(mk.s)
    direction = "no_trend"
    if p <= alpha_trend and s > 0:
        direction = "increasing"
    elif p <= alpha_trend and s < 0:
        direction = "decreasing"
    # Each type's harm in the matrix's view (drug-attributed or all), so shares add to 1.
    key = "drug" if matrix.harm == "drug" else "harm"
    in_view = sorted(
        (r for r in matrix.by_type_attribution if r[key] > 0),
        key=lambda r: (-r[key], r["event_type"]),
    )
    top = tuple(
        {
            "event_type": r["event_type"],
            "events": r["events"],
            "value": r[key],
            "share": r[key] / matrix.total if matrix.total > 0 else 0.0,
        }
        for r in in_view[:5]
    )
    centres = np.asarray(cells, dtype=np.float64) + cell_size / 2.0
    return Market(
        id=root.id,
        name=state.name,
        place=place,
        status=state.status,
        cells=cells,
        cell_size=float(cell_size),
        centroid_x=float(centres[:, 0].mean()),
        centroid_y=float(centres[:, 1].mean()),
        buffer=float(buffer),
        area_cells=share.area_cells,
        harm=matrix.total,
        activity=activity,
        footprint_activity=footprint_activity,
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
        harms=harms_in_words(matrix, taxonomy),
        unit=matrix.unit,
        merged_from=tuple(m.id for m in members if m.id != root.id),
        split_with=share.split_with,
        ceded_cells=share.ceded_cells,
        characteristics=dict(state.characteristics),
        decisions=tuple(state.decisions),
    )


def harms_in_words(
    matrix: HarmMatrix, taxonomy: Taxonomy | str | os.PathLike[str] | None = None, *, k: int = 2
) -> tuple[dict[str, Any], ...]:
    """The ``k`` matrix cells holding most of a market's harm, in words and as keys.

    Returns
    -------
    tuple of dict
        ``words`` (``"Health harm to individuals, from use"``), ``cell``
        (``"health/individuals/use"``), ``value`` (scheme unit) and ``share`` (of the
        market's harm), largest first (ties by key).
    """
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    cells = [c for c in matrix.cells if float(c["value"]) > 0]
    cells.sort(key=lambda c: (-float(c["value"]), cell_key(c)))
    total = matrix.total
    return tuple(
        {
            "words": cell_words(tax, c),
            "cell": cell_key(c),
            "value": float(c["value"]),
            "share": float(c["value"]) / total if total > 0 else 0.0,
        }
        for c in cells[:k]
    )


MARKET_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "place",
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
    "description",
    "merged_from",
    "split_with",
    "characteristics",
)
"""Columns of :func:`markets_frame`."""


def markets_frame(found: Sequence[Market]) -> pd.DataFrame:
    """One flat row per market (for CSV and tables); columns :data:`MARKET_COLUMNS`.

    ``name`` is the analyst's name, else the place name; ``top_types`` the three crime types
    with most harm (``"Robbery: 45 % of harm"``); ``description`` those types and the two
    matrix cells with most harm in words (:attr:`Market.description`).
    """
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
                    share_words(t["event_type"], t["share"]) for t in m.top_types[:3]
                ),
                "description": m.description,
                "merged_from": " ".join(m.merged_from),
                "characteristics": "; ".join(
                    f"{k}={v['value']}" for k, v in sorted(m.characteristics.items())
                ),
            }
        )
    return pd.DataFrame(rows, columns=list(MARKET_COLUMNS))
