"""Community weights for the priority board: what residents ranked as the harms of their area.

The community survey asks "which three of these harm your area most (most harmful first)?"
(``harm_rank_1..3``, table ``survey_harm_ranks``, loaded by ``harmscope load-survey``). For
one survey **wave** (a calendar quarter, ``2019-Q2``) and one area (LSOA), each category
:math:`c` earns points :math:`p_c` (3 for a first place, 2 second, 1 third: the ``points`` of
``priorities/data/morile.toml``), and its weight is

.. math:: w_c = K \\, p_c / \\sum_{c'} p_{c'}

with :math:`K` the number of categories, so an area that ranks every category equally gives
every weight 1, and the weights of an area average 1. An area-wave with fewer than
``min_respondents`` (10) respondents is **suppressed**: its rows use the force-wide weights of
the wave (every respondent of the wave), and the area is named in ``suppressed``. A row's
community weight is the harm-share-weighted mean of the weights of its harm's categories,

.. math:: m_r = \\sum_t s_{r,t} \\, w_{a(r), c(t)},

with :math:`s_{r,t}` the share of the row's harm in crime type or behaviour :math:`t` and
:math:`c(t)` its category (``[community.categories]``); harm in no category keeps weight 1.
:func:`harmscope.priorities.morile.score_board` blends :math:`m_r` into the harm factor.

References
----------
Home Office (2010). *Policing in the 21st century: reconnecting police and the people*
    (neighbourhood priorities set with residents). The survey wording follows the Crime
    Survey for England and Wales (:mod:`harmscope.sources.survey`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harmscope.warehouse.handle import Warehouse

__all__ = ["CommunityWeights", "community_weights", "row_weights", "wave_of"]

RANK_COLUMNS = ("harm_rank_1", "harm_rank_2", "harm_rank_3")


def wave_of(month: Any) -> str:
    """The survey wave (calendar quarter) of a month.

    Examples
    --------
    >>> wave_of("2019-05")
    '2019-Q2'
    """
    p = pd.Period(str(month)[:7], freq="M")
    return f"{p.year}-Q{p.quarter}"


@dataclass(frozen=True)
class CommunityWeights:
    """The community's weights of one survey wave.

    Attributes
    ----------
    wave : str or None
        ``'2019-Q2'``; None when no harm ranking is loaded (every weight is then 1).
    by_area : pandas.DataFrame
        Index LSOA code, one column per category: the weight (dimensionless, mean 1 per
        area) used for rows in that area, the force-wide weights for suppressed areas.
    force : pandas.Series
        Force-wide weight of each category in the wave.
    respondents : pandas.Series
        Respondents per LSOA in the wave.
    suppressed : list of str
        LSOAs with fewer than ``min_respondents`` respondents (force-wide weights used).
    category_of : dict
        Crime type or behaviour (lower case) to its category.
    """

    wave: str | None
    by_area: pd.DataFrame
    force: pd.Series
    respondents: pd.Series
    suppressed: list[str] = field(default_factory=list)
    category_of: dict[str, str] = field(default_factory=dict)
    min_respondents: int = 10

    def summary(self) -> dict[str, Any]:
        """JSON-ready: wave, force-wide weights, respondents, suppressed areas."""
        return {
            "wave": self.wave,
            "force_weights": {str(k): round(float(v), 4) for k, v in self.force.items()},
            "areas": len(self.respondents),
            "respondents": int(self.respondents.sum()),
            "min_respondents": self.min_respondents,
            "suppressed": list(self.suppressed),
            "suppressed_rule": (
                f"an area-wave with fewer than {self.min_respondents} respondents uses the "
                "force-wide weights of the wave"
            ),
        }


def _weights(points: pd.DataFrame, categories: Sequence[str]) -> pd.DataFrame:
    """Rows of points per category -> weights K p_c / sum p (0 points everywhere -> 1)."""
    pts = points.reindex(columns=list(categories), fill_value=0.0).astype(float)
    total = pts.sum(axis=1)
    w = pts.mul(len(categories)).div(total.where(total > 0), axis=0)
    return w.fillna(1.0)


def community_weights(
    source: Any,
    config: Mapping[str, Any],
    *,
    months: tuple[Any, Any] | None = None,
    wave: str | None = None,
) -> CommunityWeights:
    """The community weights of the latest survey wave up to the end of the period.

    Parameters
    ----------
    source : warehouse path, Ibis backend or Warehouse
        Reads table ``survey_harm_ranks``.
    config : mapping
        The ``[community]`` table of the MoRiLE config (``points``, ``min_respondents``,
        ``categories``).
    months : (from, to), optional
        The board's period; the wave used is the latest with responses whose month is at or
        before ``to`` (the latest loaded when no period is given).
    wave : str, optional
        A wave to use instead (``'2019-Q2'``).

    Returns
    -------
    CommunityWeights
        ``wave`` None when no harm ranking is loaded (or none up to the period's end).
    """
    categories = list(config["categories"])
    category_of = {str(t).lower(): c for c, ts in config["categories"].items() for t in ts}
    minimum = int(config.get("min_respondents", 10))
    points = [float(p) for p in config.get("points", [3, 2, 1])]
    empty = CommunityWeights(
        None,
        pd.DataFrame(columns=categories, dtype=float),
        pd.Series(1.0, index=categories),
        pd.Series(dtype="int64"),
        category_of=category_of,
        min_respondents=minimum,
    )
    with Warehouse.of(source) as wh:
        if not wh.has("survey_harm_ranks"):
            return empty
        # through Ibis, so the board runs on every engine (a Spark folder has the table too)
        ranks = wh.table("survey_harm_ranks")
        answers = (
            ranks.select(ranks.month.strftime("%Y-%m").name("month"), "lsoa_code", *RANK_COLUMNS)
            .to_pyarrow()
            .to_pandas()
        )
    if answers.empty:
        return empty
    answers["wave"] = [wave_of(m) for m in answers["month"]]
    if wave is None:
        eligible = answers
        if months is not None and months[1] is not None:
            eligible = answers[answers["month"] <= str(months[1])[:7]]
        if eligible.empty:
            return empty
        wave = str(eligible["wave"].max())
    chosen = answers[answers["wave"] == wave]
    if chosen.empty:
        return empty
    long = pd.concat(
        [
            pd.DataFrame({"lsoa_code": chosen["lsoa_code"], "category": chosen[col], "points": pts})
            for col, pts in zip(RANK_COLUMNS, points, strict=False)
        ],
        ignore_index=True,
    ).dropna(subset=["category"])
    # categories the survey names but the config does not map still count in the total
    cats = categories + sorted(set(long["category"]) - set(categories))
    force = _weights(long.groupby("category")["points"].sum().to_frame().T, cats).iloc[0]
    per_area = long.dropna(subset=["lsoa_code"]).pivot_table(
        index="lsoa_code", columns="category", values="points", aggfunc="sum", fill_value=0.0
    )
    by_area = _weights(per_area, cats)
    respondents = chosen.dropna(subset=["lsoa_code"]).groupby("lsoa_code").size()
    small = respondents.index[respondents < minimum]
    # suppression: fewer than `minimum` respondents publish nothing of their own
    by_area.loc[by_area.index.isin(small), :] = force.to_numpy()
    return CommunityWeights(
        wave,
        by_area,
        force,
        respondents,
        suppressed=sorted(str(a) for a in small),
        category_of=category_of,
        min_respondents=minimum,
    )


def row_weights(
    weights: CommunityWeights,
    areas: Sequence[Any],
    types: pd.DataFrame,
) -> tuple[np.ndarray, list[str]]:
    """Each row's community weight :math:`m_r` and a note saying what it rests on (set-based).

    Parameters
    ----------
    weights : CommunityWeights
    areas : sequence of str or None
        Each row's LSOA code (None: the force-wide weights).
    types : pandas.DataFrame
        ``row`` (position 0..n-1), ``type`` (crime type or behaviour), ``value`` (harm): the
        rows' harm by type, long; a row with none keeps weight 1.

    Returns
    -------
    (numpy.ndarray, list of str)
        Weights (dimensionless; 1 = the community said nothing particular about this row's
        harms) and notes, e.g. ``'community 2019-Q2: E01000001 (32 respondents)'``.
    """
    n = len(areas)
    out = np.ones(n)
    if weights.wave is None:
        return out, ["no community harm ranking loaded: weight 1"] * n
    area = pd.Series(list(areas), dtype=object)
    table = weights.by_area
    known = area.isin(table.index).to_numpy()
    t = types[(types["value"] > 0) & types["row"].between(0, n - 1)].copy()
    t["category"] = t["type"].astype(str).str.lower().map(weights.category_of)
    t["area"] = area.to_numpy()[t["row"].to_numpy()] if len(t) else []
    t["share"] = t["value"] / t.groupby("row")["value"].transform("sum")
    # the weight of each (area, category): the area's own where known, else force-wide
    long = table.stack().rename("w").reset_index()
    long.columns = ["area", "category", "w"]
    t = t.merge(long, on=["area", "category"], how="left")
    t["w"] = t["w"].fillna(t["category"].map(weights.force)).fillna(1.0)
    m = (t["share"] * t["w"]).groupby(t["row"]).sum()
    # an empty groupby has an object index, which numpy refuses as positions
    where = m.index.to_numpy(dtype=np.int64)
    out[where] = m.to_numpy()
    has = np.zeros(n, dtype=bool)
    has[where] = True
    suppressed = set(weights.suppressed)
    resp = weights.respondents
    notes = []
    for i in range(n):
        a = area.iat[i]
        if not has[i]:
            notes.append("no harm by type for this row: community weight 1")
        elif not known[i]:
            notes.append(f"community {weights.wave}: no answers for this area, force-wide weights")
        elif a in suppressed:
            notes.append(
                f"community {weights.wave}: {a} suppressed "
                f"(<{weights.min_respondents} respondents), force-wide weights"
            )
        else:
            notes.append(f"community {weights.wave}: {a} ({int(resp.get(a, 0))} respondents)")
    return out, notes
