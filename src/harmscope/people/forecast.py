"""Forecast of a nominal's harm over the next period: the people lens ranks by it.

Who causes the most harm changes fast: in Northamptonshire over 95 % of each year's
highest-harm list was new (issue 12), so last period's harm alone is a weak guide. The
forecast for the next :math:`N` months (the length of the period ranked) is

.. math::  F_i = c_i \\, N \\, [(1 - \\alpha) b_i + \\alpha \\bar b_{g(i)}],
           \\qquad b_i = (1 - p) \\, r_i + p \\, s_i

* :math:`r_i` — the nominal's recency-decayed monthly rate of attributed harm (linked
  offences, plus graded reports weighted by :attr:`ForecastModel.intel`,
  :func:`harmscope.people.figures.unit_figures`, half-life
  :attr:`ForecastModel.half_life`);
* :math:`s_i` — the nominal's **sustained** monthly rate (:func:`sustained_rate`): the
  harm of its quietest whole year of the period (12-month windows counted back from the
  period's end), over 12. A nominal harmful every year is a persistent offender; one heavy
  year and nothing else is a burst, and bursts end (Moffitt 1993; in Northamptonshire over
  95 % of each year's highest-harm list was new). :math:`p` is
  :attr:`ForecastModel.persistence`; with fewer than two whole years ranked there is no
  quietest year and :math:`s_i = r_i`;
* :math:`\\bar b_{g(i)}` — the mean :math:`b` of the nominal's group (members, as
  :func:`~harmscope.people.units.memberships`), or of its recorded market when it has no
  group, 0 when neither: people in a harmful network tend to stay in harmful roles, and the
  shrinkage keeps one noisy month from deciding the list;
* :math:`c_i` — :attr:`ForecastModel.custody` for a nominal remanded in custody at the end of
  the period (an arrest ``remanded in custody`` whose ``custody_until`` is blank or later
  than the period: held at its end), 1 otherwise.

The parameters are fitted on simulator seeds 101-180 only (``docs/people.md``); they are
stated assumptions for a force's data, not estimates from it.

References
----------
Moffitt, T. E. (1993). Adolescence-limited and life-course-persistent antisocial behavior:
    a developmental taxonomy. *Psychological Review* 100, 674-701.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmscope.people.records import Records, month_index

__all__ = ["DEFAULT_MODEL", "ForecastModel", "forecast_people", "held_at_end", "sustained_rate"]


@dataclass(frozen=True)
class ForecastModel:
    """Parameters of :func:`forecast_people` (and the decay every lens uses)."""

    half_life: float = 12.0
    """Months after which a contribution counts half."""
    context: float = 0.1
    """:math:`\\alpha`, the weight of the group's (or market's) mean rate, 0-1."""
    custody: float = 1.0
    """Factor on the forecast of a nominal held in custody at the period's end, 0-1."""
    intel: float = 0.3
    """Weight 0-1 of the part of :math:`r_i` from intelligence reports (graded allegations
    forecast less surely than recorded crimes)."""
    persistence: float = 0.9
    """:math:`p`, the weight 0-1 of the sustained rate (the quietest whole year) against the
    decayed rate."""

    def __post_init__(self) -> None:
        if not self.half_life > 0:
            raise ValueError(f"half_life must be > 0 months, got {self.half_life}")
        for name in ("context", "custody", "intel", "persistence"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in 0-1, got {v}")


DEFAULT_MODEL = ForecastModel()


def held_at_end(records: Records) -> pd.Index:
    """Nominals remanded in custody at the period's last month (ids)."""
    a = records.arrests
    remand = a[a["custody_outcome"] == "remanded in custody"]
    until = month_index(remand["custody_until"])
    held = (remand["m"] <= records.end) & (until.isna() | (until > records.end))
    return pd.Index(remand.loc[held, "nominal_id"].unique())


def sustained_rate(rows: pd.DataFrame, *, start: int, end: int, intel: float) -> pd.Series | None:
    """Monthly harm of each unit's quietest whole year of ``start .. end``.

    Parameters
    ----------
    rows : DataFrame
        Contributions with ``unit``, ``m`` (month index), ``value`` and ``origin``
        (``offence`` or a report); reports count ``intel`` times their value, as in the
        forecast's decayed rate.
    start, end : int
        Month indices of the period (:func:`~harmscope.people.records.month_index`).
    intel : float
        Weight of reports (:attr:`ForecastModel.intel`).

    Returns
    -------
    Series or None
        By unit (units of *rows*): the smallest sum over the whole 12-month windows
        ``(end - 12 (j + 1), end - 12 j]`` that fit in the period, divided by 12 (scheme
        unit per month); None when fewer than two windows fit (no quietest year to tell).
    """
    years = (end - start + 1) // 12
    if years < 2:
        return None
    back = (end - rows["m"].to_numpy(dtype=np.int64)) // 12
    codes, uniques = pd.factorize(rows["unit"])
    units = pd.Index(uniques).astype(str)
    # months before the first whole window are left out (and rows with no unit)
    keep = (back < years) & (codes >= 0)
    weight = np.where(rows["origin"].to_numpy() == "offence", 1.0, intel)
    value = rows["value"].to_numpy(dtype=np.float64) * weight
    # per unit and window: a dense (units x years) table, so a year with nothing is a 0
    flat = codes[keep] * years + back[keep]
    table = np.bincount(flat, weights=value[keep], minlength=len(units) * years)
    table = table.reshape(len(units), years)
    return pd.Series(table.min(axis=1) / 12.0, index=pd.Index(units))


def forecast_people(
    rate: pd.Series,
    records: Records,
    membership: pd.DataFrame,
    model: ForecastModel,
    sustained: pd.Series | None = None,
) -> pd.DataFrame:
    """Forecast harm of every nominal on the index over the next period.

    Parameters
    ----------
    rate : Series
        Decayed monthly rate by nominal id (nominals with contributions).
    records : Records
    membership : DataFrame
        ``nominal_id, group_id, weight`` (:func:`~harmscope.people.units.memberships`).
    model : ForecastModel
    sustained : Series, optional
        Sustained monthly rate by nominal id (:func:`sustained_rate`); None: the decayed
        rate stands for it (no persistence term).

    Returns
    -------
    DataFrame indexed by nominal id (every nominal of the index or with a rate)
        ``own`` (:math:`N b_i`), ``context`` (:math:`N \\bar b_g`), ``held`` (bool),
        ``forecast_harm`` (:math:`F_i`, scheme unit over the next :math:`N` months).
    """
    n = records.months
    ids = pd.Index(records.nominals["nominal_id"]).union(rate.index)
    r = rate.reindex(ids).fillna(0.0)
    if sustained is not None:
        s = sustained.reindex(ids).fillna(0.0)
        r = (1.0 - model.persistence) * r + model.persistence * s
    own = r * n
    # each nominal's group: its surest membership; else its recorded market
    best = membership.sort_values(["nominal_id", "weight"], ascending=[True, False])
    group = best.drop_duplicates("nominal_id").set_index("nominal_id")["group_id"]
    market = records.nominals.set_index("nominal_id")["market_id"].fillna("").astype(str)
    net = pd.Series(
        np.where(
            group.reindex(ids).notna(),
            "g:" + group.reindex(ids).fillna("").astype(str),
            np.where(
                market.reindex(ids).fillna("") != "", "m:" + market.reindex(ids).fillna(""), ""
            ),
        ),
        index=ids,
    )
    ctx_mean = own.groupby(net).mean()
    context = net.map(ctx_mean).where(net != "", 0.0).astype(float)
    held = pd.Series(ids.isin(held_at_end(records)), index=ids)
    factor = np.where(held, model.custody, 1.0)
    fc = factor * ((1.0 - model.context) * own + model.context * context)
    return pd.DataFrame({"own": own, "context": context, "held": held, "forecast_harm": fc})
