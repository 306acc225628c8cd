"""Harm vs busyness scorecard: what police did, beside what changed for the community.

"Arrest and seizure figures simply show us how busy the enforcement agencies have been"
(UKDPC 2009). The scorecard puts the usual activity counts on one side and outcome measures
on the other, for any set of LSOAs and months:

* **activity** ("busyness"): drug offences recorded (mostly found by police),
  possession-of-weapons offences, stop-and-searches and searches for drugs, the drug-search
  find rate (share whose outcome was linked to the object of the search), arrests from
  searches, and court and police outcomes from the outcomes files (share charged, share of
  outcomes where an offender was given a sanction, and the same for drug offences);
* **outcome**: harm by weight scheme (e.g. CCHI days, and the event count for comparison),
  harm per 1,000 residents where the ``areas`` table has populations, community perceptions
  where survey responses are loaded (:mod:`~harmscope.evaluate.survey`), and harms from
  control itself: searches that found nothing (no further action) and strip searches.

Every number is one Ibis query over plain warehouse columns (DuckDB by default).

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address harms*.
London: UKDPC (the "busyness" critique and the call for new measures).

Sherman, L. W., Neyroud, P. W., & Neyroud, E. (2016). The Cambridge Crime Harm Index.
*Policing*, 10(3), 171-183.

Home Office (2023). *Police powers and procedures: stop and search*, England and Wales
(find rate = outcome linked to the object of the search).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir
import pandas as pd

from harmscope.harm import Dropped, dropped_events, load_scheme, select_events, weigh
from harmscope.harm.selection import (
    DEFAULT_HARM,
    check_harm,
    check_types,
    harm_label,
    selection_attrs,
)
from harmscope.harm.weigh import AttributionLike
from harmscope.warehouse.handle import Warehouse

__all__ = ["Measure", "Scorecard", "scorecard"]

Side = Literal["activity", "outcome"]

#: Stop-and-search outcomes that mean nothing was found and no action followed.
NO_FURTHER_ACTION = ("A no further action disposal", "Nothing found - no further action")
_NFA = NO_FURTHER_ACTION
_CHARGED = ("Suspect charged", "Suspect charged as part of another case")
_ARREST = ("Arrest", "Suspect arrested")
DRUG_SEARCH = "Controlled drugs"


@dataclass(frozen=True)
class Measure:
    """One line of the scorecard.

    Attributes
    ----------
    side : {"activity", "outcome"}
        Police activity ("busyness") or an outcome for the community.
    key : str
        Stable machine name (e.g. ``drug_search_find_rate``).
    label : str
        Plain-language name.
    value : float or None
        The number; None when the data needed do not exist (e.g. no survey loaded).
    unit : str
        ``events``, ``share`` (0-1), a harm unit, ``per 1,000 residents`` ...
    note : str
        How it was computed, or why it is missing.
    """

    side: Side
    key: str
    label: str
    value: float | None
    unit: str
    note: str = ""


@dataclass(frozen=True)
class Scorecard:
    """Activity beside outcomes for one area and period.

    Attributes
    ----------
    measures : list of Measure
    months : (str or None, str or None)
        First and last month covered (``YYYY-MM``).
    lsoas : tuple of str
        LSOAs covered (empty = every event in the warehouse).
    """

    measures: list[Measure]
    months: tuple[str | None, str | None]
    lsoas: tuple[str, ...] = ()
    schemes: tuple[str, ...] = field(default=())
    #: Per scheme, the street events of types it does not weigh (left out of its harm).
    dropped: tuple[Dropped, ...] = ()
    #: View of the harm measures (``'drug'`` or ``'all'``) and the crime types kept.
    harm_view: str = DEFAULT_HARM
    types: tuple[str, ...] | None = None

    def get(self, key: str) -> Measure:
        """The measure named ``key`` (KeyError when absent)."""
        for m in self.measures:
            if m.key == key:
                return m
        raise KeyError(key)

    def value(self, key: str) -> float:
        """The number of measure ``key``; ValueError when the data for it do not exist."""
        v = self.get(key).value
        if v is None:
            raise ValueError(f"no value for {key!r}: {self.get(key).note}")
        return v

    def to_rows(self) -> list[dict[str, Any]]:
        """Flat rows: ``side, key, label, value, unit, note`` (CSV, tables)."""
        return [
            {
                "side": m.side,
                "key": m.key,
                "label": m.label,
                "value": m.value,
                "unit": m.unit,
                "note": m.note,
            }
            for m in self.measures
        ]

    def to_frame(self) -> pd.DataFrame:
        """:meth:`to_rows` as a DataFrame."""
        return pd.DataFrame(
            self.to_rows(), columns=["side", "key", "label", "value", "unit", "note"]
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``from``, ``to``, ``lsoas``, ``activity`` and ``outcome`` lists."""
        rows = self.to_rows()
        return {
            "from": self.months[0],
            "to": self.months[1],
            "lsoas": list(self.lsoas),
            "schemes": list(self.schemes),
            **selection_attrs(self.harm_view, self.types),
            "dropped": [d.to_dict() for d in self.dropped if d],
            "activity": [r for r in rows if r["side"] == "activity"],
            "outcome": [r for r in rows if r["side"] == "outcome"],
        }


def _share(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def _scalar(expr: ir.Scalar) -> float:
    value = expr.execute()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(value)


def _fmt_month(d: Any) -> str | None:
    if d is None or (isinstance(d, float) and math.isnan(d)) or d is pd.NaT:
        return None
    return pd.Timestamp(d).strftime("%Y-%m")


def scorecard(
    *,
    db: str | Path | None = None,
    con: Any = None,
    lsoas: Collection[str] | None = None,
    months: tuple[str | date | None, str | date | None] | None = None,
    schemes: Sequence[str] = ("cchi", "count"),
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: Collection[str] | None = None,
) -> Scorecard:
    """Harm vs busyness scorecard for a set of LSOAs and months.

    Parameters
    ----------
    db : str or Path, optional
        Warehouse file (default ``$HARMSCOPE_DB`` or ``harmscope.duckdb``).
    con : ibis backend, optional
        Open Ibis connection instead of ``db``.
    lsoas : collection of str, optional
        LSOA codes (default: every event, including those with no LSOA).
    months : (from, to), optional
        Inclusive month bounds (``YYYY-MM``); either may be None.
    schemes : sequence of str
        Weight schemes for the harm measures (default ``cchi`` and ``count``).
    harm : {'drug', 'all'}, default 'drug'
        View of the harm measures: drug-attributed (default) or every crime's; their labels
        name it. Activity is counted and does not depend on it.
    attribution : Attribution or path, optional
        Attributable fractions of the drug view.
    types : collection of str, optional
        Crime types of the harm measures (police.uk names, any case); the activity side
        keeps its fixed definitions (drug offences, weapons, searches, outcomes).

    Returns
    -------
    Scorecard

    Notes
    -----
    Find rate = searches for controlled drugs whose outcome was linked to the object of the
    search ÷ drug searches with that field recorded. Charged share = outcome rows "Suspect
    charged" (incl. "as part of another case") ÷ all outcome rows recorded in the period;
    sanction share = rows starting "Offender given", "Offender sent", "Offender fined",
    "Offender ordered" or "Offender deprived" ÷ all. Drug-offence outcomes are outcome rows
    whose Crime ID is a Drugs crime in the street files. Outcome rows are dated by the month
    the outcome was recorded, not the crime.
    """
    with Warehouse.of(con if con is not None else db) as wh:
        return _scorecard(
            wh,
            lsoas=lsoas,
            months=months,
            schemes=schemes,
            harm=check_harm(harm),
            attribution=attribution,
            types=check_types(types),
        )


def _scorecard(
    wh: Warehouse,
    *,
    lsoas: Collection[str] | None,
    months: tuple[str | date | None, str | date | None] | None,
    schemes: Sequence[str],
    harm: str = DEFAULT_HARM,
    attribution: AttributionLike = None,
    types: tuple[str, ...] | None = None,
) -> Scorecard:
    """:func:`scorecard` on an open warehouse."""
    con = wh.backend
    events = wh.events()
    codes = list(dict.fromkeys(lsoas)) if lsoas else None
    ev = select_events(events, months=months, lsoas=codes)
    street = ev.filter(ev.source == "street")
    ss = ev.filter(ev.source == "stop_search")
    oc = ev.filter(ev.source == "outcome")
    m: list[Measure] = []

    # ---- activity ------------------------------------------------------------------------
    drugs = _scalar(street.filter(street.event_type == "Drugs").count())
    m.append(
        Measure(
            "activity",
            "drug_offences",
            "Drug offences recorded",
            drugs,
            "events",
            "street rows of type Drugs: mostly found by police, so a measure of work",
        )
    )
    weapons = _scalar(street.filter(street.event_type == "Possession of weapons").count())
    m.append(
        Measure(
            "activity",
            "weapons_offences",
            "Possession of weapons offences recorded",
            weapons,
            "events",
            "mostly found by police",
        )
    )
    # Missing is not zero: say why searches or outcomes cannot be counted, never print 0.
    whole = select_events(events, months=months)
    no_ss = _why_missing(whole, "stop_search", codes)
    no_oc = _why_missing(whole, "outcome", None)
    n_ss = _scalar(ss.count())
    m.append(Measure("activity", "searches", "Stop-and-searches", n_ss, "events"))
    drug_ss = ss.filter(ss.object_of_search == DRUG_SEARCH)
    n_drug_ss = _scalar(drug_ss.count())
    m.append(
        Measure(
            "activity",
            "drug_searches",
            "Stop-and-searches for drugs",
            n_drug_ss,
            "events",
            "object of search: Controlled drugs",
        )
    )
    linked = _scalar(drug_ss.count(where=drug_ss.outcome_linked == True))  # noqa: E712
    known = _scalar(drug_ss.count(where=drug_ss.outcome_linked.notnull()))
    m.append(
        Measure(
            "activity",
            "drug_search_find_rate",
            "Drug-search find rate",
            _share(linked, known),
            "share",
            f"{linked:.0f} of {known:.0f} drug searches with the outcome linked to "
            "the object of the search",
        )
    )
    arrests = _scalar(ss.count(where=ss.outcome.isin(list(_ARREST))))
    m.append(
        Measure("activity", "search_arrests", "Arrests from stop-and-search", arrests, "events")
    )
    n_oc = _scalar(oc.count())
    charged = _scalar(oc.count(where=oc.event_type.isin(list(_CHARGED))))
    sanction = _scalar(oc.count(where=_sanction(oc)))
    m.append(
        Measure(
            "activity",
            "outcomes",
            "Outcomes recorded (outcomes files)",
            n_oc,
            "events",
            "",
        )
    )
    m.append(
        Measure(
            "activity",
            "charged_share",
            "Share of outcomes: suspect charged",
            _share(charged, n_oc),
            "share",
            f"{charged:.0f} of {n_oc:.0f}",
        )
    )
    m.append(
        Measure(
            "activity",
            "sanction_share",
            "Share of outcomes: offender given a sanction",
            _share(sanction, n_oc),
            "share",
            f"{sanction:.0f} of {n_oc:.0f}",
        )
    )
    drug_ids = street.filter(street.event_type == "Drugs").select("crime_id").distinct()
    drug_oc = oc.semi_join(drug_ids, oc.crime_id == drug_ids.crime_id)
    n_drug_oc = _scalar(drug_oc.count())
    drug_charged = _scalar(drug_oc.count(where=drug_oc.event_type.isin(list(_CHARGED))))
    m.append(
        Measure(
            "activity",
            "drug_outcomes",
            "Outcomes of drug offences",
            n_drug_oc,
            "events",
            "outcome rows whose Crime ID is a Drugs crime in the street "
            "files of the same area and period",
        )
    )
    m.append(
        Measure(
            "activity",
            "drug_charged_share",
            "Share of drug-offence outcomes: suspect charged",
            _share(drug_charged, n_drug_oc),
            "share",
            f"{drug_charged:.0f} of {n_drug_oc:.0f}",
        )
    )

    # ---- outcomes -------------------------------------------------------------------------
    population = _population(con, codes)
    dropped = []
    weighed = select_events(street, types=types)
    label = harm_label(harm) + ("" if types is None else f", {', '.join(types)} only")
    for name in schemes:
        sch = load_scheme(name)
        dropped.append(dropped_events(weighed, sch))
        w = weigh(weighed, sch, harm=harm, attribution=attribution)
        harm_value = _scalar(w.weight.sum(where=w.kind == "harm"))
        m.append(
            Measure(
                "outcome",
                f"harm_{sch.name}",
                f"Harm ({sch.name}, {label})",
                harm_value,
                sch.unit,
                "weighted street crime and ASB of harm kind; activity types excluded",
            )
        )
        if population:
            m.append(
                Measure(
                    "outcome",
                    f"harm_{sch.name}_per_1000",
                    f"Harm ({sch.name}, {label}) per 1,000 residents",
                    1000 * harm_value / population,
                    f"{sch.unit} per 1,000 residents",
                    f"population {population:,.0f} (areas table)",
                )
            )
    nfa = _scalar(ss.count(where=ss.outcome.isin(list(_NFA))))
    m.append(
        Measure(
            "outcome",
            "searches_nothing_found",
            "Searches that found nothing",
            nfa,
            "events",
            "no further action: a harm from control (intrusion, lost trust)",
        )
    )
    m.append(
        Measure(
            "outcome",
            "searches_nothing_found_share",
            "Share of searches that found nothing",
            _share(nfa, n_ss),
            "share",
            f"{nfa:.0f} of {n_ss:.0f}",
        )
    )
    strip = _scalar(ss.count(where=ss.removal_of_clothing == True))  # noqa: E712
    m.append(
        Measure(
            "outcome",
            "strip_searches",
            "Searches with more than outer clothing removed",
            strip,
            "events",
            "harm from control",
        )
    )
    m.extend(_survey_measures(con, codes, months))
    m = [
        _blank(x, no_ss if x.key in _SEARCH_KEYS else no_oc if x.key in _OUTCOME_KEYS else "")
        for x in m
    ]

    first, last = _bounds(ev, months)
    return Scorecard(
        measures=m,
        months=(first, last),
        lsoas=tuple(codes or ()),
        schemes=tuple(schemes),
        harm_view=harm,
        types=types,
        dropped=tuple(dropped),
    )


_SEARCH_KEYS = frozenset(
    {
        "searches",
        "drug_searches",
        "drug_search_find_rate",
        "search_arrests",
        "searches_nothing_found",
        "searches_nothing_found_share",
        "strip_searches",
    }
)
_OUTCOME_KEYS = frozenset(
    {"outcomes", "charged_share", "sanction_share", "drug_outcomes", "drug_charged_share"}
)


def _why_missing(whole: ir.Table, source: str, codes: list[str] | None) -> str:
    """Why measures from ``source`` rows cannot be counted here ("" when they can)."""
    if _scalar(whole.filter(whole.source == source).count()) == 0:
        what = "stop-and-search" if source == "stop_search" else "outcomes"
        return f"no data: no {what} records in the warehouse for these months"
    if source == "stop_search" and codes:
        return (
            "no data: police.uk stop-and-search records carry no LSOA, so none can be "
            "counted for LSOAs (the force-wide card has them)"
        )
    return ""


def _blank(measure: Measure, why: str) -> Measure:
    """``measure`` with no value and the reason, when its data are missing."""
    if not why:
        return measure
    return Measure(measure.side, measure.key, measure.label, None, measure.unit, why)


def _sanction(oc: ir.Table) -> ir.BooleanValue:
    t = oc.event_type
    return (
        t.startswith("Offender given")
        | t.startswith("Offender sent")
        | t.startswith("Offender fined")
        | t.startswith("Offender ordered")
        | t.startswith("Offender deprived")
    )


def _bounds(
    ev: ir.Table, months: tuple[str | date | None, str | date | None] | None
) -> tuple[str | None, str | None]:
    lo = months[0] if months else None
    hi = months[1] if months else None
    if lo is None or hi is None:
        row = ev.aggregate(lo=ev.month.min(), hi=ev.month.max()).execute().iloc[0]
        lo = lo if lo is not None else _fmt_month(row["lo"])
        hi = hi if hi is not None else _fmt_month(row["hi"])
    return (_fmt_month(lo) if lo else None, _fmt_month(hi) if hi else None)


def _population(con: Any, codes: list[str] | None) -> float:
    """Residents of the LSOAs (0 when unknown for any of them, or no LSOAs given)."""
    if not codes or "areas" not in con.list_tables():
        return 0.0
    areas = con.table("areas")
    sel = areas.filter(areas.lsoa_code.isin(codes))
    row = (
        sel.aggregate(n=sel.count(), pop=sel.population.sum(), known=sel.population.count())
        .execute()
        .iloc[0]
    )
    if int(row["n"]) != len(codes) or int(row["known"]) != len(codes):
        return 0.0
    return float(row["pop"])


def _survey_measures(
    con: Any, codes: list[str] | None, months: tuple[str | date | None, str | date | None] | None
) -> list[Measure]:
    label = "Community survey"
    # The warehouse creates every table when written to, so "no survey" is an empty table too.
    if (
        "survey_responses" not in con.list_tables()
        or int(con.table("survey_responses").count().execute()) == 0
    ):
        return [
            Measure(
                "outcome",
                "survey_responses",
                f"{label}: responses",
                None,
                "responses",
                "no survey loaded (harmscope load-survey FILE)",
            )
        ]
    s = con.table("survey_responses")
    s = select_events(s, months=months, lsoas=codes)
    row = (
        s.aggregate(
            n=s.count(),
            conf_n=s.confidence_in_police.count(),
            conf=s.count(where=s.confidence_in_police >= 4),
            prob_n=s.drug_problem.count(),
            prob=s.count(where=s.drug_problem >= 3),
            safe_n=s.feel_safe_after_dark.count(),
            safe=s.count(where=s.feel_safe_after_dark >= 3),
        )
        .execute()
        .iloc[0]
    )
    n = float(row["n"])
    note = "" if n else "no survey responses for this area and period"
    return [
        Measure("outcome", "survey_responses", f"{label}: responses", n, "responses", note),
        Measure(
            "outcome",
            "confidence_in_police",
            "Confidence in the local police (agree)",
            _share(float(row["conf"]), float(row["conf_n"])),
            "share",
            "tend to or strongly agree",
        ),
        Measure(
            "outcome",
            "drug_problem",
            "Say drug use or dealing is a big problem",
            _share(float(row["prob"]), float(row["prob_n"])),
            "share",
            "fairly or very big problem",
        ),
        Measure(
            "outcome",
            "feel_safe",
            "Feel safe walking alone after dark",
            _share(float(row["safe"]), float(row["safe_n"])),
            "share",
            "fairly or very safe",
        ),
    ]
