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
- Event types the scheme does not know are left out of :func:`weigh`;
  :func:`unknown_event_types` lists them so callers can warn.
- Event types match the scheme exactly (police.uk spelling, e.g. ``'Anti-social behaviour'``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from harmscope.harm.schemes import Scheme, load_scheme

__all__ = [
    "OUTCOME_SOURCE",
    "STOP_AND_SEARCH",
    "STOP_SEARCH_SOURCE",
    "SchemeLike",
    "event_key",
    "parse_month",
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

# Internal column names: prefixed so they cannot collide with event columns.
_KEY = "_hs_key"
_SKEY = "_hs_scheme_type"


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


def weigh(events: ir.Table, scheme: SchemeLike) -> ir.Table:
    """Add ``weight`` (float64) and ``kind`` ('harm' | 'activity') to events.

    Parameters
    ----------
    events : ibis.Table
        Event rows with ``event_type`` and, normally, ``source`` (warehouse ``events``).
        Existing ``weight`` / ``kind`` columns are replaced.
    scheme : Scheme, str or path-like
        Weight scheme, or its name or TOML path (see :func:`~harmscope.harm.schemes.load_scheme`).

    Returns
    -------
    ibis.Table
        The input columns plus ``weight`` (value of one event in the scheme's unit; for
        ``cchi``, days of imprisonment) and ``kind``. Outcome rows and event types the
        scheme does not know are excluded (see :func:`unknown_event_types`).

    References
    ----------
    Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index.
    *Policing* 10(3), 171-183.
    """
    base = _keyed(events)
    st = scheme_table(scheme)
    joined = base.inner_join(st, base[_KEY] == st[_SKEY])
    return joined.drop(_KEY, _SKEY)


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


def parse_month(value: str | date | datetime) -> date:
    """First day of the month of ``value``.

    Parameters
    ----------
    value : str, date or datetime
        ``'YYYY-MM'`` or a date. A day-precision string such as ``'2019-01-01'`` is refused:
        a month given as a day is ambiguous (the day is easily mistaken for a bound).

    Raises
    ------
    ValueError
        Not a month: the message quotes the value and the expected form.
    """
    if isinstance(value, datetime):
        return date(value.year, value.month, 1)
    if isinstance(value, date):
        return date(value.year, value.month, 1)
    text = str(value).strip()
    try:
        if not _MONTH_TEXT.fullmatch(text):
            raise ValueError(text)
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"month {value!r}: expected YYYY-MM (e.g. 2019-04)") from None
    return date(parsed.year, parsed.month, 1)


# Four-digit year, two-digit month, nothing else (strptime alone accepts '2019-1').
_MONTH_TEXT = re.compile(r"\d{4}-\d{2}")


def select_events(
    events: ir.Table,
    *,
    months: tuple[str | date | None, str | date | None] | None = None,
    lsoas: str | Collection[str] | None = None,
) -> ir.Table:
    """Filter events to a month range and a set of LSOAs (engine-side).

    Parameters
    ----------
    events : ibis.Table
        Needs ``month`` (DATE, first of month) for ``months`` and ``lsoa_code`` for ``lsoas``.
    months : (from, to), optional
        Inclusive month bounds, ``'YYYY-MM'`` or dates; either end may be None (open).
    lsoas : str or collection of str, optional
        LSOA codes to keep. An empty collection keeps nothing.

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
        codes = [lsoas] if isinstance(lsoas, str) else sorted(set(lsoas))
        out = out.filter(out.lsoa_code.isin(codes)) if codes else out.filter(ibis.literal(False))
    return out
