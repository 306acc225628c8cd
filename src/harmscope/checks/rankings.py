"""What each lens's check hands to the scorer: its ranking, the two baselines and the truth.

``validate-priorities`` scores every lens the same way (precision@k, harm captured by the
top k against the best possible, wins over the baselines). Only *producing* the rankings is
lens-specific, so each lens's check is a function registered here that turns one simulated
city into a :class:`Rankings`::

    def people_rankings(simdir: Path, warehouse: Path, **options) -> Rankings: ...

    register_lens_check("people", people_rankings)

``warehouse`` already holds the folder's police.uk files (ingested once per seed); a check
that needs more (force records, partner files) loads them into it itself.

The baselines (issue 12, DESIGN §3) are what an analyst without a harm lens would rank by:

- ``counting``: recorded events linked to the unit, each counting one;
- ``busyness``: police activity linked to the unit (arrests, drug offences, stop and search),
  which the seed says measures police effort, not harm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["LENS_CHECKS", "LensCheck", "Rankings", "register_lens_check"]


@dataclass(frozen=True)
class Rankings:
    """One lens on one simulated city: three rankings and the truth they are scored against.

    Attributes
    ----------
    lens : str
    predicted, counting, busyness : sequence of str
        Unit ids, best first: the lens under test and its two baselines. They may hold fewer
        units than the truth (missing units count as misses).
    truth : pandas.Series
        True harm by unit id (index: the same ids as the rankings; CCHI days unless ``unit``
        says otherwise), units with no harm may be left out.
    unit : str
        Unit of ``truth``.
    matcher : callable, optional
        ``matcher(predicted_ids, true_ids) -> list[(predicted, true)]`` one-to-one hits when ids
        do not match exactly (markets are footprints located on true markets); default: equal
        ids.
    notes : dict
        Anything the lens's check wants reported beside its scores (JSON-safe values).
    other_truths : dict of str to pandas.Series
        Further truths the same three rankings are scored against, each reported under its
        name beside the primary score (the people lens: ``all_population``, the truth over
        every person beside the primary truth over the nominals the force knows).
    """

    lens: str
    predicted: Sequence[str]
    counting: Sequence[str]
    busyness: Sequence[str]
    truth: pd.Series
    unit: str = "CCHI days"
    matcher: Callable[[Sequence[str], Sequence[str]], list[tuple[str, str]]] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    other_truths: dict[str, pd.Series] = field(default_factory=dict)


LensCheck = Callable[..., Rankings]

LENS_CHECKS: dict[str, LensCheck] = {}
"""Registered lens checks by lens name (``places``, ``markets``, ``people`` ...)."""


def register_lens_check(lens: str, check: LensCheck) -> LensCheck:
    """Register (or replace) the check that produces *lens*'s :class:`Rankings` for one city.

    ``check(simdir: Path, warehouse: Path, **options) -> Rankings``.
    """
    key = lens.strip().lower()
    if not key:
        raise ValueError("a lens check needs a lens name")
    LENS_CHECKS[key] = check
    return check
