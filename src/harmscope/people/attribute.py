"""The harm matrix of nominals, groups and behaviours for a period, from force records.

:func:`attribute_harm` reads the period's records (audited), weighs the crimes they link to,
values the graded reports, and holds the contributions; :meth:`PeopleHarm.figures` sums
them per unit (``people``, ``groups``, ``behaviours``) with the forecast each lens ranks by,
and :meth:`PeopleHarm.cells` gives each unit's harm-matrix cells (harm type x bearer x
source, as :mod:`harmscope.harm.matrix`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from harmscope.harm.schemes import load_scheme
from harmscope.harm.selection import DEFAULT_HARM, check_harm
from harmscope.harm.weigh import SchemeLike
from harmscope.people.contributions import Contributions, contributions
from harmscope.people.figures import unit_cells, unit_figures
from harmscope.people.forecast import (
    DEFAULT_MODEL,
    ForecastModel,
    forecast_people,
    sustained_rate,
)
from harmscope.people.records import Records, read_records
from harmscope.people.severity import SeverityTable, default_severity
from harmscope.people.units import behaviour_rows, group_rows, memberships, nominal_rows
from harmscope.warehouse.handle import Warehouse

__all__ = ["KINDS", "Kind", "PeopleHarm", "attribute_harm", "one_read"]

Kind = Literal["people", "groups", "behaviours"]
KINDS: tuple[Kind, ...] = ("people", "groups", "behaviours")


@dataclass
class PeopleHarm:
    """Attributed harm of one period, ready to be summed per unit."""

    records: Records
    contrib: Contributions
    model: ForecastModel
    harm: str
    """The view (``drug`` or ``all``)."""

    def rows(self, kind: Kind) -> pd.DataFrame:
        """Contribution rows with the ``unit`` they count for."""
        if kind == "people":
            return nominal_rows(self.contrib)
        if kind == "groups":
            return group_rows(self.records, self.contrib)
        if kind == "behaviours":
            return behaviour_rows(self.contrib)
        raise ValueError(f"unit kind {kind!r}: expected one of {', '.join(KINDS)}")

    def figures(self, kind: Kind) -> pd.DataFrame:
        """Per unit: :data:`~harmscope.people.figures.FIGURE_COLUMNS` and ``forecast_harm``.

        Nominals are forecast by :func:`~harmscope.people.forecast.forecast_people` (every
        nominal on the index, with ``own``, ``context`` and ``held``); groups and behaviours
        by their decayed rate (reports weighted by the model's ``intel``) times the period's
        length.
        """
        rec = self.records
        rows = self.rows(kind)
        figs = unit_figures(rows, start=rec.start, end=rec.end, half_life=self.model.half_life)
        if kind == "people":
            signal = figs["rate"] - (1.0 - self.model.intel) * figs["rate_intel"]
            sustained = sustained_rate(rows, start=rec.start, end=rec.end, intel=self.model.intel)
            fc = forecast_people(
                signal, rec, memberships(rec, self.contrib), self.model, sustained=sustained
            )
            figs = figs.reindex(fc.index).join(fc)
            sums = ["harm", "harm_low", "harm_high", "rate", "rate_intel"]
            figs[sums] = figs[sums].fillna(0.0)
            figs[["offences", "reports"]] = figs[["offences", "reports"]].fillna(0).astype(int)
        else:
            signal = figs["rate"] - (1.0 - self.model.intel) * figs["rate_intel"]
            figs["forecast_harm"] = signal * rec.months
        return figs

    def cells(self, kind: Kind, units: Sequence[str] | None = None) -> pd.DataFrame:
        """``unit, harm_type, bearer, source, value`` for *units* (all when None)."""
        rows = self.rows(kind)
        if units is not None:
            rows = rows[rows["unit"].isin(list(units))]
        return unit_cells(rows, self.contrib)

    def victim_harm(self) -> pd.Series:
        """Harm suffered as a victim, by nominal (the view; never added to their harm)."""
        return self.contrib.victims.groupby("nominal_id", observed=True)["value"].sum()


#: The reads of one board (:func:`one_read`); None outside it, so nothing is kept.
_ONE_READ: ContextVar[dict[tuple[Any, ...], PeopleHarm] | None] = ContextVar(
    "people_one_read", default=None
)


@contextmanager
def one_read() -> Iterator[None]:
    """Within the block, the same records read (same warehouse file, user, reason, period and
    options) is made once: the people, groups and behaviours lenses of one board share it, and
    ``audit_log`` holds one read per table, not one per lens. Nothing outlives the block."""
    token = _ONE_READ.set({})
    try:
        yield
    finally:
        _ONE_READ.reset(token)


def attribute_harm(
    source: Any,
    *,
    user: str | None,
    reason: str | None,
    months: Sequence[Any] | None = None,
    scheme: SchemeLike = "cchi",
    harm: str = DEFAULT_HARM,
    types: Collection[str] | None = None,
    severity: SeverityTable | None = None,
    model: ForecastModel = DEFAULT_MODEL,
) -> PeopleHarm:
    """Read a period's force records (audited) and attribute their harm.

    Parameters
    ----------
    source : Warehouse or path
        Holds the police.uk events and the force records (``harmscope load-records``).
    user, reason : str
        Who reads and why: each personal table read writes an ``audit_log`` row.
    months : (from, to), optional
        The period; default the records' months.
    scheme : default 'cchi'
    harm : {'drug', 'all'}, default 'drug'
    types : collection of str, optional
        Crime types of the linked offences counted.
    severity : SeverityTable, optional
        Default :func:`~harmscope.people.severity.default_severity`.
    model : ForecastModel

    Raises
    ------
    NoRecordsError
        No force records are loaded.
    """
    view = check_harm(harm)
    shared = _ONE_READ.get()
    key = None
    if shared is not None and isinstance(source, str | Path) and severity is None:
        period = None if months is None else tuple(str(m) for m in months)
        kinds = None if types is None else tuple(sorted(types))
        key = (str(Path(source).resolve()), user, reason, period, str(scheme), view, kinds, model)
        if key in shared:
            return shared[key]
    records = read_records(source, user=user, reason=reason, months=months)
    table = severity or default_severity()
    unit = load_scheme(scheme).unit
    with Warehouse.of(source) as wh:
        contrib = contributions(
            records, wh.events(), table, scheme=scheme, harm=view, types=types, unit=unit
        )
    out = PeopleHarm(records=records, contrib=contrib, model=model, harm=view)
    if shared is not None and key is not None:
        shared[key] = out
    return out
