"""The places and markets lens checks: their rankings, both baselines and the truth of one city.

Registered with :func:`~harmscope.checks.rankings.register_lens_check` on import (the package
``harmscope.checks`` imports this module), so ``validate-priorities`` scores them as any lens.

Rankings
--------
``places`` (250 m cells, or a multiple)
    lens: :func:`~harmscope.priorities.places.rank_places` under the harm scheme (``cchi``),
    every crime's harm (``harm='all'``: the truth is every crime's harm);
    counting: the same under the ``count`` scheme (each recorded crime or ASB incident one);
    busyness: cells by **police activity** (:func:`police_activity`): drug and weapon
    offences (found by police), stop-and-searches and arrests, each one; ties by counting.
``markets``
    lens: :func:`harmscope.markets.markets` (detection from activity, harm and intelligence:
    the force's market list and, read under audit, graded reports) ranked by harm
    (:func:`~harmscope.priorities.markets.ranked_markets`); counting: detection and ranking
    under the ``count`` scheme; busyness: the lens's markets ranked by police activity in
    their area (footprint plus buffer); ties by id.

Truth and matching as :mod:`harmscope.checks.priorities` describes them (cells by id; a
detected market finds a true market whose cell lies in its footprint plus buffer, one-to-one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from harmscope.checks.priorities import (
    AUDIT_REASON,
    AUDIT_USER,
    TRUTH_CELL_SIZE,
    read_truth,
    true_market_ranking,
    true_place_ranking,
)
from harmscope.checks.rankings import Rankings, register_lens_check
from harmscope.harm import load_scheme
from harmscope.markets import Market, markets
from harmscope.places.grid import with_cells
from harmscope.places.study_area import dataset_area
from harmscope.priorities.markets import ranked_markets
from harmscope.priorities.places import place_id, rank_places
from harmscope.sources.records.formats import FORMATS
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = [
    "POLICE_TYPES",
    "area_matcher",
    "market_rankings",
    "place_rankings",
    "police_activity",
]

#: Street crime types police mostly find themselves (DESIGN §3: activity, not harm).
POLICE_TYPES: tuple[str, ...] = ("Drugs", "Possession of weapons")


def police_activity(
    warehouse: str | Path, *, cell_size: float, user: str = AUDIT_USER, reason: str = AUDIT_REASON
) -> pd.Series:
    """Police activity per cell: drug and weapon offences, stop-and-searches and arrests.

    Each counts one. Arrests (the force's arrests file, read through
    :func:`~harmscope.warehouse.personal.read_personal`) are placed at the street crime they
    are linked to (``crime_id``); arrests with no linked, located crime are left out. Without
    force records the arrests are simply absent.

    Returns
    -------
    Series
        Activity by ``(cell_x, cell_y)`` (float64 corners, metres), cells with any.
    """
    arrests = pd.DataFrame(columns=["crime_id"])
    with Warehouse.of(warehouse, read_only=False) as wh:
        if wh.has(FORMATS["arrests"].table):
            arrests = read_personal(
                wh, FORMATS["arrests"].table, user=user, reason=reason, columns=["crime_id"]
            )
    with Warehouse.of(warehouse) as wh:
        ev = wh.events()
        located = ev.filter(ev.x.notnull() & ev.y.notnull())
        police = located.filter(
            (located.source == "stop_search")
            | ((located.source == "street") & located.event_type.isin(list(POLICE_TYPES)))
        )
        cells = with_cells(police, cell_size=cell_size)
        per = cells.group_by(["cell_x", "cell_y"]).aggregate(n=cells.count()).to_pandas()
        ids = [str(c) for c in arrests["crime_id"].dropna().unique()]
        if ids:
            crimes = located.filter((located.source == "street") & located.crime_id.isin(ids))
            crimes = with_cells(crimes.select("crime_id", "x", "y"), cell_size=cell_size)
            placed = crimes.to_pandas().drop_duplicates("crime_id")
            counts = arrests["crime_id"].dropna().astype(str).value_counts()
            placed["n"] = placed["crime_id"].map(counts).fillna(0).astype(np.float64)
            per = pd.concat([per, placed[["cell_x", "cell_y", "n"]]], ignore_index=True)
    per["cell_x"] = per["cell_x"].astype(np.float64)
    per["cell_y"] = per["cell_y"].astype(np.float64)
    out = per.groupby(["cell_x", "cell_y"])["n"].sum().astype(np.float64)
    return out[out > 0]


def _records_loaded(warehouse: str | Path) -> bool:
    with Warehouse.of(warehouse) as wh:
        return wh.has(FORMATS["reports"].table)


def place_rankings(
    simdir: str | Path,
    warehouse: str | Path,
    *,
    scheme: str = "cchi",
    baseline_scheme: str = "count",
    cell_size: float = TRUTH_CELL_SIZE,
    **_: Any,
) -> Rankings:
    """The places check (module docstring)."""
    truth = true_place_ranking(read_truth(Path(simdir))["places"], cell_size=cell_size)
    area = dataset_area(warehouse, cell_size=cell_size)
    # The truth is every crime's harm (and counting counts every record): harm='all'.
    # The truth is the period's own harm, so the period's harm ranks (score_by="harm"), not
    # the board's forecast of the next period (docs/forecast.md).
    lens = rank_places(
        warehouse, scheme=scheme, cell_size=cell_size, mask=area, harm="all", score_by="harm"
    )
    count = rank_places(
        warehouse,
        scheme=baseline_scheme,
        cell_size=cell_size,
        mask=area,
        harm="all",
        score_by="harm",
    )
    inside = {(float(x), float(y)) for x, y in zip(area.cell_x, area.cell_y, strict=True)}
    busy = police_activity(warehouse, cell_size=cell_size)
    busy = busy[[xy in inside for xy in busy.index]]
    order = pd.DataFrame(
        {
            "unit_id": [place_id(x, y, cell_size) for x, y in busy.index],
            "activity": busy.to_numpy(),
        }
    )
    tie = {u: i for i, u in enumerate(count["unit_id"])}
    order["tie"] = order["unit_id"].map(tie).fillna(len(tie)).astype(np.int64)
    order = order.sort_values(["activity", "tie", "unit_id"], ascending=[False, True, True])
    return Rankings(
        lens="places",
        predicted=[str(u) for u in lens["unit_id"]],
        counting=[str(u) for u in count["unit_id"]],
        busyness=order["unit_id"].astype(str).tolist(),
        truth=pd.Series(truth["true_harm"].to_numpy(), index=truth["unit_id"].astype(str)),
        notes={
            "scheme": load_scheme(scheme).name,
            "baseline_scheme": load_scheme(baseline_scheme).name,
            "busyness": "drug and weapon offences, stop-and-searches and arrests per cell",
            "matching": f"same {cell_size:g} m cell (lower-left BNG corner)",
            "options": {"cell_size": cell_size, "significance": "none", "harm": "all"},
        },
    )


def area_matcher(
    areas: dict[str, Sequence[tuple[float, float]]], cells: dict[str, tuple[float, float]]
) -> Any:
    """A matcher locating true markets (``cells``: id to cell) in detected ``areas``.

    The returned ``matcher(predicted, truth)`` pairs each detected market with at most one
    true market whose cell lies in its area, a maximum one-to-one matching; among the largest
    matchings it prefers true markets listed earlier (the scorer lists them by harm).
    """

    def matcher(predicted: Sequence[str], truth: Sequence[str]) -> list[tuple[str, str]]:
        if not predicted or not truth:
            return []
        sets = [{(float(x), float(y)) for x, y in areas.get(p, ())} for p in predicted]
        n = len(truth)
        # weight 1 per hit plus a tie-break under 1/n in total: size first, then harm order
        bonus = np.array([(n - j) / (n * n + 1.0) for j in range(n)])
        hit = np.array([[cells.get(t) in s for t in truth] for s in sets], dtype=bool)
        weight = np.where(hit, 1.0 + bonus[None, :] / max(len(predicted), 1), 0.0)
        rows, cols = linear_sum_assignment(weight, maximize=True)
        return [
            (str(predicted[r]), str(truth[c]))
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
            if hit[r, c]
        ]

    return matcher


def _by_activity(found: Sequence[Market], busy: pd.Series) -> list[str]:
    rows = []
    for m in found:
        if m.status == "rejected":
            continue
        keys = pd.MultiIndex.from_tuples([(float(x), float(y)) for x, y in m.area_cells])
        rows.append((m.id, float(busy.reindex(keys).fillna(0.0).sum())))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return [r[0] for r in rows]


def market_rankings(
    simdir: str | Path,
    warehouse: str | Path,
    *,
    scheme: str = "cchi",
    baseline_scheme: str = "count",
    cell_size: float = TRUTH_CELL_SIZE,
    buffer: float = 250.0,
    market_match: str = "area",
    user: str = AUDIT_USER,
    reason: str = AUDIT_REASON,
    **_: Any,
) -> Rankings:
    """The markets check (module docstring)."""
    tables = read_truth(Path(simdir))
    truth = true_market_ranking(tables["markets"], tables["market_month"], cell_size=cell_size)
    area = dataset_area(warehouse, cell_size=cell_size)
    who = {"user": user, "reason": reason} if _records_loaded(warehouse) else {}
    options: dict[str, Any] = {
        "cell_size": cell_size,
        "buffer": buffer,
        "mask": area,
        "harm": "all",
        **who,
    }
    found = markets(warehouse, scheme=scheme, **options)
    counted = markets(warehouse, scheme=baseline_scheme, **options)
    areas: dict[str, Sequence[tuple[float, float]]] = {}
    for m in [*counted, *found]:  # the lens's own footprint wins on a shared id
        areas[m.id] = m.area_cells if market_match == "area" else m.cells
    busy = police_activity(warehouse, cell_size=cell_size, user=user, reason=reason)
    cells = {
        str(m): (float(x), float(y))
        for m, x, y in zip(truth["market_id"], truth["cell_x"], truth["cell_y"], strict=True)
    }
    where = "footprint + buffer" if market_match == "area" else "footprint"
    sources = sorted({e.split(" ")[0] for m in found for e in m.evidence})
    return Rankings(
        lens="markets",
        predicted=[str(u) for u in ranked_markets(found)["unit_id"]],
        counting=[str(u) for u in ranked_markets(counted)["unit_id"]],
        busyness=_by_activity(found, busy),
        truth=pd.Series(truth["true_harm"].to_numpy(), index=truth["market_id"].astype(str)),
        matcher=area_matcher(areas, cells),
        notes={
            "scheme": load_scheme(scheme).name,
            "baseline_scheme": load_scheme(baseline_scheme).name,
            "busyness": "the lens's markets by police activity in their footprint + buffer",
            "matching": (
                f"true market whose cell lies in a detected market's {where} ({buffer:g} m "
                "buffer), by maximum one-to-one matching"
            ),
            "detected": len(found),
            "intelligence": bool(who),
            "evidence_kinds": sources,
            "options": {"cell_size": cell_size, "buffer": buffer, "market_match": market_match},
        },
    )


register_lens_check("places", place_rankings)
register_lens_check("markets", market_rankings)
