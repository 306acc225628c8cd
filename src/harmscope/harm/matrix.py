"""The harm matrix: weighted events spread over harm type x bearer x source.

The engine aggregates events per event type (one query); the ~20 resulting rows are then
spread over matrix cells: the taxonomy's shares say which harm type and bearer an event
type's harm lands on, and the attributable fractions (:mod:`harmscope.harm.attribution`) say
how much of it each drug source (use, production, distribution, control) caused, with a
range. The rest is **not drug-attributed** and is always reported apart (``not_attributed``).
Two views: ``harm="drug"`` (cells and ``total`` hold drug-attributed harm only) and
``harm="all"`` (cells also hold the not-attributed remainder, source ``not_attributed``, and
``total`` is every crime's harm). Harm and activity are kept apart: ``activity`` and
``activity_cells`` hold police activity ("busyness"): police-found offences and searches
*counted* in events, by kind, reported beside harm and never added to it (DESIGN §2, §3, §5).
Event types the scheme does not weigh are counted in ``dropped``.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.

Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index:
measuring total harm from crime based on sentencing guidelines. *Policing* 10(3), 171-183.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.errors import SchemeError
from harmscope.harm.activity import ActivityCell, activity_by_kind
from harmscope.harm.area import harm_by_area
from harmscope.harm.attribution import (
    DRUG_SOURCES,
    Attribution,
    default_attribution,
    load_attribution,
)
from harmscope.harm.schemes import Scheme, load_scheme
from harmscope.harm.selection import DEFAULT_HARM, HARM_VIEWS, check_harm, check_types
from harmscope.harm.spreading import Cell, EventTypeTotal, attributed_by_type, spread_totals
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import (
    STOP_SEARCH_SOURCE,
    Dropped,
    SchemeLike,
    event_key,
    repeatable_sum,
    select_events,
    weigh,
)
from harmscope.periods import FractionProgress, Months, parse_month

__all__ = [
    "ACTIVITY_UNIT",
    "HARM_VIEWS",
    "ActivityCell",
    "Cell",
    "EventTypeTotal",
    "HarmMatrix",
    "MatrixRow",
    "check_coverage",
    "harm_by_area",
    "harm_matrix",
    "matrix_from_columns",
    "matrix_from_totals",
    "type_totals",
]


#: Unit of every activity figure: police activity is counted, never weighed.
ACTIVITY_UNIT = "events"


class MatrixRow(TypedDict):
    """One row of :meth:`HarmMatrix.to_rows` (CSV / table output).

    Harm rows name a matrix cell (``activity`` empty); activity rows name a kind of
    activity (``harm_type``, ``bearer``, ``source`` empty) and count events.
    """

    scheme: str
    view: str
    kind: str
    harm_type: str
    bearer: str
    source: str
    activity: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    basis: str
    refs: str


@dataclass(frozen=True)
class HarmMatrix:
    """Measured harm matrix for a set of events, under one scheme and one view of harm.

    Attributes
    ----------
    scheme : str
        Scheme name.
    unit : str
        Unit of the harm values (``cchi``: days of imprisonment; ``count``: events).
    total : float
        Harm of the chosen view: exactly ``sum(c["value"] for c in cells)`` in list order.
        ``harm='drug'``: drug-attributed harm (central); ``harm='all'``: every crime's harm.
    activity : int
        Police activity: the number of activity-kind events (police-found offences and
        stop-and-searches), ``sum(c["value"] for c in activity_cells)``. Counted in
        :data:`ACTIVITY_UNIT`, never weighed.
    cells : list of Cell
        Harm cells ``{harm_type, bearer, source, value, low, high, basis, refs, judgement,
        event_types}``: every cell that a harm-kind type of the scheme can reach in this view
        (zeros included), largest value first, ties in axis order (``not_attributed`` last).
    activity_cells : list of ActivityCell
        Activity by kind ``{event_type, label, value}``: one per activity-kind type of the
        scheme (zeros included), most events first, ties in scheme order.
    month_from, month_to : str or None
        Period covered, ``'YYYY-MM'``: the requested bounds, or where a bound is open the
        first / last month with weighted events (None when there are none).
    lsoas : tuple of str or None
        LSOA filter applied, if any.
    by_event_type : tuple of EventTypeTotal
        Totals per event type present, largest value first.
    unknown : dict of str to int
        Event types present that the scheme does not weight, with their counts; key ``''``
        counts rows with no event type. :attr:`dropped` gives the same as a :class:`Dropped`.
    taxonomy : str
        Taxonomy name.
    harm : {'drug', 'all'}
        The view (see :data:`HARM_VIEWS`).
    total_low, total_high : float
        Range of :attr:`total`: every fraction at its low (high) end at once. Equal to
        ``total`` in the ``all`` view, whose total does not depend on the fractions.
    drug_attributed, drug_low, drug_high : float
        Drug-attributed harm (central, low, high), whatever the view.
    not_attributed, not_attributed_low, not_attributed_high : float
        Harm not attributed to drugs (central, low, high), whatever the view;
        ``drug_attributed + not_attributed`` is every crime's harm.
    attribution : str
        Attribution name (the fractions file).
    references : dict of str to str
        Citation key to full citation, for every key a cell cites.
    by_type_attribution : tuple of dict
        Per harm-kind event type present: ``event_type, events, harm`` (all its harm),
        ``drug``, ``drug_low``, ``drug_high``, ``not_attributed`` (scheme unit).
    """

    scheme: str
    unit: str
    total: float
    activity: int
    cells: list[Cell]
    activity_cells: list[ActivityCell]
    month_from: str | None = None
    month_to: str | None = None
    lsoas: tuple[str, ...] | None = None
    by_event_type: tuple[EventTypeTotal, ...] = ()
    unknown: dict[str, int] = field(default_factory=dict)
    taxonomy: str = ""
    harm: str = "drug"
    total_low: float = 0.0
    total_high: float = 0.0
    drug_attributed: float = 0.0
    drug_low: float = 0.0
    drug_high: float = 0.0
    not_attributed: float = 0.0
    not_attributed_low: float = 0.0
    not_attributed_high: float = 0.0
    attribution: str = ""
    references: dict[str, str] = field(default_factory=dict)
    by_type_attribution: tuple[dict[str, Any], ...] = ()
    types: tuple[str, ...] | None = None

    @property
    def view_label(self) -> str:
        """``'drug-attributed harm'`` or ``'all crime harm'``: how outputs name the view."""
        return HARM_VIEWS[self.harm]

    @property
    def dropped(self) -> Dropped:
        """Events left out because the scheme does not weigh their type (falsy if none)."""
        return Dropped.of(self.scheme, self.unknown)

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 JSON object.

        Returns
        -------
        dict
            ``scheme``, ``harm`` (the view) and ``view`` (its label), ``total`` (harm of the
            view) with ``total_low``/``total_high``, ``not_attributed`` (harm not attributed
            to drugs) with ``not_attributed_low``/``not_attributed_high``,
            ``drug_attributed`` with ``drug_low``/``drug_high``, ``activity`` (count of
            activity events), ``cells`` (list of ``{harm_type, bearer, source, value, low,
            high, basis, refs, judgement, event_types}``), plus ``unit`` (of harm),
            ``activity_unit`` (``'events'``), ``activity_cells`` (by kind), ``attribution``
            (``{name, references}``: key to citation), ``by_event_type`` (per harm type:
            harm, drug share, remainder), ``dropped`` (see :meth:`Dropped.to_dict`),
            ``from`` and ``to`` (``'YYYY-MM'`` or None), ``types`` (crime types kept, or
            None for every type).
        """
        return {
            "scheme": self.scheme,
            "harm": self.harm,
            "view": self.view_label,
            "total": self.total,
            "total_low": self.total_low,
            "total_high": self.total_high,
            "not_attributed": self.not_attributed,
            "not_attributed_low": self.not_attributed_low,
            "not_attributed_high": self.not_attributed_high,
            "drug_attributed": self.drug_attributed,
            "drug_low": self.drug_low,
            "drug_high": self.drug_high,
            "activity": self.activity,
            "cells": [dict(c) for c in self.cells],
            "unit": self.unit,
            "activity_unit": ACTIVITY_UNIT,
            "activity_cells": [dict(c) for c in self.activity_cells],
            "attribution": {"name": self.attribution, "references": dict(self.references)},
            "by_event_type": [dict(r) for r in self.by_type_attribution],
            "dropped": self.dropped.to_dict(),
            "from": self.month_from,
            "to": self.month_to,
            "types": None if self.types is None else list(self.types),
        }

    def to_rows(self) -> list[MatrixRow]:
        """Flat rows for CSV or a table: harm cells, then activity by kind.

        Columns: ``scheme, view ('drug-attributed harm'|'all crime harm'), kind
        ('harm'|'activity'), harm_type, bearer, source, activity, value, low, high, unit,
        basis, refs`` (``refs`` joined by ``'; '``; activity rows: ``activity`` names the
        kind, ``unit`` is ``events``, ``low = high = value``, ``basis = 'count'``).
        """
        rows = [
            MatrixRow(
                scheme=self.scheme,
                view=self.view_label,
                kind="harm",
                harm_type=c["harm_type"],
                bearer=c["bearer"],
                source=c["source"],
                activity="",
                value=c["value"],
                low=c["low"],
                high=c["high"],
                unit=self.unit,
                basis=c["basis"],
                refs="; ".join(c["refs"]),
            )
            for c in self.cells
        ]
        rows += [
            MatrixRow(
                scheme=self.scheme,
                view=self.view_label,
                kind="activity",
                harm_type="",
                bearer="",
                source="",
                activity=c["label"],
                value=c["value"],
                low=c["value"],
                high=c["value"],
                unit=ACTIVITY_UNIT,
                basis="count" if c["value"] is not None else f"no data: {c['no_data']}",
                refs="",
            )
            for c in self.activity_cells
        ]
        return rows


def _taxonomy(taxonomy: Taxonomy | str | os.PathLike[str] | None) -> Taxonomy:
    if taxonomy is None:
        return default_taxonomy()
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    return load_taxonomy(taxonomy)


def _attribution(attribution: Attribution | str | os.PathLike[str] | None) -> Attribution:
    if attribution is None:
        return default_attribution()
    if isinstance(attribution, Attribution):
        return attribution
    return load_attribution(attribution)


def check_coverage(
    scheme: Scheme, taxonomy: Taxonomy, attribution: Attribution | None = None
) -> None:
    """Check that the taxonomy maps, and the attribution covers, every type the scheme weights.

    Raises
    ------
    SchemeError
        Names the scheme, the unmapped types and the taxonomy file; or the attribution file
        and the first harm-kind type without fractions; or an attribution source the
        taxonomy's source axis does not have.
    """
    missing = [t for t in scheme.event_types if t not in taxonomy.mapping]
    if missing:
        where = scheme.path if scheme.path is not None else scheme.name
        raise SchemeError(
            f"{where}: weight: scheme {scheme.name!r} weights event types that taxonomy "
            f"{taxonomy.path} does not map: {', '.join(repr(m) for m in missing)} "
            "(add a [[mapping]] for each)"
        )
    if attribution is None:
        return
    unknown = [s for s in DRUG_SOURCES if s not in taxonomy.sources.ids]
    if unknown:
        raise SchemeError(
            f"{taxonomy.path}: sources: attribution {attribution.path} needs source "
            f"{unknown[0]!r}, which the taxonomy does not define"
        )
    for w in scheme.weights:
        if w.kind == "harm":
            attribution.for_type(w.event_type)  # raises naming the attribution file


def _extreme(values: np.ndarray, *, first: bool) -> Any:
    """Earliest (``first``) or latest month of an array, missing ones skipped, as
    ``Series.min``/``max`` give it (numpy for datetimes: no Series per matrix)."""
    if values.dtype.kind == "M":
        held = values[~np.isnat(values)]
        if not held.size:
            return pd.NaT
        return pd.Timestamp(held.min() if first else held.max())
    series = pd.Series(values)
    return series.min() if first else series.max()


def _month_str(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return f"{pd.Timestamp(value):%Y-%m}"


def harm_matrix(
    events: ir.Table,
    *,
    scheme: SchemeLike,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    attribution: Attribution | str | os.PathLike[str] | None = None,
    harm: str = DEFAULT_HARM,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    types: Collection[str] | None = None,
    progress: FractionProgress | None = None,
) -> HarmMatrix:
    """Compute the measured harm matrix.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (or any table with ``source``, ``event_type``, ``month``,
        ``lsoa_code``).
    scheme : Scheme, str or path-like
        Weight scheme or its name / TOML path (``"cchi"``: days of imprisonment).
    taxonomy : Taxonomy, str or path-like, optional
        Harm taxonomy; the packaged default when omitted.
    attribution : Attribution, str or path-like, optional
        Drug-attributable fractions; the packaged default when omitted.
    harm : {'drug', 'all'}, default 'drug'
        The view (any case): ``'drug'`` puts only drug-attributed harm in ``cells`` and
        ``total``; ``'all'`` adds the not-attributed remainder as cells with source
        ``'not_attributed'``, so ``total`` is every crime's harm. Every view reports
        ``drug_attributed`` and ``not_attributed``.
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'`` or dates); either may be None.
    lsoas : str or collection of str, optional
        Restrict to these LSOA codes (events with no LSOA are then left out).
    types : collection of str, optional
        Only these crime types (police.uk names, any case; see
        :func:`~harmscope.harm.selection.check_types`); ``unknown`` then counts only them.
    progress : callable(str, float), optional
        Called with a stage label and the fraction done (0 to 1).

    Returns
    -------
    HarmMatrix
        Harm totals and cells (scheme unit) with ranges, the not-attributed harm, and
        activity by kind (events counted). Outcome rows are never weighted; event types the
        scheme does not know are left out and counted in ``unknown`` / ``dropped``.

    Raises
    ------
    SchemeError
        Invalid scheme, taxonomy or attribution; a scheme type the taxonomy does not map or
        (harm kinds) the attribution does not cover.
    ValueError
        Bad month bounds or an unknown view.

    Notes
    -----
    One engine query aggregates events per (event type, kind). With ``H(t) = weight(t) *
    n(t)`` the harm of type ``t``, ``s(t, h, b)`` the taxonomy share landing on harm type
    ``h`` and bearer ``b`` and ``f(t, src)`` the attributable fraction, a drug cell is
    ``sum_t H(t) * s(t, h, b) * f(t, src)`` with ``low``/``high`` from the fraction's
    bounds, and the not-attributed cell uses ``1 - sum_src f(t, src)``. An activity kind's
    value is ``n(t)``: police work is counted, not weighed in days (DESIGN §2).

    References
    ----------
    UK Drug Policy Commission (2009); Sherman, Neyroud & Neyroud (2016); the fractions'
    own references (``HarmMatrix.references``).
    """
    harm = check_harm(harm)
    sch = load_scheme(scheme)
    tax = _taxonomy(taxonomy)
    attr = _attribution(attribution)
    check_coverage(sch, tax, attr)
    types = check_types(types, tax)
    if progress is not None:
        progress("harm matrix: aggregating events", 0.0)
    frame = type_totals(events, sch, months=months, lsoas=lsoas, types=types).execute()
    if progress is not None:
        progress("harm matrix: spreading over cells", 0.8)
    # Whether the warehouse holds any search at all (in any month): if not, "0 searches" is
    # unknown, not zero.
    searches_loaded = "source" in events.columns and bool(
        events.filter(events.source == STOP_SEARCH_SOURCE).limit(1).count().execute()
    )
    out = matrix_from_totals(
        frame,
        scheme=sch,
        taxonomy=tax,
        attribution=attr,
        harm=harm,
        months=months,
        lsoas=lsoas,
        types=types,
        searches_loaded=searches_loaded,
    )
    if progress is not None:
        progress("harm matrix: done", 1.0)
    return out


def type_totals(
    events: ir.Table,
    scheme: Scheme,
    *,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    types: Collection[str] | None = None,
    by: tuple[str, ...] = (),
) -> ir.Table:
    """The matrix's one query: events and harm per event type and kind (and per ``by``).

    Returns
    -------
    ibis.Table
        ``*by, event_type, kind, events, value`` (``value``: summed scheme weight, NULL for
        types the scheme does not weigh, whose ``kind`` is NULL) and, when ``events`` has
        ``month``, ``first`` and ``last`` month.
    """
    chosen = select_events(events, months=months, lsoas=lsoas, types=types)
    joined = weigh(chosen, scheme, keep_unknown=True)
    metrics: dict[str, Any] = {"events": joined.count(), "value": repeatable_sum(joined.weight)}
    if "month" in joined.columns:
        metrics["first"] = joined.month.min()
        metrics["last"] = joined.month.max()
    keys = {k: joined[k] for k in by}
    return joined.group_by(**keys, event_type=event_key(joined), kind=joined.kind).aggregate(
        **metrics
    )


def matrix_from_totals(
    frame: pd.DataFrame,
    *,
    scheme: Scheme,
    taxonomy: Taxonomy,
    attribution: Attribution,
    harm: str,
    months: Months | None,
    lsoas: str | Collection[str] | None,
    types: tuple[str, ...] | None,
    searches_loaded: bool,
) -> HarmMatrix:
    """Spread one set of :func:`type_totals` rows over the matrix (no query; checked inputs).

    ``searches_loaded`` says whether "0 searches" is zero (searches are held) or unknown.
    """
    return matrix_from_columns(
        {c: frame[c].to_numpy() for c in frame.columns},
        scheme=scheme,
        taxonomy=taxonomy,
        attribution=attribution,
        harm=harm,
        months=months,
        lsoas=lsoas,
        types=types,
        searches_loaded=searches_loaded,
    )


def matrix_from_columns(
    columns: Mapping[str, np.ndarray],
    *,
    scheme: Scheme,
    taxonomy: Taxonomy,
    attribution: Attribution,
    harm: str,
    months: Months | None,
    lsoas: str | Collection[str] | None,
    types: tuple[str, ...] | None,
    searches_loaded: bool,
) -> HarmMatrix:
    """:func:`matrix_from_totals` of the rows given as one array per column (a frame's
    ``to_numpy()`` columns): the grouped form (:func:`harmscope.harm.grouped.harm_matrices`)
    slices them per unit, with none of a frame's per-call costs."""
    sch, tax, attr = scheme, taxonomy, attribution
    has_month = "first" in columns
    is_known = pd.notna(columns["kind"])
    gone = ~is_known
    unknown = {
        ("" if pd.isna(t) else str(t)): int(n)
        for t, n in zip(columns["event_type"][gone], columns["events"][gone], strict=True)
    }
    totals = [
        EventTypeTotal(
            event_type=str(t),
            kind=str(k),
            events=int(n),
            weight=sch.get(str(t)).weight if k == "harm" else 1.0,
            value=float(v) if k == "harm" else float(n),
        )
        for t, k, n, v in zip(
            columns["event_type"][is_known],
            columns["kind"][is_known],
            columns["events"][is_known],
            columns["value"][is_known],
            strict=True,
        )
    ]
    totals.sort(key=lambda x: (-x.value, x.event_type))

    cells = spread_totals(totals, sch, tax, attr, harm)
    counted = {t.event_type: t.events for t in totals if t.kind == "activity"}
    activity_cells = activity_by_kind(counted, sch, searches_loaded=searches_loaded)
    total = 0.0
    for c in cells:
        total += c["value"]
    activity = sum(c["value"] or 0 for c in activity_cells)
    by_type = attributed_by_type(totals, attr)
    all_harm = math.fsum(r["harm"] for r in by_type)
    drug = math.fsum(r["drug"] for r in by_type)
    drug_low = math.fsum(r["drug_low"] for r in by_type)
    drug_high = math.fsum(r["drug_high"] for r in by_type)
    if harm == "drug":
        total_low, total_high = drug_low, drug_high
    else:
        total_low = total_high = all_harm
    used = sorted({r for c in cells for r in c["refs"]})

    month_from = month_to = None
    if months is not None and months[0] is not None:
        month_from = f"{parse_month(months[0]):%Y-%m}"
    elif has_month and is_known.any():
        month_from = _month_str(_extreme(columns["first"][is_known], first=True))
    if months is not None and months[1] is not None:
        month_to = f"{parse_month(months[1]):%Y-%m}"
    elif has_month and is_known.any():
        month_to = _month_str(_extreme(columns["last"][is_known], first=False))
    lsoa_tuple: tuple[str, ...] | None
    if lsoas is None:
        lsoa_tuple = None
    elif isinstance(lsoas, str):
        lsoa_tuple = (lsoas,)
    else:
        lsoa_tuple = tuple(sorted(set(lsoas)))
    return HarmMatrix(
        scheme=sch.name,
        unit=sch.unit,
        total=total,
        activity=activity,
        cells=cells,
        activity_cells=activity_cells,
        month_from=month_from,
        month_to=month_to,
        lsoas=lsoa_tuple,
        by_event_type=tuple(totals),
        unknown=unknown,
        taxonomy=tax.name,
        harm=harm,
        total_low=total_low,
        total_high=total_high,
        drug_attributed=drug,
        drug_low=drug_low,
        drug_high=drug_high,
        not_attributed=all_harm - drug,
        not_attributed_low=all_harm - drug_high,
        not_attributed_high=all_harm - drug_low,
        attribution=attr.name,
        references={k: attr.references[k] for k in used},
        by_type_attribution=tuple(by_type),
        types=types,
    )
