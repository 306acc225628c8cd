"""Priorities: rank units (places, markets; later people, groups, behaviours) by harm, with reasons.

Every lens returns rows with ``rank`` (1..n), ``unit_id``, ``score`` (descending) and
``reasons`` — the harm-matrix cells contributing most, e.g.
``'health/individuals/distribution: 1,234 days (45%)'``. Score formulas are in
:mod:`harmscope.priorities.places` and :mod:`harmscope.priorities.markets`; see
``docs/markets.md``. ``validate_priorities`` (:mod:`harmscope.checks.priorities`) measures each lens's
precision@k against the simulator's ground truth (``docs/priorities.md``).
"""

from __future__ import annotations

from harmscope.priorities.lenses import (
    ALL,
    LENSES,
    PLANNED_LENSES,
    REQUIRED_COLUMNS,
    Lens,
    LensUnavailableError,
    rank,
    rank_all,
    register_lens,
)
from harmscope.priorities.markets import MARKET_RANK_COLUMNS, rank_markets, ranked_markets
from harmscope.priorities.places import PLACE_COLUMNS, place_id, rank_places
from harmscope.priorities.reasons import matrix_reasons, short_unit

__all__ = [
    "ALL",
    "LENSES",
    "MARKET_RANK_COLUMNS",
    "PLACE_COLUMNS",
    "PLANNED_LENSES",
    "REQUIRED_COLUMNS",
    "Lens",
    "LensUnavailableError",
    "matrix_reasons",
    "place_id",
    "rank",
    "rank_all",
    "rank_markets",
    "rank_places",
    "ranked_markets",
    "register_lens",
    "short_unit",
]
