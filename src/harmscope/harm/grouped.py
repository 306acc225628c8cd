"""Many harm matrices in one query: :func:`harm_matrices`, the grouped form of the matrix.

A market's description needs the harm matrix of the events in its own cells, for every
market at once. Asking :func:`~harmscope.harm.matrix.harm_matrix` once per market costs one
query (and one Ibis compilation) per market: 260 markets took 56 s on an eighth of the
39-force extract, almost all of it compiling. Here the engine groups the same aggregate by a
unit column (one query, plus one for which units hold any stop and search) and each group's
rows are spread over the matrix by the same arithmetic
(:func:`~harmscope.harm.matrix.matrix_from_columns`), so each matrix equals the one
:func:`~harmscope.harm.matrix.harm_matrix` gives for that unit's events alone.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Hashable, Iterable

import ibis.expr.types as ir

from harmscope.harm.attribution import Attribution, default_attribution, load_attribution
from harmscope.harm.matrix import HarmMatrix, check_coverage, matrix_from_columns, type_totals
from harmscope.harm.schemes import load_scheme
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import STOP_SEARCH_SOURCE, SchemeLike
from harmscope.periods import Months

__all__ = ["harm_matrices"]


def harm_matrices(
    events: ir.Table,
    *,
    by: str,
    units: Iterable[Hashable],
    scheme: SchemeLike,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    attribution: Attribution | str | os.PathLike[str] | None = None,
    harm: str = DEFAULT_HARM,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    types: Collection[str] | None = None,
) -> dict[Hashable, HarmMatrix]:
    """The harm matrix of each unit's events, all units in one engine query.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (or any table with ``source``, ``event_type``, ``month``,
        ``lsoa_code``) plus the unit column ``by``. An event in two units is a row for each.
    by : str
        Column naming each row's unit.
    units : iterable of hashable
        Units to return a matrix for, in this order; a unit with no rows gets the empty
        matrix (zeros in every cell), as :func:`~harmscope.harm.matrix.harm_matrix` of no
        events would.
    scheme, taxonomy, attribution, harm, months, lsoas, types
        As :func:`~harmscope.harm.matrix.harm_matrix`.

    Returns
    -------
    dict
        Unit to :class:`~harmscope.harm.matrix.HarmMatrix` (scheme unit): for each unit,
        equal to ``harm_matrix(events.filter(events[by] == unit).drop(by), ...)``, including
        whether its activity counts searches as zero or as unknown (no stop and search of
        any month among its rows).

    Raises
    ------
    SchemeError, ValueError
        As :func:`~harmscope.harm.matrix.harm_matrix`.
    """
    harm = check_harm(harm)
    sch = load_scheme(scheme)
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    if isinstance(attribution, Attribution):
        attr = attribution
    else:
        attr = default_attribution() if attribution is None else load_attribution(attribution)
    check_coverage(sch, tax, attr)
    types = check_types(types, tax)
    wanted = list(dict.fromkeys(units))
    frame = type_totals(events, sch, months=months, lsoas=lsoas, types=types, by=(by,)).execute()
    # Each unit's rows as positions into the frame's columns (in the frame's order): slicing
    # arrays per unit, not a frame per unit (drop, reset_index, then masks on each).
    columns = {c: frame[c].to_numpy() for c in frame.columns if c != by}
    groups = frame.groupby(by, sort=False).indices if len(frame) else {}
    # harm_matrix asks whether the events hold any search of any month (before the period
    # and type filters): per unit here, in one query.
    searched: set[Hashable] = set()
    if "source" in events.columns:
        held = events.filter(events.source == STOP_SEARCH_SOURCE)
        searched = set(held.select(held[by]).distinct().execute()[by])
    out: dict[Hashable, HarmMatrix] = {}
    for unit in wanted:
        rows = groups.get(unit)
        out[unit] = matrix_from_columns(
            {c: values[0:0] if rows is None else values[rows] for c, values in columns.items()},
            scheme=sch,
            taxonomy=tax,
            attribution=attr,
            harm=harm,
            months=months,
            lsoas=lsoas,
            types=types,
            searches_loaded=unit in searched,
        )
    return out
