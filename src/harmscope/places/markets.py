"""Former home of the drug-market code, now the :mod:`harmscope.markets` package.

Kept so that ``from harmscope.places.markets import markets, Market, ...`` still works: every
public name of :mod:`harmscope.markets` is re-exported unchanged. New code imports
:mod:`harmscope.markets` directly.
"""

from __future__ import annotations

from harmscope.markets import (
    CHARACTERISTICS,
    DECISIONS_DDL,
    DRUG_OBJECTS,
    DRUG_TYPES,
    MARKET_COLUMNS,
    Allocation,
    Decision,
    Market,
    MarketDecisionError,
    allocate_cells,
    candidate_id,
    decide,
    find_market,
    load_decisions,
    market_activity,
    markets,
    markets_frame,
)

__all__ = [
    "CHARACTERISTICS",
    "DECISIONS_DDL",
    "DRUG_OBJECTS",
    "DRUG_TYPES",
    "MARKET_COLUMNS",
    "Allocation",
    "Decision",
    "Market",
    "MarketDecisionError",
    "allocate_cells",
    "candidate_id",
    "decide",
    "find_market",
    "load_decisions",
    "market_activity",
    "markets",
    "markets_frame",
]
