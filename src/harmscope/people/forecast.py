"""Forecast of a nominal's harm over the next period: the people lens ranks by it.

Who causes the most harm changes fast: in Northamptonshire over 95 % of each year's
highest-harm list was new (issue 12), so last period's harm alone is a weak guide. The
forecast for the next :math:`N` months (the length of the period ranked) is

.. math::  F_i = c_i \\, N \\, [(1 - \\alpha) r_i + \\alpha \\bar r_{g(i)}]

* :math:`r_i` — the nominal's recency-decayed monthly rate of attributed harm (linked
  offences, plus graded reports weighted by :attr:`ForecastModel.intel`,
  :func:`harmscope.people.figures.unit_figures`, half-life
  :attr:`ForecastModel.half_life`);
* :math:`\\bar r_{g(i)}` — the mean rate of the nominal's group (members, as
  :func:`~harmscope.people.units.memberships`), or of its recorded market when it has no
  group, 0 when neither: people in a harmful network tend to stay in harmful roles, and the
  shrinkage keeps one noisy month from deciding the list;
* :math:`c_i` — :attr:`ForecastModel.custody` for a nominal remanded in custody at the end of
  the period (an arrest ``remanded in custody`` whose ``custody_until`` is blank or later
  than the period: held at its end), 1 otherwise.

The three parameters are fitted on simulator seeds 101-180 only (``docs/people.md``); they
are stated assumptions for a force's data, not estimates from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmscope.people.records import Records, month_index

__all__ = ["DEFAULT_MODEL", "ForecastModel", "forecast_people", "held_at_end"]


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

    def __post_init__(self) -> None:
        if not self.half_life > 0:
            raise ValueError(f"half_life must be > 0 months, got {self.half_life}")
        for name in ("context", "custody", "intel"):
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


def forecast_people(
    rate: pd.Series, records: Records, membership: pd.DataFrame, model: ForecastModel
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

    Returns
    -------
    DataFrame indexed by nominal id (every nominal of the index or with a rate)
        ``own`` (:math:`N r_i`), ``context`` (:math:`N \\bar r_g`), ``held`` (bool),
        ``forecast_harm`` (:math:`F_i`, scheme unit over the next :math:`N` months).
    """
    n = records.months
    ids = pd.Index(records.nominals["nominal_id"]).union(rate.index)
    own = rate.reindex(ids).fillna(0.0) * n
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
