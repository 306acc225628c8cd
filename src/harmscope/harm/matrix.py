"""The harm matrix: weighted events spread over harm type x bearer x source.

The engine aggregates events per event type (one query); the ~20 resulting rows are then
spread over matrix cells by the shares of the taxonomy mapping. Harm and activity are kept
apart: ``total`` and ``cells`` hold harm only, weighed in the scheme's unit; ``activity`` and
``activity_cells`` hold police activity ("busyness"): police-found offences and searches
*counted* in events, by kind, reported beside harm and never added to it (DESIGN §2, §5).
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
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

import ibis
import ibis.expr.types as ir
import pandas as pd

from harmscope.errors import SchemeError
from harmscope.harm.schemes import Scheme, load_scheme
from harmscope.harm.taxonomy import Taxonomy, default_taxonomy, load_taxonomy
from harmscope.harm.weigh import (
    Dropped,
    SchemeLike,
    activity_label,
    event_key,
    harm_and_activity,
    parse_month,
    select_events,
    weigh,
)

__all__ = [
    "ACTIVITY_UNIT",
    "ActivityCell",
    "Cell",
    "EventTypeTotal",
    "HarmMatrix",
    "MatrixRow",
    "check_coverage",
    "harm_by_area",
    "harm_matrix",
]

Months = tuple[str | date | None, str | date | None]
Progress = Callable[[str, float], None]

#: Unit of every activity figure: police activity is counted, never weighed.
ACTIVITY_UNIT = "events"


class Cell(TypedDict):
    """One matrix cell: the DESIGN §5 shape."""

    harm_type: str
    bearer: str
    source: str
    value: float


class ActivityCell(TypedDict):
    """One kind of police activity: its scheme type, plain name and number of events."""

    event_type: str
    label: str
    value: int


class MatrixRow(TypedDict):
    """One row of :meth:`HarmMatrix.to_rows` (CSV / table output).

    Harm rows name a matrix cell (``activity`` empty); activity rows name a kind of
    activity (``harm_type``, ``bearer``, ``source`` empty) and count events.
    """

    scheme: str
    kind: str
    harm_type: str
    bearer: str
    source: str
    activity: str
    value: float
    unit: str


@dataclass(frozen=True)
class EventTypeTotal:
    """Weighted total of one event type.

    Attributes
    ----------
    event_type : str
        Scheme key (stop-and-search rows: ``'Stop and search'``).
    kind : {'harm', 'activity'}
    events : int
        Number of events.
    weight : float
        Weight of one event: the scheme weight for harm kinds; 1 for activity kinds, which
        are counted.
    value : float
        ``events * weight`` as summed by the engine (scheme unit for harm, events for
        activity).
    """

    event_type: str
    kind: str
    events: int
    weight: float
    value: float


@dataclass(frozen=True)
class HarmMatrix:
    """Measured harm matrix for a set of events, under one scheme.

    Attributes
    ----------
    scheme : str
        Scheme name.
    unit : str
        Unit of the harm values (``cchi``: days of imprisonment; ``count``: events).
    total : float
        Harm total: exactly ``sum(c["value"] for c in cells)`` in list order.
    activity : int
        Police activity: the number of activity-kind events (police-found offences and
        stop-and-searches), ``sum(c["value"] for c in activity_cells)``. Counted in
        :data:`ACTIVITY_UNIT`, never weighed.
    cells : list of Cell
        Harm cells ``{harm_type, bearer, source, value}``: every cell that a harm-kind type
        of the scheme maps to (zeros included), largest value first, ties in axis order.
    activity_cells : list of ActivityCell
        Activity by kind ``{event_type, label, value}`` (e.g. ``Drugs``, ``'drug
        offences'``, 412 events): one per activity-kind type of the scheme (zeros
        included), most events first, ties in scheme order.
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

    @property
    def dropped(self) -> Dropped:
        """Events left out because the scheme does not weigh their type (falsy if none)."""
        return Dropped.of(self.scheme, self.unknown)

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 JSON object.

        Returns
        -------
        dict
            ``scheme``, ``total`` (harm only), ``activity`` (count of activity events),
            ``cells`` (list of ``{harm_type, bearer, source, value}``), plus ``unit`` (of
            harm), ``activity_unit`` (``'events'``), ``activity_cells`` (by kind:
            ``{event_type, label, value}``), ``dropped`` (see :meth:`Dropped.to_dict`),
            ``from`` and ``to`` (``'YYYY-MM'`` or None).
        """
        return {
            "scheme": self.scheme,
            "total": self.total,
            "activity": self.activity,
            "cells": [dict(c) for c in self.cells],
            "unit": self.unit,
            "activity_unit": ACTIVITY_UNIT,
            "activity_cells": [dict(c) for c in self.activity_cells],
            "dropped": self.dropped.to_dict(),
            "from": self.month_from,
            "to": self.month_to,
        }

    def to_rows(self) -> list[MatrixRow]:
        """Flat rows for CSV or a table: harm cells, then activity by kind.

        Columns: ``scheme, kind ('harm'|'activity'), harm_type, bearer, source, activity,
        value, unit`` (activity rows: ``activity`` names the kind, ``unit`` is ``events``).
        """
        rows = [
            MatrixRow(
                scheme=self.scheme,
                kind="harm",
                harm_type=c["harm_type"],
                bearer=c["bearer"],
                source=c["source"],
                activity="",
                value=c["value"],
                unit=self.unit,
            )
            for c in self.cells
        ]
        rows += [
            MatrixRow(
                scheme=self.scheme,
                kind="activity",
                harm_type="",
                bearer="",
                source="",
                activity=c["label"],
                value=c["value"],
                unit=ACTIVITY_UNIT,
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


def check_coverage(scheme: Scheme, taxonomy: Taxonomy) -> None:
    """Check that the taxonomy maps every event type the scheme weights.

    Raises
    ------
    SchemeError
        Names the scheme, the unmapped types and the taxonomy file.
    """
    missing = [t for t in scheme.event_types if t not in taxonomy.mapping]
    if missing:
        where = scheme.path if scheme.path is not None else scheme.name
        raise SchemeError(
            f"{where}: weight: scheme {scheme.name!r} weights event types that taxonomy "
            f"{taxonomy.path} does not map: {', '.join(repr(m) for m in missing)} "
            "(add a [[mapping]] for each)"
        )


def _month_str(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return f"{pd.Timestamp(value):%Y-%m}"


def _spread(totals: list[EventTypeTotal], scheme: Scheme, taxonomy: Taxonomy) -> list[Cell]:
    values: dict[tuple[str, str, str], float] = {}
    # Every cell a harm type maps to is listed, so the shape does not depend on data.
    for w in scheme.weights:
        if w.kind == "harm":
            for share in taxonomy.cells_for(w.event_type):
                values.setdefault(share.cell, 0.0)
    for t in totals:
        if t.kind != "harm":
            continue
        for share in taxonomy.cells_for(t.event_type):
            values[share.cell] += t.value * share.share
    ordered = sorted(values.items(), key=lambda kv: (-kv[1], taxonomy.cell_order(kv[0])))
    return [Cell(harm_type=h, bearer=b, source=s, value=v) for (h, b, s), v in ordered]


def _activity_by_kind(totals: list[EventTypeTotal], scheme: Scheme) -> list[ActivityCell]:
    """One row per activity-kind type of the scheme (zeros included): events counted."""
    counted = {t.event_type: t.events for t in totals if t.kind == "activity"}
    kinds = [w.event_type for w in scheme.weights if w.kind == "activity"]
    order = {t: i for i, t in enumerate(kinds)}
    kinds.sort(key=lambda t: (-counted.get(t, 0), order[t]))
    return [
        ActivityCell(event_type=t, label=activity_label(t), value=int(counted.get(t, 0)))
        for t in kinds
    ]


def harm_matrix(
    events: ir.Table,
    *,
    scheme: SchemeLike,
    taxonomy: Taxonomy | str | os.PathLike[str] | None = None,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    progress: Progress | None = None,
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
    months : (from, to), optional
        Inclusive month bounds (``'YYYY-MM'`` or dates); either may be None.
    lsoas : str or collection of str, optional
        Restrict to these LSOA codes (events with no LSOA are then left out).
    progress : callable(str, float), optional
        Called with a stage label and the fraction done (0 to 1).

    Returns
    -------
    HarmMatrix
        Harm totals and cells (scheme unit) and activity by kind (events counted). Outcome
        rows are never weighted; event types the scheme does not know are left out and
        counted in ``unknown`` / ``dropped``.

    Raises
    ------
    SchemeError
        Invalid scheme or taxonomy, or a scheme type the taxonomy does not map.
    ValueError
        Bad month bounds.

    Notes
    -----
    One engine query aggregates events per (event type, kind); the per-type values are then
    multiplied by the taxonomy shares. A harm cell's value is
    ``sum_t share(t, cell) * weight(t) * n(t)``; an activity kind's value is ``n(t)``: police
    work is counted, not weighed in days (DESIGN §2).

    References
    ----------
    UK Drug Policy Commission (2009); Sherman, Neyroud & Neyroud (2016).
    """
    sch = load_scheme(scheme)
    tax = _taxonomy(taxonomy)
    check_coverage(sch, tax)
    if progress is not None:
        progress("harm matrix: aggregating events", 0.0)
    chosen = select_events(events, months=months, lsoas=lsoas)
    joined = weigh(chosen, sch, keep_unknown=True)
    metrics: dict[str, Any] = {"events": joined.count(), "value": joined.weight.sum()}
    has_month = "month" in joined.columns
    if has_month:
        metrics["first"] = joined.month.min()
        metrics["last"] = joined.month.max()
    agg = joined.group_by(event_type=event_key(joined), kind=joined.kind).aggregate(**metrics)
    frame = agg.execute()
    if progress is not None:
        progress("harm matrix: spreading over cells", 0.8)

    known = frame[frame["kind"].notna()]
    unknown_rows = frame[frame["kind"].isna()]
    unknown = {
        ("" if pd.isna(t) else str(t)): int(n)
        for t, n in zip(unknown_rows["event_type"], unknown_rows["events"], strict=True)
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
            known["event_type"], known["kind"], known["events"], known["value"], strict=True
        )
    ]
    totals.sort(key=lambda x: (-x.value, x.event_type))

    cells = _spread(totals, sch, tax)
    activity_cells = _activity_by_kind(totals, sch)
    total = 0.0
    for c in cells:
        total += c["value"]
    activity = sum(c["value"] for c in activity_cells)

    month_from = month_to = None
    if months is not None and months[0] is not None:
        month_from = f"{parse_month(months[0]):%Y-%m}"
    elif has_month and len(known):
        month_from = _month_str(known["first"].min())
    if months is not None and months[1] is not None:
        month_to = f"{parse_month(months[1]):%Y-%m}"
    elif has_month and len(known):
        month_to = _month_str(known["last"].max())
    lsoa_tuple: tuple[str, ...] | None
    if lsoas is None:
        lsoa_tuple = None
    elif isinstance(lsoas, str):
        lsoa_tuple = (lsoas,)
    else:
        lsoa_tuple = tuple(sorted(set(lsoas)))
    if progress is not None:
        progress("harm matrix: done", 1.0)
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
    )


def harm_by_area(
    events: ir.Table,
    *,
    scheme: SchemeLike,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    drop_unlocated: bool = False,
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

    Returns
    -------
    ibis.Table
        ``lsoa_code``, ``month``, ``harm`` (float, scheme unit), ``activity`` (int: police
        activity events, counted, see :func:`~harmscope.harm.weigh.harm_and_activity`),
        ``harm_events`` (int), ``activity_events`` (int); ordered by month then LSOA. Join
        the ``areas`` table on ``lsoa_code`` for population (harm per 1,000 residents =
        ``harm / population * 1000``) and IMD decile.
    """
    chosen = select_events(events, months=months, lsoas=lsoas)
    if drop_unlocated:
        chosen = chosen.filter(chosen.lsoa_code.notnull())
    w = weigh(chosen, scheme)
    return (
        w.group_by(["lsoa_code", "month"])
        .aggregate(**harm_and_activity(w))
        .order_by(["month", ibis.asc("lsoa_code", nulls_first=False)])
    )
