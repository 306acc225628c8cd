"""The force records a people, groups or behaviours ranking needs, read once and audited.

:func:`read_records` reads the five personal tables (nominals, links, reports, crime-person
links, arrests) through :func:`harmscope.warehouse.personal.read_personal` — one
``audit_log`` row per table, with the caller's user and reason — and the two tables that are
not personal (groups, markets) directly, then keeps the records of the period asked for.
Nothing here names a personal table: the names come from the records formats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harmscope.errors import HarmScopeError
from harmscope.periods import parse_month
from harmscope.sources.records.formats import FORMATS
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.personal import read_personal

__all__ = ["LOAD_HINT", "NoRecordsError", "Records", "month_index", "read_records"]

#: What to run when no records are loaded (every lens over records says it).
LOAD_HINT = (
    "load force records with `harmscope load-records DIR... --db FILE --user NAME "
    "--reason TEXT` (e.g. a simulated city's intel/ and records/ folders)"
)

#: Columns read from each personal table (only what the rankings use: data minimisation).
COLUMNS: dict[str, tuple[str, ...]] = {
    "nominals": (
        "nominal_id",
        "recorded_role",
        "group_id",
        "market_id",
        "marker_violence",
        "marker_firearms",
        "marker_weapons",
        "first_recorded",
    ),
    "links": (
        "source_id",
        "source_kind",
        "target_id",
        "target_kind",
        "link_type",
        "first_recorded",
        "source_evaluation",
        "intelligence_assessment",
    ),
    "reports": (
        "report_id",
        "month",
        "subject_id",
        "behaviour",
        "market_id",
        "source_evaluation",
        "intelligence_assessment",
    ),
    "crime_people": ("crime_id", "nominal_id", "role", "month"),
    "arrests": ("arrest_id", "nominal_id", "month", "offence", "custody_outcome", "custody_until"),
}


class NoRecordsError(HarmScopeError, LookupError):
    """The warehouse holds no force records (nominals) to rank people, groups or behaviours."""


def month_index(values: Any) -> Any:
    """Months (dates, timestamps or ``YYYY-MM``) as whole months since year 0 (``12*y + m - 1``).

    Works on a pandas Series (NaT/blank → NaN) or a scalar.
    """
    if isinstance(values, pd.Series):
        ts = pd.to_datetime(values, errors="coerce")
        return ts.dt.year * 12 + ts.dt.month - 1
    d = parse_month(values) if isinstance(values, str) else values
    return d.year * 12 + d.month - 1


@dataclass
class Records:
    """Force records of one period (pandas frames; person columns hold pseudonyms).

    ``start`` and ``end`` are month indices (:func:`month_index`) of the period's first and
    last month; ``crime_people``, ``reports`` and ``arrests`` hold that period's rows, with
    ``m`` their month index; ``links`` and ``nominals`` hold what was first recorded by the
    end (or undated).
    """

    nominals: pd.DataFrame
    links: pd.DataFrame
    reports: pd.DataFrame
    crime_people: pd.DataFrame
    arrests: pd.DataFrame
    groups: pd.DataFrame
    markets: pd.DataFrame
    start: int
    end: int

    @property
    def months(self) -> int:
        """Length of the period in months."""
        return self.end - self.start + 1

    def label(self, index: int) -> str:
        """``YYYY-MM`` of a month index."""
        return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _in_period(
    frame: pd.DataFrame, col: str, start: int, end: int, *, undated: bool
) -> pd.DataFrame:
    m = month_index(frame[col])
    keep = m.between(start, end) | (m.isna() if undated else False)
    return frame.loc[keep].assign(m=m[keep]).reset_index(drop=True)


def read_records(
    source: Any,
    *,
    user: str | None,
    reason: str | None,
    months: Sequence[Any] | None = None,
) -> Records:
    """Read the records of a period, every personal table through the audited read.

    Parameters
    ----------
    source : Warehouse or path
        The warehouse holding the records (``harmscope load-records``); writable, because
        every read writes its audit row first.
    user, reason : str
        Who reads and why (DPA 2018 s. 62), written to ``audit_log`` for each table read.
    months : (from, to), optional
        Inclusive months (``YYYY-MM`` or dates; either may be None). Default: from the
        first to the last month of the crime-person links, reports and arrests.

    Returns
    -------
    Records

    Raises
    ------
    NoRecordsError
        No nominals are loaded (the message says how to load them).
    AuditError
        No user or reason, or the warehouse cannot log the read.
    """
    tables = {name: FORMATS[name].table for name in COLUMNS}
    with Warehouse.of(source) as wh:
        if wh.count(tables["nominals"]) == 0:
            raise NoRecordsError(f"{wh.path}: no force records are loaded; {LOAD_HINT}")
        present = {name: wh.has(t) for name, t in tables.items()}
        other = {
            name: (
                wh.table(FORMATS[name].table).to_pandas()
                if wh.has(FORMATS[name].table)
                else pd.DataFrame(columns=[c.name for c in FORMATS[name].columns])
            )
            for name in ("groups", "markets")
        }
    frames: dict[str, pd.DataFrame] = {}
    for name, cols in COLUMNS.items():
        if present[name]:
            frames[name] = read_personal(
                source, tables[name], user=user, reason=reason, columns=list(cols)
            )
        else:
            frames[name] = pd.DataFrame(columns=list(cols))
    dated = pd.concat(
        [month_index(frames[n]["month"]) for n in ("crime_people", "reports", "arrests")]
    ).dropna()
    lo = hi = None
    if months is not None:
        lo = month_index(months[0]) if months[0] is not None else None
        hi = month_index(months[1]) if months[1] is not None else None
    start = int(lo if lo is not None else (dated.min() if len(dated) else 0))
    end = int(hi if hi is not None else (dated.max() if len(dated) else start))
    if end < start:
        raise ValueError(f"months: from {months} is after to (expected from <= to)")
    return Records(
        nominals=_in_period(frames["nominals"], "first_recorded", -(10**6), end, undated=True),
        links=_in_period(frames["links"], "first_recorded", -(10**6), end, undated=True),
        reports=_in_period(frames["reports"], "month", start, end, undated=False),
        crime_people=_in_period(frames["crime_people"], "month", start, end, undated=False),
        # arrests before the period still tell who is held at its end
        arrests=_in_period(frames["arrests"], "month", -(10**6), end, undated=False),
        groups=other["groups"],
        markets=other["markets"],
        start=start,
        end=end,
    )
