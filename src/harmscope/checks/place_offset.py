"""Fit the exponent of the local attribution's place offset on simulated tuning cities, and
split a city's error into its sources (:func:`error_sources`).

:func:`harmscope.markets.attribution.local_attribution` predicts the background harm of a
market's cells (harm of the market-linked types that would be there without the market) as

    expected_k = mean(L_p) * (R_k / mean(R_p)) ** beta

with ``L_p``, ``R_p`` the market-linked and the other harm of the placebo areas and ``R_k``
the other harm of the market's cells. ``beta = 0`` trusts the neighbourhood alone; it
under-predicts because markets sit where crime already concentrates (DESIGN §3). ``beta = 1``
(the ratio estimator) takes the other types to measure the place exactly; it over-predicts
because the other types (acquisitive crime) are themselves raised around a market by its
users, who steal near where they buy. The exponent between is estimated here from the
simulator's truth, on tuning seeds only.

For each market found in each city, the true background ``B_k`` is the market-linked harm of
its cells minus the recorded harm the simulator's markets caused there
(``MARKET_BEHAVIOURS`` events, all types; ``truth`` via the event records). ``beta`` solves
the quasi-Poisson estimating equation of the log-linear model
``E[B_k] = mean(L_p) x_k ** beta`` with ``x_k = R_k / mean(R_p)`` (McCullagh & Nelder 1989,
ch. 9: the score of a Poisson model with offset ``log mean(L_p)``)::

    sum_k (B_k - mean(L_p)_k x_k ** beta) log x_k = 0

References
----------
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed. Chapman & Hall.

Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 6 (the ratio estimator). Wiley.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from harmscope.checks.attribution import (
    MARKET_BEHAVIOURS,
    TUNING_SEEDS,
    Size,
    simulated_city,
    true_market_share,
)
from harmscope.markets.activity import market_activity
from harmscope.markets.attribution import BACKGROUND, local_attribution
from harmscope.periods import Progress
from harmscope.places.grid import DEFAULT_CELL_SIZE, with_cells
from harmscope.simulate.codes import BEHAVIOURS
from harmscope.simulate.truth import harm_rows
from harmscope.warehouse.handle import Warehouse

__all__ = ["PlaceOffsetFit", "error_sources", "fit_place_offset", "solve_beta"]


@dataclass(frozen=True)
class PlaceOffsetFit:
    """The fitted exponent and the markets it was fitted on.

    Attributes
    ----------
    beta : float
        Solution of the estimating equation (module docstring).
    seeds : list of int
    markets : DataFrame
        One row per market: ``seed``, ``market_id``, ``source``, ``observed`` (L_k),
        ``caused`` (true market harm in its cells), ``background`` (B_k), ``placebo_mean``
        and ``x`` (R_k / mean(R_p)).
    """

    beta: float
    seeds: list[int]
    markets: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"beta": self.beta, "seeds": self.seeds, "markets": len(self.markets)}


def solve_beta(
    background: Sequence[float], placebo_mean: Sequence[float], x: Sequence[float]
) -> float:
    """Root in ``[-2, 3]`` of ``sum (B - m x**beta) log x = 0`` (markets with ``x > 0``).

    Raises
    ------
    ValueError
        No root in the bracket (the data do not identify the exponent).
    """
    b = np.asarray(background, dtype=np.float64)
    m = np.asarray(placebo_mean, dtype=np.float64)
    xs = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(b) & np.isfinite(m) & (xs > 0)
    b, m, lx = b[ok], m[ok], np.log(xs[ok])

    def score(beta: float) -> float:
        return float(np.sum((b - m * np.exp(beta * lx)) * lx))

    lo, hi = -2.0, 3.0
    if not np.any(lx != 0) or score(lo) * score(hi) > 0:
        raise ValueError("the place-offset equation has no root in [-2, 3]")
    return float(brentq(score, lo, hi))


def fit_place_offset(
    seeds: Sequence[int] = TUNING_SEEDS[:15],
    *,
    months: int = 36,
    size: Size = "small",
    progress: Progress | None = None,
) -> PlaceOffsetFit:
    """Fit ``beta`` on simulated cities (tuning seeds only).

    Parameters
    ----------
    seeds : sequence of int, default 101..115
        Must all be tuning seeds (:data:`~harmscope.checks.attribution.TUNING_SEEDS`).
    months : int, default 36
    size : {'small', 'city', 'region'}, default 'small'
    progress : callable, optional
        ``progress('seeds', done, total)``.

    Returns
    -------
    PlaceOffsetFit

    Raises
    ------
    ValueError
        A seed that is not a tuning seed.
    """
    bad = sorted(set(seeds) - set(TUNING_SEEDS))
    if bad:
        raise ValueError(f"fit the place offset on tuning seeds only; {bad} are not")
    codes = [BEHAVIOURS.index(b) for b in MARKET_BEHAVIOURS]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="harmscope-offset-") as tmp:
        for i, seed in enumerate(seeds):
            if progress:
                progress("seeds", i, len(seeds))
            city = simulated_city(seed, months=months, size=size, work=Path(tmp))
            common: dict[str, Any] = {
                "intelligence": city.intelligence,
                "sites": city.sites,
                "replicates": 1,
                "background": "placebo",
            }
            plain = local_attribution(city.db, beta=0.0, **common)
            ratio = local_attribution(city.db, beta=1.0, **common)
            e = harm_rows(city.result)
            e = e[e["behaviour"].isin(codes)]
            cc = city.result.cell_cols(e["cell"].to_numpy())
            caused = (
                e.assign(cx=cc["cell_x"].astype(float), cy=cc["cell_y"].astype(float))
                .groupby(["cx", "cy"])["recorded_harm"]
                .sum()
            )
            for p, r in zip(plain.markets, ratio.markets, strict=True):
                mine = float(caused.reindex(list(p.area)).fillna(0.0).sum()) if p.area else 0.0
                rows.append(
                    {
                        "seed": seed,
                        "market_id": p.market_id,
                        "source": p.source,
                        "observed": p.observed,
                        "caused": mine,
                        "background": p.observed - mine,
                        "placebo_mean": p.expected,
                        "x": r.offset,
                    }
                )
    if progress:
        progress("seeds", len(seeds), len(seeds))
    table = pd.DataFrame(rows)
    beta = solve_beta(table["background"], table["placebo_mean"], table["x"])
    return PlaceOffsetFit(
        beta=beta if math.isfinite(beta) else math.nan, seeds=list(seeds), markets=table
    )


def error_sources(
    seeds: Sequence[int] = TUNING_SEEDS[:40],
    *,
    background: str = BACKGROUND,
    months: int = 36,
    size: Size = "small",
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Split each simulated city's error of the attributed share into its sources (tuning
    seeds only): the diagnosis behind the place background (``docs/harm-model.md``) and the
    local one (``docs/markets.md``, fifth pass).

    With ``T`` the true market harm of the city (recorded harm of
    :data:`~harmscope.checks.attribution.MARKET_BEHAVIOURS`), ``C`` the part of it inside the
    measured market cells, ``L`` and ``E`` the observed and expected counted harm summed over
    the markets, the relative error of the share is exactly
    ``background_error - unseen``:

    - ``unseen = (T - C) / T``: market harm the method cannot see (markets not found, harm
      beyond the market cells, market harm of types not counted);
    - ``background_error = (L - C - E) / T``: the true background of the market cells
      (counted harm minus what the markets caused there) minus its expected value;
    - ``recording_sd``: the SD of the market cells' counted harm from recording noise alone
      (Poisson counts times each type's mean CCHI days, ``sqrt(sum_t w_t**2 n_t)``), over
      ``T``: the floor no background model can go below.

    Returns
    -------
    DataFrame
        One row per seed: ``seed``, ``true_share``, ``share``, ``relative_error``,
        ``unseen``, ``background_error``, ``recording_sd``, ``markets``.

    Raises
    ------
    ValueError
        A seed that is not a tuning seed.
    """
    bad = sorted(set(seeds) - set(TUNING_SEEDS))
    if bad:
        raise ValueError(f"diagnose on tuning seeds only; {bad} are not")
    codes = [BEHAVIOURS.index(b) for b in MARKET_BEHAVIOURS]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="harmscope-errors-") as tmp:
        for i, seed in enumerate(seeds):
            if progress:
                progress("seeds", i, len(seeds))
            city = simulated_city(seed, months=months, size=size, work=Path(tmp))
            res = local_attribution(
                city.db,
                intelligence=city.intelligence,
                sites=city.sites,
                replicates=1,
                background=background,
            )
            e = harm_rows(city.result)
            e = e[e["behaviour"].isin(codes)]
            cc = city.result.cell_cols(e["cell"].to_numpy())
            caused = (
                e.assign(cx=cc["cell_x"].astype(float), cy=cc["cell_y"].astype(float))
                .groupby(["cx", "cy"])["recorded_harm"]
                .sum()
            )
            cells = [c for m in res.markets for c in m.area]
            inside = float(caused.reindex(cells).fillna(0.0).sum()) if cells else 0.0
            true = true_market_share(city.result.truth["behaviour_month"]) * res.total_harm
            observed = sum(m.observed for m in res.markets)
            expected = sum(m.expected for m in res.markets)
            rows.append(
                {
                    "seed": seed,
                    "true_share": true / res.total_harm,
                    "share": res.share,
                    "relative_error": res.share * res.total_harm / true - 1.0,
                    "unseen": (true - inside) / true,
                    "background_error": (observed - inside - expected) / true,
                    "recording_sd": _recording_sd(city.db, cells, res.types) / true,
                    "markets": len(res.markets),
                }
            )
    if progress:
        progress("seeds", len(seeds), len(seeds))
    return pd.DataFrame(rows)


def _recording_sd(db: Path, cells: Sequence[tuple[float, float]], types: Sequence[str]) -> float:
    # Counts and harm of each counted type in the market cells; the SD of a Poisson count n
    # times a mean weight w is w sqrt(n).
    if not cells:
        return 0.0
    with Warehouse.of(db) as wh:
        t = with_cells(market_activity(wh.events(), harm="all"), cell_size=DEFAULT_CELL_SIZE)
        t = t.filter((t.kind == "harm") & t.event_key.isin(list(types)))
        per = (
            t.group_by(["cell_x", "cell_y", "event_key"])
            .aggregate(n=t.count(), harm=t.weight.sum())
            .to_pandas()
        )
    keep = set(cells)
    per = per[[(float(a), float(b)) in keep for a, b in zip(per.cell_x, per.cell_y, strict=True)]]
    by = per.groupby("event_key")[["n", "harm"]].sum()
    by = by[by["n"] > 0]
    w = by["harm"] / by["n"]
    return float(np.sqrt(np.sum(w**2 * by["n"])))
