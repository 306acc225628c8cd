"""The markets lens: candidate drug markets ranked by the harm in and around them.

Score: :math:`H_m`, the harm-matrix total (scheme-weighted harm; activity never added) of the
events in the market's footprint plus buffer over the period
(:func:`harmscope.markets.markets`) — or, when force records' crime-person links were read
(``user``/``reason`` given), the market's linked harm (:attr:`harmscope.markets.Market.score`,
:mod:`harmscope.markets.linked`): the harm of the crimes linked to its sellers and to the
buyers intelligence links to them, which the row's first reason states
(:func:`linked_reason`). Markets are significant clusters of market
activity by construction, so no further Gi* factor enters. Rejected markets are not ranked;
merged ones rank once. A cell reached by two markets' footprint plus buffer counts for one of
them only (:func:`harmscope.markets.allocate_cells`; ``split_with`` names the others), so
the scores never add a cell's harm twice. Ties by id; ranks are 1..n.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm.selection import DEFAULT_HARM, check_types, selection_attrs
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.markets import Market, markets
from harmscope.priorities.reasons import short_unit, word_reasons

__all__ = ["MARKET_RANK_COLUMNS", "linked_reason", "rank_markets", "ranked_markets"]

MARKET_RANK_COLUMNS: tuple[str, ...] = (
    "rank",
    "unit_id",
    "score",
    "reasons",
    "reason_cells",
    "name",
    "place",
    "status",
    "cells",
    "centroid_x",
    "centroid_y",
    "harm",
    "activity",
    "activity_harm_ratio",
    "trend",
    "trend_direction",
    "months_since_last",
    "harm_types",
    "split_with",
    "area_harm",
    "harm_events",
    "evidence",
)
"""Columns of :func:`rank_markets`; ``reasons`` and ``reason_cells`` hold lists of strings.
``trend``, ``months_since_last`` and ``harm_types`` are the board's columns
(:data:`~harmscope.priorities.lenses.BOARD_COLUMNS`, :func:`monthly_signals`);
``trend_direction`` is the Mann-Kendall direction of the monthly harm. ``harm`` is what the
score rests on (the linked harm when force records were read, else ``area_harm``, the harm in
the footprint plus buffer) and ``harm_events`` the number of harmful crimes behind it (its
Poisson range on the board); ``evidence`` is what found the market (the force's market list,
graded reports, a hot spot of market activity)."""


def monthly_signals(monthly: Sequence[float]) -> tuple[float | None, int | None]:
    """Trend and recency of a monthly harm series, in the board's units.

    ``trend`` is the least-squares slope of harm per month divided by the mean month
    (+0.05 = rising 5 % of an average month each month); ``months_since_last`` the whole
    months from the last month with harm to the end of the series (0 = harm in the last
    month). None when there is no harm.

    Examples
    --------
    >>> monthly_signals([10.0, 20.0, 30.0, 0.0])
    (-0.133333, 1)
    >>> monthly_signals([10.0, 20.0, 30.0])
    (0.5, 0)
    """
    y = np.asarray(monthly, dtype=float)
    if len(y) == 0 or not (y > 0).any():
        return None, None
    since = int(len(y) - 1 - np.flatnonzero(y > 0)[-1])
    if len(y) < 2:
        return 0.0, since
    slope = float(np.polyfit(np.arange(len(y), dtype=float), y, 1)[0])
    return round(slope / float(y.mean()), 6), since


def linked_reason(m: Market) -> str | None:
    """The reason naming a market's linked harm, its score when force records were read.

    None when no crime-person links were read (the score is then the harm in the area,
    which the matrix reasons describe).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> linked_reason(SimpleNamespace(linked_harm=73468.8, unit="days of imprisonment"))
    'linked harm: 73,469 days of the crimes force records link to its sellers and buyers'
    """
    if m.linked_harm is None:
        return None
    return (
        f"linked harm: {m.linked_harm:,.0f} {short_unit(m.unit)} of the crimes force records "
        "link to its sellers and buyers"
    )


def rank_markets(
    source: ir.Table | ibis.BaseBackend | str | Path,
    *,
    top: int | None = None,
    reasons: int = 3,
    **options: Any,
) -> pd.DataFrame:
    """Rank candidate markets by harm in and around them.

    Parameters
    ----------
    source : ibis.Table, ibis backend, str or Path
        As :func:`harmscope.markets.markets` (decisions applied from a warehouse path).
    top : int, optional
        Keep the first ``top`` rows.
    reasons : int, default 3
        Matrix cells named per row.
    **options
        Passed to :func:`~harmscope.markets.markets` (``scheme``, ``cell_size``,
        ``months``, ``buffer``, ``alpha`` ...); ``include_rejected`` is not allowed.

    Returns
    -------
    pandas.DataFrame
        :data:`MARKET_RANK_COLUMNS`, rank 1 first. ``cells`` is the footprint size in cells.
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    if options.get("include_rejected"):
        raise ValueError("rejected markets are never ranked")
    return ranked_markets(
        markets(source, **options),
        top=top,
        reasons=reasons,
        months=options.get("months"),
        harm=options.get("harm", DEFAULT_HARM),
        types=check_types(options.get("types")),
        taxonomy=options.get("taxonomy"),
    )


def ranked_markets(
    found: Sequence[Market],
    *,
    top: int | None = None,
    reasons: int = 3,
    months: Any = None,
    harm: str = DEFAULT_HARM,
    types: Sequence[str] | None = None,
    taxonomy: Taxonomy | str | Path | None = None,
) -> pd.DataFrame:
    """Rank markets already found by :func:`~harmscope.markets.markets`.

    The ranking of :func:`rank_markets` without detecting again, for callers that also need
    the :class:`~harmscope.markets.Market` objects (footprints, buffers).

    Parameters
    ----------
    found : sequence of Market
        Markets to rank (rejected ones are left out).
    top : int, optional
        Keep the first ``top`` rows.
    reasons : int, default 3
        Matrix cells named per row.
    months : (from, to), optional
        Recorded in ``attrs["months"]``.
    harm : {'drug', 'all'}, default 'drug'
        The view the markets were described in; ``attrs`` record it (``harm_view``,
        ``harm_label``) with ``types``.
    types : sequence of str, optional
        Crime types whose harm was measured.
    taxonomy : Taxonomy or path, optional
        Labels of the matrix cells in the reasons (default: the built-in taxonomy).

    Returns
    -------
    pandas.DataFrame
        As :func:`rank_markets`.
    """
    if top is not None and top < 1:
        raise ValueError(f"top must be a positive number of rows, got {top}")
    ordered = sorted((m for m in found if m.status != "rejected"), key=lambda m: (-m.score, m.id))
    if top is not None:
        ordered = ordered[:top]
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    else:
        tax = default_taxonomy() if taxonomy is None else load_taxonomy(taxonomy)
    rows = []
    for m in ordered:
        # top_types holds the five harm types with most harm: enough for the two named.
        type_harm = {str(t["event_type"]): float(t["value"]) for t in m.top_types}
        words, keys = word_reasons(
            m.matrix.cells, type_harm, m.unit, tax, k=reasons, types_total=m.matrix.total
        )
        linked = linked_reason(m)
        if linked is not None:  # the score's own reason first; the matrix cells describe the area
            words = [linked, *words]
        trend, since = monthly_signals(m.monthly_harm)
        # the five largest types; the rest of the harm is named as such (community weight 1)
        rest = m.harm - sum(type_harm.values())
        kinds = {**type_harm, **({"other types": rest} if rest > 1e-9 * m.harm else {})}
        rows.append(
            {
                "unit_id": m.id,
                "score": m.score,
                "reasons": words,
                "reason_cells": keys,
                **m.flat_summary(),
                # the board weighs the harm the score rests on
                "harm": m.score,
                "area_harm": m.harm,
                "harm_events": m.harm_events,
                "evidence": list(m.evidence),
                "trend": trend,
                "trend_direction": m.trend["direction"],
                "months_since_last": since,
                "harm_types": kinds,
                "centroid_x": m.centroid_x,
                "centroid_y": m.centroid_y,
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in MARKET_RANK_COLUMNS if c != "rank"])
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    out.attrs.update(
        {
            "lens": "markets",
            "unit": ordered[0].unit if ordered else "",
            "months": months,
            **selection_attrs(harm, types),
        }
    )
    return out
