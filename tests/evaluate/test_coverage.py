"""Simulation sanity: on Poisson data with a known effect, 95% intervals cover the truth
about 95% of the time. Small, fixed-seed runs (a few seconds in all); the full validity
study over simulated operations is ``harmscope validate-evaluation``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from harmscope.evaluate import did_count, did_harm, its_forecast, wdd

# With R replications the number of intervals covering the truth is Binomial(R, 0.95) when
# the intervals are right. The band is its central 99.9% range: too narrow intervals fail
# below it, over-wide ones above it (its upper end is below R for every R used here).


def _coverage_band(reps: int) -> tuple[float, float]:
    lo, hi = binom.interval(0.999, reps, 0.95)
    return float(lo) / reps, float(hi) / reps


def _wdd_coverage(reps: int, alpha: float) -> float:
    rng = np.random.default_rng(101)
    c_pre, c_post, t_pre, effect = 120.0, 132.0, 90.0, -25.0
    t_post = t_pre * c_post / c_pre + effect  # parallel trend in counts, then the effect
    truth = (t_post - t_pre) - (c_post - c_pre)
    draws = rng.poisson([c_pre, c_post, t_pre, t_post], size=(reps, 4))
    hits = 0
    for c0, c1, t0, t1 in draws:
        r = wdd((c0, c1), (t0, t1), alpha=alpha)
        hits += r.ci_low <= truth <= r.ci_high
    return hits / reps


@pytest.mark.parametrize("reps", [150, 200, 250, 2000])
def test_the_band_can_fail_on_over_wide_intervals(reps: int) -> None:
    lo, hi = _coverage_band(reps)
    assert 0.85 < lo < 0.95 < hi < 1.0


def test_the_band_rejects_99_percent_intervals_sold_as_95() -> None:
    # Over-wide intervals (99% where 95% was promised) cover too often and must fail.
    _lo, hi = _coverage_band(2000)
    assert _wdd_coverage(2000, alpha=0.01) > hi


def test_wdd_interval_covers_true_difference() -> None:
    lo, hi = _coverage_band(2000)
    assert lo <= _wdd_coverage(2000, alpha=0.05) <= hi


def test_did_count_interval_covers_true_irr() -> None:
    rng = np.random.default_rng(202)
    reps, areas, periods, irr = 150, 12, 8, 0.75
    base = rng.gamma(6.0, 5.0, size=areas)
    trend = np.exp(0.04 * np.arange(periods))
    treated = np.arange(areas) < 4
    post = np.arange(periods) >= 4
    mu = base[:, None] * trend[None, :] * np.where(np.outer(treated, post), irr, 1.0)
    frame = pd.DataFrame(
        {
            "area": np.repeat(np.arange(areas), periods),
            "period": np.tile(np.arange(periods), areas),
            "treated": np.repeat(treated, periods).astype(int),
            "post": np.tile(post, areas).astype(int),
        }
    )
    hits, estimates = 0, []
    for _ in range(reps):
        frame["count"] = rng.poisson(mu).ravel()
        r = did_count(frame)
        hits += r.ci_low <= irr <= r.ci_high
        estimates.append(r.log_irr)
    lo, hi = _coverage_band(reps)
    assert lo <= hits / reps <= hi
    assert abs(np.mean(estimates) - math.log(irr)) < 0.02  # unbiased on the log scale


def test_did_harm_compound_interval_covers_true_harm_irr() -> None:
    # Three crime types with very different harm weights and the same 30% reduction, so the
    # harm IRR is 0.7 too. A naive Poisson variance on the harm totals would under-cover.
    rng = np.random.default_rng(303)
    reps, irr = 250, 0.7
    weights = {"theft": 2.0, "burglary": 247.28, "robbery": 365.0}
    means = {
        "theft": (300.0, 320.0, 250.0),
        "burglary": (40.0, 44.0, 30.0),
        "robbery": (12.0, 13.0, 10.0),
    }  # control pre, control post, treated pre
    rows = []
    for name, (c0, c1, t0) in means.items():
        t1 = t0 * c1 / c0 * irr
        for area, treated, pre, post in (("c", 0, c0, c1), ("t", 1, t0, t1)):
            rows += [(area, 0, treated, 0, name, pre), (area, 1, treated, 1, name, post)]
    frame = pd.DataFrame(rows, columns=["area", "period", "treated", "post", "crime_type", "mu"])
    hits = 0
    for _ in range(reps):
        frame["count"] = rng.poisson(frame["mu"])
        r = did_harm(frame, weights=weights)
        hits += r.ci_low <= irr <= r.ci_high
    lo, hi = _coverage_band(reps)
    assert lo <= hits / reps <= hi


def test_its_forecast_interval_covers_the_counterfactual() -> None:
    # No intervention: the observed post-period total *is* the counterfactual, so the
    # prediction interval of observed - counterfactual should contain 0 about 95% of the time.
    rng = np.random.default_rng(404)
    reps = 200
    months = pd.period_range("2018-01", periods=34, freq="M")
    t = np.arange(len(months))
    mu = 150 * np.exp(0.005 * t + 0.2 * np.cos(2 * np.pi * np.asarray(months.month) / 12))
    hits = 0
    for _ in range(reps):
        y = pd.Series(rng.poisson(mu), index=months)
        r = its_forecast(y, start=months[24])
        hits += r.difference_ci_low <= 0.0 <= r.difference_ci_high
    lo, hi = _coverage_band(reps)
    assert lo <= hits / reps <= hi
