"""The lens registry: what can be ranked, and how.

A lens turns the warehouse into ranked rows with at least ``rank`` (1..n), ``unit_id``,
``score`` (descending) and ``reasons`` (list of strings). ``places`` and ``markets`` are built
in; a lens for people (nominals), groups or behaviours registers a function with the same
shape::

    def rank_people(source, *, top=None, **options) -> pandas.DataFrame: ...

    register_lens("people", rank_people, "nominals ranked by the harm attributed to them")

Until one is registered, asking for a planned lens raises :class:`LensUnavailableError`
saying what it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harmscope.errors import HarmScopeError
from harmscope.priorities.markets import rank_markets
from harmscope.priorities.places import rank_places

__all__ = [
    "LENSES",
    "PLANNED_LENSES",
    "REQUIRED_COLUMNS",
    "Lens",
    "LensUnavailableError",
    "rank",
    "register_lens",
]

RankFunction = Callable[..., pd.DataFrame]

#: Columns every lens returns first.
REQUIRED_COLUMNS: tuple[str, ...] = ("rank", "unit_id", "score", "reasons")


class LensUnavailableError(HarmScopeError, LookupError):
    """The lens is unknown, or planned but not available in this installation."""


@dataclass(frozen=True)
class Lens:
    """A registered lens: its name, what it ranks, and the function that ranks."""

    name: str
    description: str
    function: RankFunction


LENSES: dict[str, Lens] = {}
"""Registered lenses by name."""

PLANNED_LENSES: dict[str, str] = {
    "people": (
        "nominals ranked by the harm attributed to them; needs nominal-level intelligence "
        "(nominals, links and reports, e.g. the simulator's intel/ files) loaded and "
        "attributed to harm, which this installation does not have yet"
    ),
    "behaviours": (
        "behaviours (violence, exploitation, cuckooing, weapon carrying ...) ranked by harm; "
        "needs graded intelligence reports attributed to harm, which this installation does "
        "not have yet"
    ),
}
"""Lenses DESIGN §2 names that have no implementation registered yet, with what they need."""


def register_lens(name: str, function: RankFunction, description: str) -> Lens:
    """Register (or replace) a lens.

    Raises
    ------
    ValueError
        Empty name.
    """
    key = name.strip().lower()
    if not key:
        raise ValueError("a lens needs a name")
    lens = Lens(name=key, description=description, function=function)
    LENSES[key] = lens
    return lens


def rank(lens: str, source: Any, **options: Any) -> pd.DataFrame:
    """Rank units through a lens.

    Parameters
    ----------
    lens : str
        ``'places'``, ``'markets'`` or another registered lens.
    source
        Warehouse path, Ibis backend or events table.
    **options
        The lens function's options (``scheme``, ``cell_size``, ``months``, ``top`` ...).

    Returns
    -------
    pandas.DataFrame
        Starts with :data:`REQUIRED_COLUMNS`.

    Raises
    ------
    LensUnavailableError
        Unknown lens, or a planned one not yet available (the message says what it needs).
    """
    key = lens.strip().lower()
    if key in LENSES:
        out = LENSES[key].function(source, **options)
        missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
        if missing:
            raise LensUnavailableError(f"lens {key!r} returned no {', '.join(missing)} column")
        return out
    available = ", ".join(sorted(LENSES))
    if key in PLANNED_LENSES:
        raise LensUnavailableError(
            f"lens {key!r} is not available: {PLANNED_LENSES[key]} (available: {available})"
        )
    raise LensUnavailableError(f"unknown lens {lens!r} (available: {available})")


register_lens("places", rank_places, "grid cells ranked by harm over the period")
register_lens("markets", rank_markets, "candidate drug markets ranked by harm in and around them")
