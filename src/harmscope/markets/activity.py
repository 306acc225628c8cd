"""Market activity: which events (and intelligence reports) are evidence of a drug market.

**Market activity** per event (in the engine): events the scheme classes as ``activity``
that are drug-related —

- street crimes of a drug type (``'Drugs'``), one each (activity is counted in events, never
  weighed in days: DESIGN §2, :func:`harmscope.harm.harm_and_activity`);
- stop-and-searches whose ``object_of_search`` is a drug object (``'Controlled drugs'``),
  ``1`` each when the search found what it looked for (``outcome_linked`` true) and
  ``unfound_search_weight`` (default 0) otherwise: a search that finds nothing
  is evidence of police attention, not of a market (it is counted as harm from *control* in the
  matrix instead);
- intelligence reports when given (``intelligence=``, one unit each unless weighted).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm import parse_month, select_events
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types
from harmscope.harm.weigh import AttributionLike, SchemeLike, event_key, weigh
from harmscope.periods import Months

__all__ = ["DRUG_OBJECTS", "DRUG_TYPES", "Months", "intelligence_cells", "market_activity"]

#: Inclusive ``(from, to)`` month bounds (``'YYYY-MM'``, a date, or None for open).

#: Street crime types that are market activity (when the scheme classes them as activity).
DRUG_TYPES: tuple[str, ...] = ("Drugs",)

#: Stop-and-search ``object_of_search`` values that are market activity.
DRUG_OBJECTS: tuple[str, ...] = ("Controlled drugs",)


def market_activity(
    events: ir.Table,
    *,
    scheme: SchemeLike = "cchi",
    months: Months | None = None,
    drug_types: Sequence[str] = DRUG_TYPES,
    drug_objects: Sequence[str] = DRUG_OBJECTS,
    unfound_search_weight: float = 0.0,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
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
        What a drug search whose outcome is not linked to its object (nothing found) counts
        for. 1 counts every drug search alike.
    harm : {'drug', 'all'}, default 'drug'
        View of the harm rows' ``weight``: drug-attributed (default) or every crime's.
        Activity is counted, so market activity is the same in both views.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Crime types whose *harm* is kept (police.uk names, any case). Market activity is
        evidence of the market whatever types are asked for, so its rows are always kept:
        ``--type 'Violence and sexual offences'`` finds the same markets and measures the
        violence in and around them.

    Returns
    -------
    ibis.Table
        Every located, weighted event: ``month``, ``x``, ``y``, ``event_key``, ``kind``,
        ``weight`` and ``market`` (market activity of the event, in events: 1, or
        ``unfound_search_weight`` for a drug search that found nothing; 0 for events that are
        not market activity).
    """
    if not (math.isfinite(unfound_search_weight) and 0 <= unfound_search_weight <= 1):
        raise ValueError(f"unfound_search_weight must lie in [0, 1], got {unfound_search_weight!r}")
    chosen = select_events(events, months=months)
    chosen = chosen.mutate(event_key=event_key(chosen))
    w = weigh(chosen, scheme, harm=check_harm(harm), attribution=attribution)
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
    out = w.mutate(market=factor).select("month", "x", "y", "event_key", "kind", "weight", "market")
    wanted = check_types(types)
    if wanted is None:
        return out
    # Harm of the types asked for, and every event that evidences a market.
    return out.filter(out.event_key.isin(list(wanted)) | (out.market > 0))


def intelligence_cells(
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
