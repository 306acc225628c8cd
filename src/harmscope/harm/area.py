"""Harm and activity per LSOA and month: the table every per-area view starts from.

References
----------
Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index:
measuring total harm from crime based on sentencing guidelines. *Policing* 10(3), 171-183.
"""

from __future__ import annotations

from collections.abc import Collection

import ibis
import ibis.expr.types as ir

from harmscope.harm.selection import DEFAULT_HARM, check_harm
from harmscope.harm.weigh import (
    AttributionLike,
    SchemeLike,
    harm_and_activity,
    select_events,
    weigh,
)
from harmscope.periods import Months

__all__ = ["harm_by_area"]


def harm_by_area(
    events: ir.Table,
    *,
    scheme: SchemeLike,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    drop_unlocated: bool = False,
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Harm and activity per LSOA per month, as an Ibis expression.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events``.
    scheme : Scheme, str or path-like
        Weight scheme or its name / TOML path.
    months : (from, to), optional
        Inclusive month bounds.
    lsoas : str or collection of str, optional
        Restrict to these LSOA codes.
    drop_unlocated : bool, default False
        Leave out events with no LSOA code. By default they form a row with a NULL
        ``lsoa_code`` so that area totals add up to the matrix totals.
    harm : {'drug', 'all'}, default 'drug'
        View of harm (:func:`~harmscope.harm.weigh.weigh`): drug-attributed or all crime.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view (packaged default when None).
    types : collection of str, optional
        Only these crime types (police.uk names, any case).

    Returns
    -------
    ibis.Table
        ``lsoa_code``, ``month``, ``harm`` (float, scheme unit, in the view asked), ``activity`` (int: police
        activity events, counted, see :func:`~harmscope.harm.weigh.harm_and_activity`),
        ``harm_events`` (int), ``activity_events`` (int); ordered by month then LSOA. Join
        the ``areas`` table on ``lsoa_code`` for population (harm per 1,000 residents =
        ``harm / population * 1000``) and IMD decile.
    """
    chosen = select_events(events, months=months, lsoas=lsoas, types=types)
    if drop_unlocated:
        chosen = chosen.filter(chosen.lsoa_code.notnull())
    w = weigh(chosen, scheme, harm=check_harm(harm), attribution=attribution)
    return (
        w.group_by(["lsoa_code", "month"])
        .aggregate(**harm_and_activity(w))
        .order_by(["month", ibis.asc("lsoa_code", nulls_first=False)])
    )
