"""Which months the warehouse holds, and whether a requested period falls inside them.

A period outside the data gives an empty answer (harm 0.0) that reads like "no harm" rather
than "no data". :func:`check_months` is the one check every analysis face calls before it
answers: it refuses a period with no month of data and warns about one that reaches past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from harmscope.errors import WarehouseError
from harmscope.periods import parse_month

__all__ = ["Coverage", "check_months", "months_covered"]


@dataclass(frozen=True)
class Coverage:
    """First and last month (first days) holding any event, and how many distinct months do."""

    first: date
    last: date
    months: int

    def __str__(self) -> str:
        return f"{self.first:%Y-%m} to {self.last:%Y-%m} ({self.months} months with data)"


def months_covered(events: ir.Table) -> Coverage | None:
    """The months of ``events`` (engine-side aggregate), or None when it holds no event.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events`` (needs ``month``, a DATE holding the first of the month).
    """
    row = events.aggregate(
        first=events.month.min(), last=events.month.max(), months=events.month.nunique()
    ).to_pandas()
    first, last = row["first"].iloc[0], row["last"].iloc[0]
    if pd.isna(first) or pd.isna(last):
        return None
    return Coverage(_as_date(first), _as_date(last), int(row["months"].iloc[0]))


def check_months(
    events: ir.Table, months: tuple[Any, Any] | None, *, what: str = "the warehouse"
) -> str | None:
    """Refuse a period holding no month of data; describe one that reaches past the data.

    Parameters
    ----------
    events : ibis.Table
        Warehouse ``events``.
    months : (from, to) or None
        Inclusive bounds, ``'YYYY-MM'`` or dates; either may be None (open). None checks
        nothing (the whole warehouse is asked for).
    what : str
        How messages name the data (e.g. a file name).

    Returns
    -------
    str or None
        A warning when part of the period lies outside the data (the answer then covers
        only the overlap), else None.

    Raises
    ------
    ValueError
        A bound is not ``YYYY-MM``, or from is after to.
    WarehouseError
        The period holds no month of data, or the warehouse holds no events at all; the
        message names the months the warehouse covers.
    """
    if months is None or (months[0] is None and months[1] is None):
        return None
    lo = parse_month(months[0]) if months[0] is not None else None
    hi = parse_month(months[1]) if months[1] is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"months: from {lo:%Y-%m} is after to {hi:%Y-%m} (expected from <= to)")
    if lo is not None and hi is not None:
        asked = f"{lo:%Y-%m} to {hi:%Y-%m}"
    else:
        asked = f"{lo:%Y-%m} onwards" if lo is not None else f"up to {hi:%Y-%m}"
    cov = months_covered(events)
    if cov is None:
        raise WarehouseError(f"{what} holds no events: no answer for {asked}")
    if (lo is not None and lo > cov.last) or (hi is not None and hi < cov.first):
        raise WarehouseError(
            f"no data for {asked}: {what} covers {cov}; choose months inside that range"
        )
    outside = (lo is not None and lo < cov.first) or (hi is not None and hi > cov.last)
    if not outside:
        return None
    used_lo = max(lo, cov.first) if lo is not None else cov.first
    used_hi = min(hi, cov.last) if hi is not None else cov.last
    return (
        f"{asked} reaches outside the data: {what} covers {cov}; "
        f"the figures cover {used_lo:%Y-%m} to {used_hi:%Y-%m} only"
    )


def _as_date(value: object) -> date:
    ts = pd.Timestamp(value)
    return date(ts.year, ts.month, 1)
