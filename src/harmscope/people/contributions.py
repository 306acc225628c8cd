"""Every piece of harm attributed to a nominal, one row each: linked offences and reports.

:func:`contributions` turns a period's :class:`~harmscope.people.records.Records` into one
long table the three rankings (people, groups, behaviours) sum in different ways:

* a **linked offence** (role offender or suspect) carries its crime's harm in the chosen view
  (``harm='drug'``: the drug-attributed part, the central attributable fraction of
  :mod:`harmscope.harm.attribution`; ``'all'``: all of it) times the link's split
  (:func:`~harmscope.people.offences.linked_offences`); ``low`` leaves suspects out (only
  what an outcome names), ``high`` equals the central value;
* a **graded intelligence report** carries its behaviour's days
  (:mod:`harmscope.people.severity`) times its 3x5x2 confidence (source evaluation x
  intelligence assessment weights); ``low`` is the same, ``high`` takes every report as true
  (confidence 1).

``conf`` is the row's confidence (role weight for offences, grading weight for reports): the
board's ``confidence`` column is its value-weighted mean. Victims' shares of their crimes'
harm are kept apart (:attr:`Contributions.victims`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.harm.selection import check_harm
from harmscope.harm.shares import matrix_shares
from harmscope.harm.weigh import SchemeLike
from harmscope.people.offences import OFFENDING_ROLES, linked_offences
from harmscope.people.records import Records
from harmscope.people.severity import SeverityTable

__all__ = ["ROW_COLUMNS", "Contributions", "contributions", "grade_confidence"]

#: Columns of :attr:`Contributions.rows`.
ROW_COLUMNS = (
    "nominal_id",
    "m",
    "origin",
    "role",
    "behaviour",
    "event_key",
    "crime_id",
    "all_value",
    "value",
    "low",
    "high",
    "conf",
)


@dataclass
class Contributions:
    """The attributed harm of a period, per contribution."""

    rows: pd.DataFrame
    """:data:`ROW_COLUMNS`: ``origin`` is ``offence`` or ``report``; ``all_value`` is an
    offence's all-crime harm share (for the matrix spread), ``value``/``low``/``high`` the
    harm in the view (scheme unit); ``m`` the month index."""
    victims: pd.DataFrame
    """``nominal_id, m, crime_id, event_key, value``: victims' shares (the view), kept apart."""
    shares: pd.DataFrame
    """:func:`~harmscope.harm.shares.matrix_shares` of the view (offence cells)."""
    table: SeverityTable
    unit: str
    """The scheme's unit (``days of imprisonment`` for cchi)."""
    unmatched_links: int = 0
    """Crime-person links of the period whose Crime ID no street row holds (left out)."""
    unknown_reports: int = 0
    """Reports whose behaviour the severity table does not know (left out)."""


def grade_confidence(
    table: SeverityTable, source_evaluation: pd.Series, assessment: pd.Series
) -> np.ndarray:
    """Confidence 0-1 of graded intelligence: source-evaluation weight x assessment weight.

    Unknown or blank grades count 0 (never guessed).
    """
    se = source_evaluation.astype(str).str.strip().map(table.source_evaluation)
    ia = assessment.astype(str).str.strip().map(table.intelligence_assessment)
    return (se.fillna(0.0) * ia.fillna(0.0)).to_numpy(dtype=float)


def contributions(
    records: Records,
    events: ir.Table,
    table: SeverityTable,
    *,
    scheme: SchemeLike = "cchi",
    harm: str = "drug",
    types: Collection[str] | None = None,
    unit: str = "days of imprisonment",
) -> Contributions:
    """Linked offences and graded reports of a period as harm contributions per nominal.

    Parameters
    ----------
    records : Records
        The period's force records (:func:`~harmscope.people.records.read_records`).
    events : ibis.Table
        Warehouse events (the crimes the links name).
    table : SeverityTable
        Behaviour severities, grading and role weights.
    scheme : default 'cchi'
    harm : {'drug', 'all'}, default 'drug'
        The view of harm (DESIGN §3).
    types : collection of str, optional
        Crime types of linked offences to keep (reports are kept whatever their behaviour).
    unit : str
        The scheme's unit, carried for the words.
    """
    view = check_harm(harm)
    shares = matrix_shares(scheme, harm=view)
    factor = shares.groupby("event_key")["share"].sum()
    cp = records.crime_people
    linked = linked_offences(cp, events, scheme=scheme, types=types)
    # plain arrays: one boolean selection per column, no intermediate frames
    role_all = linked["role"].to_numpy()
    sel = np.isin(role_all, OFFENDING_ROLES)
    role = role_all[sel]
    key = linked["event_key"].to_numpy()[sel]
    all_value = (linked["weight"].to_numpy(dtype=float) * linked["split"].to_numpy())[sel]
    codes, types = pd.factorize(key)
    value = all_value * np.array([factor.get(t, 0.0) for t in types], dtype=float)[codes]
    is_offender = role == "offender"
    behaviour = np.array([table.behaviour_of_offence(t) for t in types], dtype=object)[codes]
    offences = pd.DataFrame(
        {
            "nominal_id": linked["nominal_id"].to_numpy()[sel],
            "m": linked["m"].to_numpy(dtype=np.int64)[sel],
            "origin": "offence",
            "role": role,
            "behaviour": behaviour,
            "event_key": key,
            "crime_id": linked["crime_id"].to_numpy()[sel],
            "all_value": all_value,
            "value": value,
            "low": np.where(is_offender, value, 0.0),
            "high": value,
            "conf": np.where(is_offender, table.roles["offender"], table.roles["suspect"]),
        }
    )
    rep = records.reports
    bid = (
        rep["behaviour"]
        .astype(str)
        .map({w: table.behaviour_of_report(w) for w in rep["behaviour"].astype(str).unique()})
    )
    known = bid.notna().to_numpy()
    rep, bid = rep.loc[known], bid[known]
    days = bid.map({k: b.days for k, b in table.behaviours.items()}).to_numpy(dtype=float)
    conf = grade_confidence(table, rep["source_evaluation"], rep["intelligence_assessment"])
    reports = pd.DataFrame(
        {
            "nominal_id": rep["subject_id"].to_numpy(),
            "m": rep["m"].to_numpy(dtype=np.int64),
            "origin": "report",
            "role": "report",
            "behaviour": bid.to_numpy(),
            "event_key": "",
            "crime_id": rep["report_id"].to_numpy(),
            "all_value": 0.0,
            "value": days * conf,
            "low": days * conf,
            "high": days,
            "conf": conf,
        }
    )
    victims_of = linked[linked["role"] == "victim"]
    victims = pd.DataFrame(
        {
            "nominal_id": victims_of["nominal_id"].to_numpy(),
            "m": victims_of["m"].to_numpy(dtype=np.int64),
            "crime_id": victims_of["crime_id"].to_numpy(),
            "event_key": victims_of["event_key"].to_numpy(),
            "value": (
                victims_of["weight"] * victims_of["split"] * victims_of["event_key"].map(factor)
            )
            .fillna(0.0)
            .to_numpy(dtype=float),
        }
    )
    parts = [p for p in (offences, reports) if len(p)]
    rows = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in ROW_COLUMNS})
    )
    rows = rows[list(ROW_COLUMNS)]
    return Contributions(
        rows=rows,
        victims=victims,
        shares=shares,
        table=table,
        unit=unit,
        unmatched_links=int(linked.attrs.get("unmatched", 0)),
        unknown_reports=int((~known).sum()),
    )
