"""Where every number of the matrix comes from: measured and assessed cells joined to the
harm matrix, and one sentence per cell saying what it rests on.

A number in the matrix is one of four things (issue 11):

- a **cited fraction**: recorded crime weighed by the scheme, times a published share
  attributable to a drug source (``basis = 'fraction'``; the rest is ``'remainder'``);
- a **local-excess estimate**: harm around a market above comparable places without one
  (``basis = 'fraction+local'``: distribution cells once :func:`harmscope.harm.local.apply_local`
  has put each market's excess in place of the national share in its cells);
- a **measured partner indicator** or a harm of control measured from police records
  (``'measured'``; entries into treatment are ``'service'``), in its own unit;
- an **analyst assessment** (``'assessed'``): an ordinal rating, never a number to add.

:func:`join_matrix` puts the three kinds side by side in a :class:`MatrixReport`; measured
and assessed cells are never summed into the matrix ``total``, and its JSON says so.
:func:`explain` writes the sentence for any cell.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from harmscope.harm.assessed import AssessedCell, Scales, assessed_cells
from harmscope.harm.control import VIOLENCE_TYPES, control_cells
from harmscope.harm.local import LOCAL_BASIS, LOCAL_REF
from harmscope.harm.matrix import HarmMatrix
from harmscope.harm.measured import (
    LSOA_LEVEL,
    SCHEME_UNIT,
    Catalogue,
    MeasuredCell,
    catalogue_references,
    default_indicators,
    force_areas,
    measured_cells,
)
from harmscope.harm.schemes import load_scheme
from harmscope.harm.weigh import SchemeLike
from harmscope.periods import Months

__all__ = ["APART", "MatrixReport", "explain", "join_matrix"]

#: What the JSON and the table say about the cells kept apart from ``total``.
APART = (
    "measured cells are counts in their own units (deaths, admissions, needles, searches) "
    "or, for violence after enforcement, already-recorded crime; assessed cells are analysts' "
    "ordinal ratings. Neither is included in total."
)

_SOURCE_WORDS = {
    "use": "drug use",
    "production": "drug production",
    "distribution": "the drug market",
    "control": "drug enforcement",
}


def _n(v: float | None) -> str:
    if v is None:
        return "unknown"
    if v == 0:
        return "0"
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:,.1f}"


def _list(items: Collection[str], most: int = 3) -> str:
    items = list(items)
    if len(items) <= most:
        return ", ".join(items)
    return ", ".join(items[:most]) + f" and {len(items) - most} more"


def _crime_sentence(c: Mapping[str, Any], unit: str, scheme: str) -> str:
    basis = c.get("basis", "")
    types = _list(c.get("event_types") or []) or "no recorded crime"
    size = f"{_n(c['value'])} {unit} (range {_n(c['low'])} to {_n(c['high'])})"
    refs = ", ".join(c.get("refs") or [])
    source = _SOURCE_WORDS.get(str(c.get("source")), str(c.get("source")))
    if not c.get("event_types") and not c["high"]:
        return f"0 {unit}: no recorded crime of the period lands in this cell."
    if basis == "fraction":
        judged = "; a judgement anchored on them" if c.get("judgement") else ""
        return (
            f"{size}: police-recorded {types} weighed by the {scheme} scheme, times the "
            f"cited share attributable to {source} ({refs or 'no reference'}{judged})."
        )
    if basis == "remainder":
        return (
            f"{size}: the part of the {scheme}-weighed harm of {types} not attributed to "
            "drugs (one minus the cited drug shares)."
        )
    if basis == LOCAL_BASIS:
        refs = ", ".join(r for r in c.get("refs") or [] if r != LOCAL_REF)
        return (
            f"{size}: police-recorded {types} weighed by the {scheme} scheme; outside the "
            f"drug markets' cells times the cited share attributable to {source} "
            f"({refs or 'no reference'}), inside them the local-excess estimate (harm in and "
            "around each market above what comparable places without one show, with its "
            "interval) in place of that share."
        )
    return f"{size}: {basis or 'unstated basis'}."


def _measured_sentence(c: Mapping[str, Any], unit: str) -> str:
    u = unit if c["unit"] == SCHEME_UNIT else c["unit"]
    areas = c.get("areas") or []
    if c.get("area_level") == LSOA_LEVEL:
        where = f"{len(areas):,} LSOA{'s' if len(areas) != 1 else ''}"
    else:
        where = _list(areas) or "the areas"
    periods = c.get("periods") or []
    when = periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}" if periods else ""
    refs = ", ".join(c.get("refs") or [])
    if c["value"] is None:
        return f"No {c['label'].lower()} figure for this period ({c.get('note') or 'no data'})."
    size = f"{_n(c['value'])} {u} (95% interval {_n(c['low'])} to {_n(c['high'])})"
    if c["indicator"] == "nil_find_searches":
        size = (
            f"{_n(c['value'])} {u} (up to {_n(c['high'])} counting every drug search whose "
            "outcome was not linked to drugs)"
        )
        return (
            f"{size}: measured from police stop-and-search records ({when}), drug searches "
            f"ending in no further action with nothing linked found; its own unit ({refs})."
        )
    if c["indicator"] == "violence_after_enforcement":
        return (
            f"{size}: measured from police records ({when}), violence in the month after "
            "months of more drug enforcement than usual in a 250 m cell, above the violence after "
            f"its other months; already in the crime cells, so not added ({refs})"
            + (
                "; the interval includes zero: no clear excess."
                if c["low"] is not None and c["high"] is not None and c["low"] <= 0 <= c["high"]
                else "."
            )
        )
    kind = (
        "service indicator, reported, not weighed as harm"
        if c["kind"] == "service"
        else ("measured partner indicator in its own unit, not added to the total")
    )
    note = f" Note: {c['note']}." if c.get("note") else ""
    return f"{size}: {kind}: {c['label'].lower()}, {where}, {when} ({refs}).{note}"


def _assessed_sentence(c: Mapping[str, Any]) -> str:
    where = f" for {c['area']}" if c.get("area") else ""
    cat = f" ({c['category']})" if c.get("category") else ""
    band = c["priority"]
    rng = (
        f"{c['priority_low']} to {c['priority_high']}"
        if c["priority_low"] != c["priority_high"]
        else band
    )
    return (
        f"Analyst assessment{cat}{where} by {c['assessed_by']} on {c['assessed_at'][:10]}: "
        f"severity {c['severity']}, incidence {c['incidence']}, priority {band} (range {rng} "
        f"at {c['confidence']} confidence); evidence: {c['evidence']}. A rating, not summed."
    )


def explain(
    cell: Mapping[str, Any], *, unit: str = "", scheme: str = "", figures: bool = True
) -> str:
    """One sentence saying where a cell's number comes from.

    Parameters
    ----------
    cell : mapping
        A matrix :class:`~harmscope.harm.matrix.Cell`, a :class:`MeasuredCell` or an
        :class:`AssessedCell` (told apart by ``basis``).
    unit, scheme : str
        The scheme's unit and name (matrix cells; measured cells in the scheme's unit).
    figures : bool
        False leaves the figures out (the value and its range), for a page that shows them
        in their own columns under its small-number rules.
    """
    basis = cell.get("basis")
    if basis == "assessed":
        return _assessed_sentence(cell)
    if basis in ("measured", "service"):
        text = _measured_sentence(cell, unit)
    else:
        text = _crime_sentence(cell, unit, scheme)
    if figures or cell.get("value") is None:
        return text
    # Every sentence with figures starts "<figures>: <where from>".
    body = text.partition(": ")[2]
    return body[:1].upper() + body[1:]


@dataclass(frozen=True)
class MatrixReport:
    """The harm matrix with its measured and assessed cells beside it.

    Attributes
    ----------
    matrix : HarmMatrix
    measured : list of MeasuredCell
        Partner indicators and harms of control (own units; never in ``matrix.total``).
    assessed : list of AssessedCell
        Latest analyst rating per cell, category and area (ordinal; never summed).
    references : dict of str to str
        Citations of the measured cells' reference keys.
    """

    matrix: HarmMatrix
    measured: list[MeasuredCell] = field(default_factory=list)
    assessed: list[AssessedCell] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)

    def explain(self, cell: Mapping[str, Any]) -> str:
        """:func:`explain` with this matrix's unit and scheme."""
        return explain(cell, unit=self.matrix.unit, scheme=self.matrix.scheme)

    def to_dict(self) -> dict[str, Any]:
        """The matrix JSON (DESIGN §5 shape, unchanged) plus ``explanation`` on every cell,
        and beside the cells: ``measured``, ``assessed``, ``measured_references`` and
        ``apart`` (the sentence saying neither is in ``total``)."""
        d = self.matrix.to_dict()
        d["cells"] = [{**c, "explanation": self.explain(c)} for c in self.matrix.cells]
        d["measured"] = [{**c, "explanation": self.explain(c)} for c in self.measured]
        d["assessed"] = [{**c, "explanation": self.explain(c)} for c in self.assessed]
        d["measured_references"] = dict(self.references)
        d["apart"] = APART
        return d

    def to_rows(self) -> list[dict[str, Any]]:
        """The matrix rows (:meth:`HarmMatrix.to_rows`) then measured and assessed rows, all
        with an ``explanation`` column. Measured rows: ``kind`` ``measured`` or ``service``,
        ``unit`` their own; assessed rows: ``kind`` ``assessed``, ``value`` empty and the
        rating in ``basis`` (``severity/incidence/priority``)."""
        m = self.matrix
        rows: list[dict[str, Any]] = []
        for r, c in zip(m.to_rows(), [*m.cells, *m.activity_cells], strict=True):
            text = self.explain(c) if r["kind"] == "harm" else "police activity, counted"
            rows.append({**r, "explanation": text})
        for c in self.measured:
            rows.append(
                {
                    "scheme": m.scheme,
                    "view": m.view_label,
                    "kind": "measured" if c["kind"] == "harm" else "service",
                    "harm_type": c["harm_type"] or "",
                    "bearer": c["bearer"] or "",
                    "source": c["source"] or "",
                    "activity": c["label"],
                    "value": c["value"],
                    "low": c["low"],
                    "high": c["high"],
                    "unit": m.unit if c["unit"] == SCHEME_UNIT else c["unit"],
                    "basis": c["basis"],
                    "refs": "; ".join(c["refs"]),
                    "explanation": self.explain(c),
                }
            )
        for a in self.assessed:
            rows.append(
                {
                    "scheme": m.scheme,
                    "view": m.view_label,
                    "kind": "assessed",
                    "harm_type": a["harm_type"],
                    "bearer": a["bearer"],
                    "source": a["source"],
                    "activity": a["category"] or "",
                    "value": None,
                    "low": None,
                    "high": None,
                    "unit": "rating",
                    "basis": f"{a['severity']}/{a['incidence']}/{a['priority']}",
                    "refs": "",
                    "explanation": self.explain(a),
                }
            )
        return rows


def join_matrix(
    matrix: HarmMatrix,
    events: ir.Table,
    *,
    scheme: SchemeLike,
    partners: ir.Table | pd.DataFrame | None = None,
    assessments: ir.Table | pd.DataFrame | None = None,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    catalogue: Catalogue | None = None,
    scales: Scales | None = None,
) -> MatrixReport:
    """The matrix with its measured cells (partner indicators and harms of control) and
    assessed cells beside it.

    Parameters
    ----------
    matrix : HarmMatrix
        From :func:`~harmscope.harm.matrix.harm_matrix` for the same events, months and
        LSOAs.
    events : ibis.Table
        Warehouse ``events`` (for the harms of control and the forces of the data).
    scheme : Scheme, str or path-like
        The matrix's scheme: violence after enforcement is weighed by its violence weight.
    partners, assessments : ibis.Table or DataFrame, optional
        The ``partner_indicators`` and ``assessed_cells`` tables, when the warehouse has them.
    months, lsoas
        The matrix's selection (an open bound: the matrix's first or last month). Partner rows for larger areas than an LSOA count when the
        area is the police force of the events (``force_areas``) and no LSOA is given.

    Returns
    -------
    MatrixReport
    """
    cat = catalogue or default_indicators()
    sch = load_scheme(scheme)
    # An open bound is the matrix's own (its first / last month of events), not all of
    # history: partner series reach years before the police records.
    lo = months[0] if months is not None and months[0] is not None else matrix.month_from
    hi = months[1] if months is not None and months[1] is not None else matrix.month_to
    months = (lo, hi)
    measured: list[MeasuredCell] = []
    if partners is not None:
        areas: list[str] = []
        if lsoas is None and "force" in events.columns:
            forces = events.select("force").distinct().execute()["force"].dropna()
            if isinstance(partners, pd.DataFrame):
                level = partners[partners["area_level"] == "police_force"]
                names = list(level["area_name"].unique())
            else:
                level_t = partners.filter(partners.area_level == "police_force")
                names = list(level_t.select("area_name").distinct().execute()["area_name"])
            areas = force_areas(list(forces), names)
        measured = measured_cells(partners, months=months, lsoas=lsoas, areas=areas, catalogue=cat)
    weight, unit = 1.0, "events"
    for t in VIOLENCE_TYPES:
        try:
            weight, unit = sch.get(t).weight, SCHEME_UNIT
            break
        except KeyError:
            continue
    control = control_cells(
        events, violence_weight=weight, unit=unit, months=months, lsoas=lsoas, catalogue=cat
    )
    # Harms before services; control after partner harms, in catalogue order.
    measured = (
        [c for c in measured if c["kind"] == "harm"]
        + control
        + [c for c in measured if c["kind"] != "harm"]
    )
    assessed = assessed_cells(assessments, scales=scales)
    return MatrixReport(matrix, measured, assessed, catalogue_references(cat, measured))
