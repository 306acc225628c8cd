"""Attach scheme weights to events, in the engine.

Every function here takes and returns Ibis expressions over plain columns, so the same code
runs on DuckDB, PySpark or PostgreSQL. The scheme (about 20 rows) travels as a memtable and
is joined on the event type; no per-row Python runs.

Rules
-----
- Outcome rows (``source = 'outcome'``) are never weighted: they describe what police did
  about a crime already counted in the street file.
- Stop-and-search rows (``source = 'stop_search'``) are keyed ``'Stop and search'``
  whatever their ``event_type`` says.
- Event types the scheme does not know are left out of :func:`weigh`. Nothing is left out
  silently: :func:`dropped_events` counts them (a :class:`Dropped`), every command reports it
  on stderr and every result object and report carries it.
- Harm is weighed; police activity is *counted* (:func:`harm_and_activity`): an activity event
  is one event whatever its scheme weight, because days of imprisonment measure harm to a
  victim, not police work (DESIGN §2).
- Event types match the scheme exactly (police.uk spelling, e.g. ``'Anti-social behaviour'``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from harmscope.errors import SchemeError
from harmscope.harm.attribution import Attribution, default_attribution, load_attribution
from harmscope.harm.schemes import Scheme, load_scheme
from harmscope.periods import Months, parse_month

__all__ = [
    "ACTIVITY_LABELS",
    "HARM_VIEW_NAMES",
    "OUTCOME_SOURCE",
    "STOP_AND_SEARCH",
    "STOP_SEARCH_SOURCE",
    "AttributionLike",
    "Dropped",
    "SchemeLike",
    "activity_label",
    "dropped_events",
    "drug_share_table",
    "event_key",
    "harm_and_activity",
    "keep_values",
    "parse_month",
    "repeatable_sum",
    "scheme_table",
    "select_events",
    "unknown_event_types",
    "weigh",
    "weigh_keyed",
]

#: ``source`` value of outcome rows (never weighted).
OUTCOME_SOURCE = "outcome"
#: ``source`` value of stop-and-search rows.
STOP_SEARCH_SOURCE = "stop_search"
#: Scheme key of stop-and-search rows.
STOP_AND_SEARCH = "Stop and search"

#: What the ``scheme`` argument accepts: a :class:`Scheme`, a name or a TOML path.
SchemeLike = Scheme | str | os.PathLike[str]

#: What the ``attribution`` argument accepts: an :class:`Attribution`, a TOML path, or None
#: for the packaged default.
AttributionLike = Attribution | str | os.PathLike[str] | None

#: The harm views an event-level weighing takes (``--harm``): ``'drug'`` keeps the share of
#: each event's harm attributable to drugs (central fraction), ``'all'`` every crime's harm.
HARM_VIEW_NAMES = ("drug", "all")

# Internal column names: prefixed so they cannot collide with event columns.
_KEY = "_hs_key"
_SKEY = "_hs_scheme_type"
_DKEY = "_hs_share_type"

#: Plain names of the police-found kinds of activity in the packaged schemes (a scheme's
#: other activity types are named by their event type).
ACTIVITY_LABELS: Mapping[str, str] = {
    "Drugs": "drug offences",
    "Possession of weapons": "weapons possession offences",
    STOP_AND_SEARCH: "stop-and-searches",
}


def activity_label(event_type: str) -> str:
    """The plain name of an activity kind, e.g. ``'Drugs'`` -> ``'drug offences'``.

    Examples
    --------
    >>> activity_label("Stop and search")
    'stop-and-searches'
    >>> activity_label("Fly-tipping found on patrol")
    'Fly-tipping found on patrol'
    """
    return ACTIVITY_LABELS.get(event_type, event_type)


@dataclass(frozen=True)
class Dropped:
    """Events a weight scheme left out because it does not weigh their type.

    A custom scheme that omits an event type drops its events from every harm total; this
    records how many, so that no command drops events silently. Falsy when nothing was
    left out.

    Attributes
    ----------
    scheme : str
        Scheme name.
    counts : tuple of (str, int)
        ``(event type, events left out)``, most events first, then by type; the type of
        stop-and-search rows is ``'Stop and search'``; ``''`` stands for rows with no type.

    Examples
    --------
    >>> d = Dropped.of("no-shop", {"Shoplifting": 120, "Fraud": 3})
    >>> d.events, d.types
    (123, ('Shoplifting', 'Fraud'))
    >>> d.describe()
    "scheme 'no-shop' does not weigh 2 event types in the data: 123 events left out (Shoplifting 120, Fraud 3)"
    >>> bool(Dropped.of("cchi", {}))
    False
    """

    scheme: str
    counts: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, scheme: str, counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> Dropped:
        """Build from ``{event type: events}`` (or pairs); zero counts are left out."""
        pairs = counts.items() if isinstance(counts, Mapping) else counts
        merged: dict[str, int] = {}
        for event_type, n in pairs:
            key = "" if event_type is None else str(event_type)
            merged[key] = merged.get(key, 0) + int(n)
        kept = sorted(((t, n) for t, n in merged.items() if n > 0), key=lambda tn: (-tn[1], tn[0]))
        return cls(scheme=scheme, counts=tuple(kept))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | Dropped | None) -> Dropped:
        """Back from :meth:`to_dict` (the form kept in a DataFrame's ``attrs``, which must stay
        JSON-serialisable for Parquet). A :class:`Dropped` is returned unchanged; None gives an
        empty one."""
        if isinstance(doc, Dropped):
            return doc
        if not doc:
            return cls(scheme="")
        return cls.of(str(doc.get("scheme", "")), dict(doc.get("types", {})))

    @property
    def by_type(self) -> dict[str, int]:
        """``{event type: events left out}``, most events first."""
        return dict(self.counts)

    @property
    def types(self) -> tuple[str, ...]:
        """Event types left out, most events first."""
        return tuple(t for t, _ in self.counts)

    @property
    def events(self) -> int:
        """Number of events left out."""
        return sum(n for _, n in self.counts)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def describe(self) -> str:
        """One sentence naming every type left out and its events ('' when none)."""
        if not self.counts:
            return ""
        n_types = len(self.counts)
        listed = ", ".join(f"{t or '(no event type)'} {n:,}" for t, n in self.counts)
        return (
            f"scheme {self.scheme!r} does not weigh {n_types} event "
            f"type{'s' if n_types > 1 else ''} in the data: {self.events:,} "
            f"event{'s' if self.events != 1 else ''} left out ({listed})"
        )

    def notes(self) -> list[str]:
        """``[describe()]``, or ``[]`` when nothing was left out (for report note lists)."""
        return [self.describe()] if self.counts else []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``scheme``, ``events`` (total left out), ``types`` ({type: events})."""
        return {"scheme": self.scheme, "events": self.events, "types": self.by_type}


def event_key(events: ir.Table) -> ir.StringValue:
    """The scheme key of each event: ``'Stop and search'`` for stop_search rows, else ``event_type``.

    Parameters
    ----------
    events : ibis.Table
        Needs ``event_type``; ``source`` is used when present.
    """
    if "source" not in events.columns:
        return events.event_type
    return ibis.cases(
        (events.source == STOP_SEARCH_SOURCE, ibis.literal(STOP_AND_SEARCH)),
        else_=events.event_type,
    )


def _not_outcome(events: ir.Table) -> ir.Table:
    if "source" not in events.columns:
        return events
    return events.filter(events.source.isnull() | (events.source != OUTCOME_SOURCE))


def scheme_table(scheme: SchemeLike) -> ir.Table:
    """The scheme as a memtable: ``_hs_scheme_type`` (str), ``weight`` (float64), ``kind`` (str)."""
    frame = load_scheme(scheme).to_frame().rename(columns={"event_type": _SKEY})
    return ibis.memtable(frame, schema={_SKEY: "string", "weight": "float64", "kind": "string"})


def _keyed(events: ir.Table) -> ir.Table:
    base = _not_outcome(events)
    drop = [c for c in ("weight", "kind", _KEY) if c in base.columns]
    if drop:
        base = base.drop(*drop)
    return base.mutate(**{_KEY: event_key(base)})


def _attribution(attribution: AttributionLike) -> Attribution:
    if isinstance(attribution, Attribution):
        return attribution
    return default_attribution() if attribution is None else load_attribution(attribution)


def drug_share_table(scheme: SchemeLike, attribution: AttributionLike = None) -> ir.Table:
    """Per scheme event type, the central share of its harm attributable to drugs.

    Returns
    -------
    ibis.Table
        ``_hs_share_type`` (str) and ``drug_share`` (float64, 0 to 1: the sum over drug
        sources of the central fractions, :attr:`TypeAttribution.drug`). Activity types get
        1.0: police activity is counted, never weighed, so no share applies to it.

    Raises
    ------
    SchemeError
        A harm type of the scheme has no fractions in the attribution file (its drug harm
        would otherwise vanish silently).
    """
    sch = load_scheme(scheme)
    att = _attribution(attribution)
    frame = sch.to_frame()
    harm_types = frame.loc[frame["kind"] == "harm", "event_type"].tolist()
    missing = [t for t in harm_types if t not in att.types]
    if missing:
        raise SchemeError(
            f"{att.path}: no attributable fractions for event type(s) {missing} that scheme "
            f'{sch.name!r} weighs (add [fractions."<type>"] tables; an empty table says '
            "none of its harm is drug-attributed)"
        )
    shares = {t: att.types[t].drug[1] for t in harm_types}
    return ibis.memtable(
        {
            _DKEY: frame["event_type"].tolist(),
            "drug_share": [shares.get(t, 1.0) for t in frame["event_type"]],
        },
        schema={_DKEY: "string", "drug_share": "float64"},
    )


def weigh(
    events: ir.Table,
    scheme: SchemeLike,
    *,
    harm: str = "all",
    attribution: AttributionLike = None,
    keep_unknown: bool = False,
) -> ir.Table:
    """Add ``weight`` (float64) and ``kind`` ('harm' | 'activity') to events.

    Parameters
    ----------
    events : ibis.Table
        Event rows with ``event_type`` and, normally, ``source`` (warehouse ``events``).
        Existing ``weight`` / ``kind`` columns are replaced.
    scheme : Scheme, str or path-like
        Weight scheme, or its name or TOML path (see :func:`~harmscope.harm.schemes.load_scheme`).
    harm : {'all', 'drug'}, default 'all'
        ``'all'``: each harm event carries its scheme weight. ``'drug'``: its weight times the
        share of its type's harm attributable to drugs (central fraction of the attribution
        file, :func:`drug_share_table`), so sums are drug-attributed harm (DESIGN §3).
        Activity events are unaffected (they are counted, not weighed).
    attribution : Attribution, str or path-like, optional
        Attributable fractions for ``harm='drug'``; the packaged default when None.
    keep_unknown : bool, default False
        Keep events of types the scheme does not weigh, with NULL ``weight`` and ``kind``, so
        a caller that aggregates anyway can count what it leaves out (:meth:`Dropped.of`).

    Returns
    -------
    ibis.Table
        The input columns plus ``weight`` (value of one event in the scheme's unit; for
        ``cchi``, days of imprisonment; drug-attributed days with ``harm='drug'``) and
        ``kind``. Outcome rows are excluded, and so are
        event types the scheme does not know unless ``keep_unknown`` (count them with
        :func:`dropped_events`).

    References
    ----------
    Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index.
    *Policing* 10(3), 171-183.
    """
    if harm not in HARM_VIEW_NAMES:
        raise ValueError(f"harm {harm!r}: expected one of {', '.join(HARM_VIEW_NAMES)}")
    base = _keyed(events)
    st = scheme_table(scheme)
    join = base.left_join if keep_unknown else base.inner_join
    joined = join(st, base[_KEY] == st[_SKEY]).drop(_SKEY)
    if harm == "drug":
        shares = drug_share_table(scheme, attribution)
        joined = joined.left_join(shares, joined[_KEY] == shares[_DKEY])
        joined = joined.mutate(weight=joined.weight * joined.drug_share).drop(_DKEY, "drug_share")
    return joined.drop(_KEY)


def weigh_keyed(events: ir.Table, scheme: SchemeLike) -> ir.Table:
    """Like :func:`weigh`, keeping the scheme key as ``event_key`` (stop_search -> 'Stop and search').

    Used by the matrix; handy for callers that group by scheme type.
    """
    base = _keyed(events)
    st = scheme_table(scheme)
    joined = base.inner_join(st, base[_KEY] == st[_SKEY])
    return joined.drop(_SKEY).rename(event_key=_KEY)


def unknown_event_types(events: ir.Table, scheme: SchemeLike) -> ir.Table:
    """Event types present in ``events`` that the scheme does not weight.

    Outcome rows are ignored (they are never weighted). Rows with no event type count
    under a NULL ``event_type``.

    Returns
    -------
    ibis.Table
        ``event_type`` (the scheme key) and ``events`` (row count), most frequent first.
    """
    base = _keyed(events)
    st = scheme_table(scheme)
    missing = base.anti_join(st, base[_KEY] == st[_SKEY])
    return (
        missing.group_by(event_type=missing[_KEY])
        .aggregate(events=missing.count())
        .order_by([ibis.desc("events"), "event_type"])
    )


def dropped_events(
    events: ir.Table,
    scheme: SchemeLike,
    *,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    located: bool = False,
) -> Dropped:
    """Count the events a scheme leaves out because it does not weigh their type.

    One engine query (an anti-join on the scheme, then a count per type). Call it on the same
    selection a command weighs, so the count is what that command left out.

    Parameters
    ----------
    events : ibis.Table
        Event rows (warehouse ``events`` or a selection of them). Outcome rows are never
        weighted, so they are never counted as left out.
    scheme : Scheme, str or path-like
        Weight scheme, or its name or TOML path.
    months : (from, to), optional
        Inclusive month bounds (as :func:`select_events`).
    lsoas : str or collection of str, optional
        Only these LSOAs (as :func:`select_events`).
    located : bool, default False
        Count only events with a location (``x`` and ``y`` not NULL): what a grid analysis
        (hot spots, markets, concentration) would have used.

    Returns
    -------
    Dropped
        Empty (falsy) when the scheme weighs every type present.
    """
    sch = load_scheme(scheme)
    chosen = select_events(events, months=months, lsoas=lsoas)
    if located:
        chosen = chosen.filter(chosen.x.notnull() & chosen.y.notnull())
    frame = unknown_event_types(chosen, sch).to_pandas()
    return Dropped.of(
        sch.name,
        (
            ("" if t is None or t != t else str(t), int(n))
            for t, n in zip(frame["event_type"], frame["events"], strict=True)
        ),
    )


#: Fixed-point scale of :func:`repeatable_sum`: each value moves by at most 2**-33 of the
#: scheme's unit (1.2e-10 days), below the float noise the tests allow. Values are summed as
#: DECIMAL(38, 0), which no harm total can overflow on any engine (an int64 sum would wrap
#: silently on Spark above 2e9 days); later float sums of the results stay exact below 2**21
#: days (2.1e6), above any cell's or month's harm.
SUM_SCALE = 2**32


def repeatable_sum(values: ir.NumericColumn, *, where: ir.BooleanValue | None = None) -> ir.Value:
    """The sum of *values* in fixed point: the same bits on every run and every engine.

    A float sum's last bits follow the order the engine adds rows in, which a threaded
    engine (DuckDB, Spark) changes from run to run; the board's ties then swap places and a
    saved snapshot shows moves that did not happen. Each value is rounded to a multiple of
    ``1 / SUM_SCALE`` and the multiples are added as integers, which is exact in any order.
    The result is a float64 multiple of ``1 / SUM_SCALE`` (NULL when no value is), so any
    later float sum of such results below 2**21 units is exact too.
    """
    fixed = (values * SUM_SCALE).round().cast("int64").cast(dt.Decimal(38, 0))
    return fixed.sum(where=where).cast("float64") / SUM_SCALE


def harm_and_activity(weighed: ir.Table) -> dict[str, ir.Value]:
    """The aggregations every per-place / per-month table uses: harm weighed, activity counted.

    Parameters
    ----------
    weighed : ibis.Table
        Output of :func:`weigh` (``weight``, ``kind``), possibly with cell or area columns.

    Returns
    -------
    dict of str to ibis expression
        For ``.aggregate(**...)``: ``harm`` (float64, sum of harm-kind weights, scheme unit),
        ``activity`` (int64, number of activity-kind events: police-found offences and
        searches, *counted*, never weighted), ``harm_events`` and ``activity_events`` (int64).
        ``activity`` equals ``activity_events``; both are kept so tables read plainly.

    Notes
    -----
    Activity measures police work ("busyness"), not harm: weighing it in days of
    imprisonment made one weapons-possession offence equal 274 searches (UKDPC 2009, the
    busyness critique; DESIGN §2). Rows with NULL ``kind`` (``keep_unknown``) count in
    neither.
    """
    is_harm = weighed.kind == "harm"
    is_activity = weighed.kind == "activity"
    return {
        "harm": repeatable_sum(weighed.weight, where=is_harm).coalesce(0.0),
        "activity": weighed.count(where=is_activity),
        "harm_events": weighed.count(where=is_harm),
        "activity_events": weighed.count(where=is_activity),
    }


def select_events(
    events: ir.Table,
    *,
    months: Months | None = None,
    lsoas: str | Collection[str] | None = None,
    types: Collection[str] | None = None,
) -> ir.Table:
    """Filter events to a month range, a set of LSOAs and a set of event types (engine-side).

    Parameters
    ----------
    events : ibis.Table
        Needs ``month`` (DATE, first of month) for ``months`` and ``lsoa_code`` for ``lsoas``.
    months : (from, to), optional
        Inclusive month bounds, ``'YYYY-MM'`` or dates; either end may be None (open).
    lsoas : str or collection of str, optional
        LSOA codes to keep. An empty collection keeps nothing.
    types : collection of str, optional
        Event types to keep (police.uk crime types, ``'Stop and search'`` for searches),
        matched without regard to case. Outcome rows are kept with their crime's type.
        None keeps every type.

    Raises
    ------
    ValueError
        A bound is not a month, or ``from`` is after ``to``.
    """
    out = events
    if months is not None:
        if len(months) != 2:
            raise ValueError(f"months {months!r}: expected a (from, to) pair")
        lo = parse_month(months[0]) if months[0] is not None else None
        hi = parse_month(months[1]) if months[1] is not None else None
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(
                f"months: from {lo:%Y-%m} is after to {hi:%Y-%m} (expected from <= to)"
            )
        if lo is not None:
            out = out.filter(out.month >= lo)
        if hi is not None:
            out = out.filter(out.month <= hi)
    if lsoas is not None:
        out = keep_values(out, "lsoa_code", [lsoas] if isinstance(lsoas, str) else lsoas)
    if types is not None:
        wanted = sorted({t.strip().lower() for t in types})
        out = out.filter(event_key(out).lower().isin(wanted))
    return out


#: Above this many values, :func:`keep_values` joins a table of them instead of writing them
#: into the query: a national area's 30,000 LSOA codes as ``IN (...)`` literals cost ibis and
#: the engine minutes (issue 13), a semi-join on an in-memory table costs a hash join.
INLINE_VALUES = 500


def keep_values(
    table: ir.Table, column: str, values: Collection[str], *, keep: bool = True
) -> ir.Table:
    """Rows of *table* whose *column* is in *values* (``keep=False``: is not in them).

    Nulls in *column* are never "in" and, with ``keep=False``, kept (as ``NOT IN`` would not:
    callers that want them dropped filter them first). An empty *values* keeps nothing
    (``keep=True``) or everything.
    """
    codes = sorted(set(values))
    if not codes:
        return table.filter(ibis.literal(not keep))
    if len(codes) <= INLINE_VALUES:
        inside = table[column].isin(codes)
        return table.filter(inside if keep else ~inside | table[column].isnull())
    wanted = ibis.memtable({column: codes}, schema={column: "string"})
    if keep:
        return table.semi_join(wanted, column)
    return table.anti_join(wanted, column)
