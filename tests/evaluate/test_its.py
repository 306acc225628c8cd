"""Interrupted time series: exact recovery on noise-free series, interval behaviour on
simulated counts, and the 2020 lockdown in the City of London police.uk files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.errors import EstimatorError
from harmscope.evaluate import its_forecast, its_segmented

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11" / "street"

MONTHS = pd.period_range("2017-01", periods=48, freq="M")
SEASON = 0.15 * np.sin(2 * np.pi * (np.asarray(MONTHS.month) - 1) / 12)
START = 30  # 2019-07

# Noise-free series fit exactly, which statsmodels reports as perfect prediction.
exact_fit = pytest.mark.filterwarnings(
    "ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning"
)


def _mean(level: float = 1.0, slope: float = 1.0) -> np.ndarray:
    t = np.arange(len(MONTHS))
    post = t >= START
    log_mu = math.log(200) + 0.01 * t + SEASON
    log_mu += post * (math.log(level) + (t - START) * math.log(slope))
    return np.exp(log_mu)


@exact_fit
def test_segmented_recovers_exact_level_and_slope() -> None:
    # Noise-free "counts" equal to the model's own mean: the fit must return the truth.
    y = pd.Series(_mean(level=0.6, slope=1.02), index=MONTHS)
    r = its_segmented(y, start=MONTHS[START], cov_type="model")
    assert_allclose([r.level_irr, r.slope_irr], [0.6, 1.02], rtol=1e-7)
    truth_cf = _mean()[START:].sum()
    assert_allclose(r.counterfactual, truth_cf, rtol=1e-7)
    assert_allclose(r.ratio, y.iloc[START:].sum() / truth_cf, rtol=1e-7)
    assert (r.n_pre, r.n_post) == (30, 18)


@exact_fit
def test_forecast_recovers_exact_counterfactual() -> None:
    y = pd.Series(_mean(level=0.6), index=MONTHS)
    r = its_forecast(y, start=str(MONTHS[START]), cov_type="model")
    assert_allclose(r.counterfactual, _mean()[START:].sum(), rtol=1e-7)
    assert_allclose(r.ratio, 0.6, rtol=1e-7)
    assert_allclose(r.table["expected"], _mean()[START:], rtol=1e-7)
    assert list(r.table.columns) == ["period", "observed", "expected", "pi_low", "pi_high"]
    assert r.table["period"].iloc[0] == "2019-07"


@exact_fit
def test_forecast_end_limits_the_window() -> None:
    y = pd.Series(_mean(level=0.6), index=MONTHS)
    r = its_forecast(y, start=MONTHS[START], end=MONTHS[START + 2], cov_type="model")
    assert r.n_post == 3
    assert_allclose(r.counterfactual, _mean()[START : START + 3].sum(), rtol=1e-7)


def test_intervals_on_simulated_counts() -> None:
    rng = np.random.default_rng(42)
    y = pd.Series(rng.poisson(_mean(level=0.7)), index=MONTHS)
    seg = its_segmented(y, start=MONTHS[START], slope_change=False)
    assert seg.level_ci_low < 0.7 < seg.level_ci_high
    assert seg.level_ci_high < 1.0
    assert math.isnan(seg.slope_irr)
    fc = its_forecast(y, start=MONTHS[START])
    assert fc.ratio_ci_low < 0.7 < fc.ratio_ci_high
    assert fc.difference_ci_low < fc.difference < fc.difference_ci_high < 0
    table = fc.table
    assert ((table.pi_low <= table.expected) & (table.expected <= table.pi_high)).all()


def test_negbin_and_hac_options() -> None:
    rng = np.random.default_rng(7)
    mu = _mean(level=0.7)
    y = pd.Series(rng.poisson(rng.gamma(20.0, mu / 20.0)), index=MONTHS)  # NB2, alpha 0.05
    nb = its_segmented(y, start=MONTHS[START], family="negbin", cov_type="model")
    assert 0.0 < nb.dispersion < 0.2
    assert nb.level_ci_low < 0.7 < nb.level_ci_high
    hac = its_segmented(y, start=MONTHS[START], cov_type="hac", hac_lags=2)
    assert hac.cov_type == "hac" and hac.level_ci_low < hac.level_irr < hac.level_ci_high
    fc = its_forecast(y, start=MONTHS[START], family="negbin", cov_type="model")
    assert fc.ratio_ci_low < 0.7 < fc.ratio_ci_high


@exact_fit
def test_exposure_offset() -> None:
    y = pd.Series(_mean(level=0.6), index=MONTHS)
    days = pd.Series(MONTHS.days_in_month.astype(float), index=MONTHS)
    r = its_segmented(y * days, start=MONTHS[START], exposure=days, cov_type="model")
    assert_allclose(r.level_irr, 0.6, rtol=1e-7)


def _city_monthly() -> pd.Series:
    files = sorted(CITY.glob("*-city-of-london-street.csv"))
    assert len(files) == 36, f"expected 36 monthly files under {CITY}"
    frame = pd.concat(pd.read_csv(f, usecols=["Month", "Crime type"]) for f in files)
    crimes = frame[frame["Crime type"] != "Anti-social behaviour"]
    return crimes.groupby("Month").size()


def test_city_of_london_2020_lockdown() -> None:
    # Natural experiment: the first national lockdown began on 23 March 2020, so April 2020 is
    # the first full month. Recorded crime in the City (a workday population of ~500,000 and
    # ~8,000 residents) collapsed; both designs must say so with intervals excluding "no change".
    monthly = _city_monthly()
    assert len(monthly) == 36 and monthly.index[0] == "2018-12"
    first = its_forecast(monthly, start="2020-04", end="2020-06")
    assert first.n_pre == 16 and first.n_post == 3
    assert first.ratio_ci_high < 0.6  # at least a 40% fall in the first three months
    assert first.observed < first.counterfactual
    seg = its_segmented(monthly, start="2020-04")
    assert seg.level_ci_high < 1.0
    assert seg.ratio < 1.0


@pytest.mark.parametrize(
    ("series", "kwargs", "message"),
    [
        (pd.Series(_mean(), index=MONTHS).drop(MONTHS[5]), {}, "without gaps"),
        (pd.Series(_mean(), index=MONTHS), {"start": "2030-01"}, "not a month of the series"),
        (pd.Series(_mean(), index=MONTHS), {"start": MONTHS[10]}, "too few"),
        (pd.Series(-_mean(), index=MONTHS), {}, ">= 0"),
        (pd.Series(_mean(), index=MONTHS), {"family": "negbin"}, "overdispersion itself"),
        (pd.Series(_mean(), index=MONTHS), {"cov_type": "hc3"}, "cov_type"),
        (list(_mean()), {}, "pandas Series"),
    ],
)
def test_rejects_bad_input(series, kwargs: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"start": MONTHS[START], **kwargs}
    with pytest.raises(EstimatorError, match=message):
        its_segmented(series, **kwargs)
