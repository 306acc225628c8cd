"""Ranked rows of nominals, groups or behaviours for the priority board, with their words.

:func:`board_rows` ranks one kind of unit of a :class:`~harmscope.people.attribute.PeopleHarm`
by its forecast harm and gives each row the board's columns
(:data:`harmscope.priorities.lenses.BOARD_COLUMNS`): ``name``, ``harm`` and its range,
``forecast_harm``, ``trend``, ``months_since_last``, ``confidence``, ``top_cells`` (the
unit's largest harm-matrix cells in words), ``evidence`` (what the row rests on) and
``harm_types`` (harm by crime type and behaviour, which the community weights read).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.harm.taxonomy import default_taxonomy
from harmscope.harm.words import cell_key, cell_words, percent
from harmscope.people.attribute import Kind, PeopleHarm
from harmscope.people.units import buyers, memberships

__all__ = ["PEOPLE_COLUMNS", "board_rows"]

#: Columns of :func:`board_rows` (before the lens adds ``rank`` and ``reasons``).
PEOPLE_COLUMNS = (
    "unit_id",
    "score",
    "name",
    "harm",
    "harm_low",
    "harm_high",
    "forecast_harm",
    "trend",
    "months_since_last",
    "confidence",
    "top_cells",
    "reason_cells",
    "evidence",
    "offences",
    "reports",
    "victim_harm",
    "harm_unit",
    "harm_types",
)


def _short(unit: str) -> str:
    return "days" if unit.lower().startswith("days") else unit


def _top_cells(cells: pd.DataFrame, units: pd.Index, unit: str, k: int) -> tuple[list, list]:
    tax = default_taxonomy()
    words: dict[str, list[str]] = {u: [] for u in units}
    keys: dict[str, list[str]] = {u: [] for u in units}
    cells = cells[cells["value"] > 0]
    total = cells.groupby("unit", observed=True)["value"].transform("sum")
    cells = cells.assign(share=cells["value"] / total).sort_values(
        ["unit", "value"], ascending=[True, False]
    )
    # at most k cells per unit: a loop over the board's rows only, never over records
    for row in cells.groupby("unit", observed=True).head(k).itertuples(index=False):
        cell = {"harm_type": row.harm_type, "bearer": row.bearer, "source": row.source}
        words[row.unit].append(
            f"{cell_words(tax, cell)}: {row.value:,.0f} {_short(unit)} ({percent(row.share)})"
        )
        keys[row.unit].append(cell_key(cell))
    return [words[u] for u in units], [keys[u] for u in units]


def _names(ph: PeopleHarm, kind: Kind, units: pd.Index) -> list[str]:
    rec = ph.records
    if kind == "people":
        nom = rec.nominals.set_index("nominal_id")
        role = nom["recorded_role"].reindex(units).fillna("").astype(str)
        group = nom["group_id"].reindex(units).fillna("").astype(str)
        return [
            f"{u} ({', '.join(p for p in (r, g) if p) or 'no recorded role'})"
            for u, r, g in zip(units, role, group, strict=True)
        ]
    if kind == "groups":
        g = rec.groups.set_index("group_id")
        out = []
        for u in units:
            if u in g.index:
                out.append(f"{g.at[u, 'recorded_type']} {g.at[u, 'codename'] or u}".strip())
            else:
                out.append(f"group {u} (not on the groups index)")
        return out
    b = ph.contrib.table.behaviours
    return [f"{b[u].label} ({b[u].severity})" if u in b else str(u) for u in units]


def _evidence(ph: PeopleHarm, kind: Kind, figs: pd.DataFrame) -> list[list[str]]:
    rec = ph.records
    units = figs.index
    rows = ph.rows(kind)
    rows = rows[rows["unit"].isin(units)]
    off = rows[rows["origin"] == "offence"]
    by_role = off.groupby(["unit", "role"], observed=True)["crime_id"].nunique().unstack()
    n_off = by_role.get("offender", pd.Series(dtype=float)).reindex(units).fillna(0).astype(int)
    n_sus = by_role.get("suspect", pd.Series(dtype=float)).reindex(units).fillna(0).astype(int)
    rep = rows[rows["origin"] != "offence"]
    # "well graded": A or B with assessment 1 or 2 (the weakest, B2, weighs 0.48)
    graded = rep.assign(good=rep["conf"] >= 0.48).groupby("unit", observed=True)["good"]
    n_rep = graded.size().reindex(units).fillna(0).astype(int)
    n_good = graded.sum().reindex(units).fillna(0).astype(int)
    span = f"{rec.label(rec.start)} to {rec.label(rec.end)}"
    short = _short(ph.contrib.unit)
    parts: list[pd.Series] = [
        pd.Series(
            (n_off + n_sus).astype(str)
            + " linked offences ("
            + n_off.astype(str)
            + " as offender, "
            + n_sus.astype(str)
            + f" as suspect), {span}"
        ).where(n_off + n_sus > 0),
        pd.Series(
            n_rep.astype(str)
            + " intelligence reports and links ("
            + n_good.astype(str)
            + " graded A/B with assessment 1-2)"
        ).where(n_rep > 0),
    ]
    if kind == "groups":
        member = memberships(rec, ph.contrib)
        members = member.groupby("group_id").size().reindex(units).fillna(0).astype(int)
        parts.append(members.astype(str) + " members known from links and the nominal index")
        bought = buyers(rec, ph.contrib, member).groupby("group_id").size()
        n_buy = bought.reindex(units).fillna(0).astype(int)
        parts.append(
            pd.Series(
                n_buy.astype(str)
                + " buyers known from buys_from links (their linked offences count, weighted "
                "by the link's grading)"
            ).where(n_buy > 0)
        )
    if kind == "people":
        victim = ph.victim_harm().reindex(units).fillna(0.0)
        parts.append(
            victim.map(lambda v: f"victim of crimes: {v:,.0f} {short} of harm suffered")
            .add(" (kept apart, not in the score)")
            .where(victim > 0)
        )
        parts.append(
            pd.Series("remanded in custody at the end of the period", index=units).where(
                figs["held"].fillna(False).astype(bool)
            )
        )
    table = pd.concat([p.reindex(units) for p in parts], axis=1)
    none = "no harm of their own in the period: ranked on their group's or market's"
    return [[w for w in row if isinstance(w, str)] or [none] for row in table.to_numpy()]


def _harm_types(ph: PeopleHarm, kind: Kind, units: pd.Index) -> list[dict[str, float]]:
    """Each unit's harm by crime type (offences) and behaviour label (reports), in the view.

    The community weights (:func:`harmscope.priorities.community.row_weights`) read these:
    survey categories name police.uk crime types and behaviour labels.
    """
    rows = ph.rows(kind)
    rows = rows[rows["unit"].isin(units) & (rows["value"] > 0)]
    labels = {k: b.label for k, b in ph.contrib.table.behaviours.items()}
    offence = rows["origin"] == "offence"
    kind_of = (
        rows["event_key"]
        .astype(str)
        .where(
            offence, rows["behaviour"].astype(str).map(labels).fillna(rows["behaviour"].astype(str))
        )
    )
    sums = rows["value"].groupby([rows["unit"].astype(str), kind_of], observed=True).sum()
    out: dict[str, dict[str, float]] = {str(u): {} for u in units}
    for (unit, what), value in sums.items():
        out[unit][what] = float(value)
    return [out[str(u)] for u in units]


def board_rows(
    ph: PeopleHarm, kind: Kind, *, top: int | None = None, cells: int = 3
) -> pd.DataFrame:
    """One kind of unit ranked by forecast harm, with the board's columns.

    Parameters
    ----------
    ph : PeopleHarm
    kind : {'people', 'groups', 'behaviours'}
    top : int, optional
        Keep the first ``top`` rows (cells and words are worked out for those only).
    cells : int, default 3
        Matrix cells named per row.

    Returns
    -------
    DataFrame
        :data:`PEOPLE_COLUMNS`, best first (ties by id); ``score`` = ``forecast_harm``.
        Units with neither harm nor a forecast are left out.
    """
    figs = ph.figures(kind)
    figs = figs[(figs["forecast_harm"] > 0) | (figs["harm"] > 0)]
    figs = figs.assign(_id=figs.index.astype(str)).sort_values(
        ["forecast_harm", "_id"], ascending=[False, True], kind="stable"
    )
    if top is not None:
        figs = figs.head(top)
    units = figs.index
    top_words, top_keys = _top_cells(ph.cells(kind, units), units, ph.contrib.unit, cells)
    victim = ph.victim_harm().reindex(units).fillna(0.0) if kind == "people" else np.nan
    out = pd.DataFrame(
        {
            "unit_id": units.astype(str),
            "score": figs["forecast_harm"].to_numpy(dtype=float),
            "name": _names(ph, kind, units),
            "harm": figs["harm"].to_numpy(dtype=float),
            "harm_low": figs["harm_low"].to_numpy(dtype=float),
            "harm_high": figs["harm_high"].to_numpy(dtype=float),
            "forecast_harm": figs["forecast_harm"].to_numpy(dtype=float),
            "trend": figs["trend"].to_numpy(dtype=float),
            "months_since_last": figs["months_since_last"].to_numpy(),
            "confidence": figs["confidence"].to_numpy(dtype=float),
            "top_cells": top_words,
            "reason_cells": top_keys,
            "evidence": _evidence(ph, kind, figs),
            "offences": figs["offences"].to_numpy(dtype=np.int64),
            "reports": figs["reports"].to_numpy(dtype=np.int64),
            "victim_harm": np.asarray(victim, dtype=float) if kind == "people" else np.nan,
            "harm_unit": ph.contrib.unit,
            "harm_types": _harm_types(ph, kind, units),
        }
    )
    return out[list(PEOPLE_COLUMNS)].reset_index(drop=True)
