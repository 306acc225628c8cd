"""Fit the exponent of the local attribution's place offset on simulated tuning cities.

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
)
from harmscope.markets.attribution import local_attribution
from harmscope.periods import Progress
from harmscope.simulate.codes import BEHAVIOURS
from harmscope.simulate.truth import harm_rows

__all__ = ["PlaceOffsetFit", "fit_place_offset", "solve_beta"]


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
