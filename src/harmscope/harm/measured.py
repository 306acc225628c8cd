"""Measured cells: partner indicators (drug deaths, admissions, needle finds) in the matrix.

A *measured cell* is a count a partner publishes — ONS drug deaths, NHS Digital hospital
admissions, a council's needle finds — placed in one cell of the UKDPC matrix by the
indicator catalogue (``harm/data/partners.toml``, data a force can localise). Measured cells
keep their **own unit** (deaths, admissions, needles): no published weight turns a drug
death into days of imprisonment, so they are shown beside the scheme's harm and never
added to it. Service indicators (entries into drug treatment) are reported, not weighed as
harm.

The warehouse table ``partner_indicators`` (``harmscope load-partners``) holds one row per
area, period and indicator; :func:`measured_cells` sums the rows of the chosen areas whose
period lies wholly inside the chosen months, per indicator, with an exact Poisson interval.

References
----------
Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika* 28(3/4),
437-442.

UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict

import ibis.expr.types as ir
import pandas as pd
from scipy.special import gammaincinv

from harmscope.errors import SchemeError
from harmscope.harm.weigh import keep_values
from harmscope.periods import Months, parse_month

__all__ = [
    "DEFAULT_INDICATORS_PATH",
    "LSOA_LEVEL",
    "Catalogue",
    "Indicator",
    "MeasuredCell",
    "catalogue_references",
    "default_indicators",
    "force_areas",
    "load_indicators",
    "measured_cells",
    "poisson_interval",
]

#: Path of the packaged indicator catalogue.
DEFAULT_INDICATORS_PATH = Path(str(resources.files("harmscope.harm") / "data" / "partners.toml"))

#: ``area_level`` of rows given per LSOA (the simulator's partner files, a force's own data).
LSOA_LEVEL = "lsoa"

#: Unit marker: the indicator is weighed by the scheme (its values are in the scheme's unit).
SCHEME_UNIT = "scheme"


@dataclass(frozen=True)
class Indicator:
    """One partner indicator and the matrix cell it lands in.

    Attributes
    ----------
    id, label : str
    unit : str
        What one unit is (``deaths``); ``'scheme'`` when the values are in the scheme's unit.
    kind : {'harm', 'service'}
        ``service`` indicators are reported, never placed in a harm cell.
    harm_type, bearer, source : str or None
        The cell (None for services).
    refs : tuple of str
        Keys of the catalogue's references.
    basis : str
        Why this cell (or why not a harm).
    """

    id: str
    label: str
    unit: str
    kind: str
    harm_type: str | None
    bearer: str | None
    source: str | None
    refs: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class Catalogue:
    """The indicator catalogue: indicators by id and the references they cite."""

    name: str
    indicators: Mapping[str, Indicator]
    references: Mapping[str, str]
    path: Path
    area_notes: Mapping[str, str] = field(default_factory=dict)
    """Area name -> caveat of its rows (shown in the note of any cell using them)."""

    def get(self, indicator: str) -> Indicator:
        """The indicator called ``indicator``; :class:`KeyError` listing the known ones."""
        try:
            return self.indicators[indicator]
        except KeyError:
            known = ", ".join(self.indicators)
            raise KeyError(f"unknown indicator {indicator!r} (known: {known})") from None


def load_indicators(path: str | os.PathLike[str] | None = None) -> Catalogue:
    """Read and check an indicator catalogue (TOML; the packaged one when omitted).

    Raises
    ------
    SchemeError
        Names the file and the key: an unknown kind, a harm indicator without a cell, a
        reference key that is not defined.
    """
    p = DEFAULT_INDICATORS_PATH if path is None else Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemeError(f"{p}: cannot read the indicator catalogue ({exc})") from exc
    refs = dict(data.get("references", {}))
    out: dict[str, Indicator] = {}
    for key, t in data.get("indicators", {}).items():
        where = f"{p}: indicators.{key}"
        kind = t.get("kind")
        if kind not in ("harm", "service"):
            raise SchemeError(f"{where}.kind: expected 'harm' or 'service', got {kind!r}")
        cell = [t.get(k) for k in ("harm_type", "bearer", "source")]
        if kind == "harm" and not all(cell):
            raise SchemeError(f"{where}: a harm indicator needs harm_type, bearer and source")
        missing = [r for r in t.get("refs", []) if r not in refs]
        if missing:
            raise SchemeError(f"{where}.refs: {missing[0]!r} is not in [references]")
        out[key] = Indicator(
            id=key,
            label=str(t.get("label", key)),
            unit=str(t.get("unit", "")),
            kind=kind,
            harm_type=cell[0],
            bearer=cell[1],
            source=cell[2],
            refs=tuple(t.get("refs", [])),
            basis=str(t.get("basis", "")),
        )
    name = str(data.get("catalogue", {}).get("name", p.stem))
    notes = {str(k): str(v) for k, v in data.get("area_notes", {}).items()}
    return Catalogue(name, out, refs, p, MappingProxyType(notes))


@lru_cache(maxsize=1)
def default_indicators() -> Catalogue:
    """The packaged catalogue (``harm/data/partners.toml``), read once."""
    return load_indicators()


class MeasuredCell(TypedDict):
    """One measured cell: an indicator's total over the chosen areas and periods.

    ``value`` is the count (or, unit ``scheme``, harm in the scheme's unit); ``low``/``high``
    its 95% interval (exact Poisson for counts); all three None when the indicator has rows
    for the areas but none for the period (``note`` gives the periods it has). ``unit`` is the indicator's own unit: a
    measured cell is never summed with the scheme's harm. ``kind`` is ``harm`` or
    ``service`` (service cells have no harm type, bearer or source). ``areas`` and
    ``periods`` say which rows it sums; ``rows`` how many; ``note`` anything left out.
    """

    harm_type: str | None
    bearer: str | None
    source: str | None
    indicator: str
    label: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    basis: str
    refs: list[str]
    areas: list[str]
    area_level: str
    periods: list[str]
    rows: int
    note: str


def poisson_interval(count: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood 1936) two-sided ``1 - alpha`` interval of a Poisson count.

    ``low = chi2.ppf(alpha/2, 2n) / 2`` (0 when ``n = 0``), ``high = chi2.ppf(1 - alpha/2,
    2n + 2) / 2``. A non-integer count (a rounded published figure) uses the same formula.
    ``chi2.ppf(q, 2k) / 2`` is computed as ``gammaincinv(k, q)``, what SciPy's ``chi2`` does
    inside (the same doubles), without loading ``scipy.stats`` (a second of every start-up).
    """
    n = max(float(count), 0.0)
    low = 0.0 if n == 0 else float(gammaincinv(n, alpha / 2))
    high = float(gammaincinv(n + 1, 1 - alpha / 2))
    return low, high


_FORCE_WORDS = re.compile(r"\b(police|constabulary|service|force)\b", re.I)


def _force_key(name: str) -> str:
    return " ".join(_FORCE_WORDS.sub(" ", name.replace("&", "and")).lower().split())


def force_areas(forces: Collection[str], area_names: Collection[str]) -> list[str]:
    """Which police-force area names of partner data are the events' forces.

    police.uk names a force ``City of London Police`` or ``Lincolnshire Police``; drug
    statistics by force name it ``City of London`` or ``Lincolnshire``. Both are compared
    without the words police, constabulary, service and force, case-insensitively.
    """
    wanted = {_force_key(f) for f in forces if f}
    return sorted(a for a in area_names if _force_key(a) in wanted)


def _frame(
    partners: ir.Table | pd.DataFrame,
    lsoas: Collection[str] | None,
    areas: Collection[str] | None,
) -> pd.DataFrame:
    """The rows of the chosen areas; an Ibis table is filtered in the engine first, so a
    national per-LSOA table is never pulled whole."""
    if isinstance(partners, pd.DataFrame):
        return partners
    t = partners
    is_lsoa = t.area_level == LSOA_LEVEL
    if lsoas is not None:
        t = keep_values(t.filter(is_lsoa), "area_code", lsoas)
    else:
        named = sorted(set(areas or ()))
        t = t.filter(is_lsoa | t.area_name.isin(named) | t.area_code.isin(named))
    return t.execute()


def measured_cells(
    partners: ir.Table | pd.DataFrame,
    *,
    months: Months | None = None,
    lsoas: Collection[str] | None = None,
    areas: Collection[str] | None = None,
    catalogue: Catalogue | None = None,
) -> list[MeasuredCell]:
    """Measured (and service) cells from partner indicator rows.

    Parameters
    ----------
    partners : ibis.Table or DataFrame
        Rows of ``partner_indicators``: ``area_code, area_name, area_level, period,
        month_from, month_to, indicator, value``.
    months : (from, to), optional
        Inclusive month bounds. A row counts only when its whole period (a month, or a year
        as published) lies inside them: a year is never split into months.
    lsoas : collection of str, optional
        LSOA-level rows of these LSOAs only; rows for larger areas are then left out (a
        local authority's deaths cannot be split between its LSOAs), and ``note`` says so.
    areas : collection of str, optional
        Names (or codes) of larger areas (police force, local authority, region) whose rows
        count; without it only LSOA-level rows count.
    catalogue : Catalogue, optional
        The indicator catalogue (default: the packaged one).

    Returns
    -------
    list of MeasuredCell
        One per indicator with rows in the selection, harm kinds first, in catalogue order.
        Rows of one indicator at two area levels are never added together: the LSOA level
        is used when it has rows, else the larger areas.
    """
    cat = catalogue or default_indicators()
    frame = _frame(partners, lsoas, areas)
    if frame.empty:
        return []
    lo = parse_month(months[0]) if months is not None and months[0] is not None else None
    hi = parse_month(months[1]) if months is not None and months[1] is not None else None
    start = pd.to_datetime(frame["month_from"])
    end = pd.to_datetime(frame["month_to"])
    inside = pd.Series(True, index=frame.index)
    if lo is not None:
        inside &= start >= pd.Timestamp(lo)
    if hi is not None:
        inside &= end <= pd.Timestamp(hi)
    is_lsoa = frame["area_level"] == LSOA_LEVEL
    if lsoas is not None:
        chosen = is_lsoa & frame["area_code"].isin(set(lsoas))
    else:
        named = set(areas or ())
        chosen = is_lsoa | frame["area_name"].isin(named) | frame["area_code"].isin(named)
    cells: list[MeasuredCell] = []
    for ind_id in [i for i in cat.indicators if (frame["indicator"] == i).any()]:
        ind = cat.indicators[ind_id]
        of = frame["indicator"] == ind_id
        rows = frame[of & chosen & inside]
        notes = []
        if (rows["area_level"] == LSOA_LEVEL).any():
            rows = rows[rows["area_level"] == LSOA_LEVEL]
        elif rows["area_level"].nunique() > 1:
            # Force and local-authority rows of one indicator overlap: keep the first level.
            level = sorted(rows["area_level"].unique())[0]
            notes.append(f"{level} rows used, other levels left out (they overlap)")
            rows = rows[rows["area_level"] == level]
        outside = frame[of & chosen & ~inside]
        if rows.empty:
            if not outside.empty:
                span = f"{outside['period'].min()} to {outside['period'].max()}"
                cells_note = f"no period wholly inside the months chosen (data: {span})"
                cells.append(_cell(ind, rows, cat, cells_note))
            continue
        if lsoas is not None and (of & ~is_lsoa).any():
            notes.append("rows for areas larger than an LSOA left out (--lsoa given)")
        notes += [
            cat.area_notes[a]
            for a in sorted(set(rows["area_name"].dropna()))
            if a in cat.area_notes
        ]
        cells.append(_cell(ind, rows, cat, "; ".join(notes)))
    cells.sort(key=lambda c: c["kind"] != "harm")
    return cells


def _cell(ind: Indicator, rows: pd.DataFrame, cat: Catalogue, note: str) -> MeasuredCell:
    # No row in the period: the value is unknown (None), not zero.
    value = float(rows["value"].sum()) if len(rows) else None
    low, high = poisson_interval(value) if value is not None else (None, None)
    names = rows["area_name"].where(rows["area_name"].notna(), rows["area_code"])
    return MeasuredCell(
        harm_type=ind.harm_type,
        bearer=ind.bearer,
        source=ind.source,
        indicator=ind.id,
        label=ind.label,
        kind=ind.kind,
        value=value,
        low=low,
        high=high,
        unit=ind.unit,
        basis="measured" if ind.kind == "harm" else "service",
        refs=list(ind.refs),
        areas=sorted({str(n) for n in names}),
        area_level=str(rows["area_level"].iat[0]) if len(rows) else "",
        periods=sorted({str(p) for p in rows["period"]}),
        rows=len(rows),
        note=note,
    )


def catalogue_references(cat: Catalogue, cells: list[Any]) -> dict[str, str]:
    """Citation of every reference key the given cells cite."""
    used = sorted({r for c in cells for r in c.get("refs", [])})
    return {k: cat.references[k] for k in used if k in cat.references}
