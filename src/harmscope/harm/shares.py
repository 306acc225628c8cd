"""Where each crime type's harm lands in the harm matrix, as a table of shares.

:func:`~harmscope.harm.matrix.harm_matrix` spreads a set of events' harm over the matrix one
set at a time. A ranking that needs the matrix of every unit (grid cell, market) holds harm
per unit and event type instead; :func:`matrix_shares` gives the per-type factors that turn
it into each unit's matrix cells with one merge, by the same rule as the matrix (taxonomy
landing share x central attributable fraction).

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.
"""

from __future__ import annotations

import os

import pandas as pd

from harmscope.harm.attribution import (
    NOT_ATTRIBUTED,
    Attribution,
    default_attribution,
    load_attribution,
)
from harmscope.harm.matrix import check_coverage
from harmscope.harm.schemes import load_scheme
from harmscope.harm.selection import DEFAULT_HARM, check_harm
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import SchemeLike

__all__ = ["matrix_shares", "spread_harm"]


def matrix_shares(
    scheme: SchemeLike,
    *,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    attribution: Attribution | str | os.PathLike[str] | None = None,
    harm: str = DEFAULT_HARM,
) -> pd.DataFrame:
    """Where one unit of each harm type's (all-crime) harm lands in the matrix, centrally.

    The per-type factors :func:`harm_matrix` spreads with, as a table, so a caller holding
    harm per unit and event type (a grid cell, a market) can build each unit's matrix with one
    merge instead of one matrix per unit.

    Parameters
    ----------
    scheme : Scheme, str or path-like
        Its harm-kind types are listed.
    taxonomy, attribution : optional
        As :func:`harm_matrix` (packaged defaults when None).
    harm : {'drug', 'all'}, default 'drug'
        ``'all'`` adds the not-attributed remainder (source ``'not_attributed'``).

    Returns
    -------
    pandas.DataFrame
        ``event_key, harm_type, bearer, source, share``: ``share`` is the taxonomy's landing
        share times the central attributable fraction (``1 - sum`` for the remainder), so
        ``sum(all-crime harm of type t x share)`` over a unit's types is its matrix cell's
        ``value`` in that view.
    """
    harm = check_harm(harm)
    sch = load_scheme(scheme)
    if not isinstance(taxonomy, Taxonomy):
        taxonomy = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    tax = taxonomy
    if not isinstance(attribution, Attribution):
        attribution = (
            default_attribution() if attribution is None else load_attribution(attribution)
        )
    attr = attribution
    check_coverage(sch, tax, attr)
    rows: list[tuple[str, str, str, str, float]] = []
    for w in sch.weights:
        if w.kind != "harm":
            continue
        ta = attr.for_type(w.event_type)
        landing: dict[tuple[str, str], float] = {}
        for cs in tax.cells_for(w.event_type):  # the taxonomy's own source is not used
            landing[(cs.harm_type, cs.bearer)] = (
                landing.get((cs.harm_type, cs.bearer), 0.0) + cs.share
            )
        for (h, b), share in landing.items():
            for f in ta.fractions.values():
                rows.append((w.event_type, h, b, f.source, share * f.central))
            if harm == "all":
                rows.append((w.event_type, h, b, NOT_ATTRIBUTED, share * ta.not_attributed[1]))
    return pd.DataFrame(rows, columns=["event_key", "harm_type", "bearer", "source", "share"])


def spread_harm(
    totals: pd.DataFrame, shares: pd.DataFrame, *, unit_columns: list[str]
) -> pd.DataFrame:
    """Each unit's matrix cells from its harm per event type.

    Parameters
    ----------
    totals : DataFrame
        ``unit_columns`` + ``event_key`` + ``value`` (all-crime harm of that type in that
        unit, scheme unit).
    shares : DataFrame
        :func:`matrix_shares` of the view wanted.
    unit_columns : list of str
        Columns naming a unit (e.g. ``['cell_x', 'cell_y']``).

    Returns
    -------
    DataFrame
        ``unit_columns`` + ``harm_type, bearer, source, value``: the central cell values
        :func:`~harmscope.harm.matrix.harm_matrix` gives for the unit's events.
    """
    spread = totals.merge(shares, on="event_key")
    spread["value"] = spread["value"] * spread["share"]
    return spread.groupby([*unit_columns, "harm_type", "bearer", "source"], as_index=False)[
        "value"
    ].sum()
