"""Candidate drug markets: hot spots of market *activity*, the harm in and around them, curation.

DESIGN §3: drug-market harm is found where **market activity** (drug offences, drug
stop-and-search finds, intelligence) and **harm** coincide — not by counting drug arrests.
This package finds where market activity clusters, turns the clusters into candidate market
footprints, and describes the harm in and around each footprint with the UKDPC harm matrix.

Modules, in the order the pipeline (:func:`markets`) uses them:

- :mod:`~harmscope.markets.activity` — which events are market activity;
- :mod:`~harmscope.markets.detection` — Gi* hot spots of activity joined into footprints;
- :mod:`~harmscope.markets.cells` — footprint ids, buffers and overlaps;
- :mod:`~harmscope.markets.curation` — the analysts' decision log and its replay;
- :mod:`~harmscope.markets.allocation` — one market per cell where buffers overlap;
- :mod:`~harmscope.markets.description` — harm matrix, trend and top types of each market;
- :mod:`~harmscope.markets.model` — the :class:`Market` and :class:`Decision` types;
- :mod:`~harmscope.markets.pipeline` — :func:`markets`, all of the above over a warehouse.

Beside the pipeline, :mod:`~harmscope.markets.attribution` (with its lattice arithmetic in
:mod:`~harmscope.markets.excess`) measures the local excess of harm around each market over
placebo areas nearby, for the harm matrix (:mod:`harmscope.harm.local`).

The markets *lens* of the priorities (ranking with reasons) is
:mod:`harmscope.priorities.markets`: it sits one layer up, beside the other lenses.
"""

from __future__ import annotations

from harmscope.markets.activity import DRUG_OBJECTS, DRUG_TYPES, market_activity
from harmscope.markets.allocation import Allocation, allocate_cells
from harmscope.markets.cells import candidate_id
from harmscope.markets.curation import (
    CHARACTERISTICS,
    DECISIONS_DDL,
    MarketDecisionError,
    decide,
    find_market,
    load_decisions,
)
from harmscope.markets.description import MARKET_COLUMNS, markets_frame
from harmscope.markets.model import Decision, Market
from harmscope.markets.pipeline import markets

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
