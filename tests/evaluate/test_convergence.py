"""Statistics that fail loudly: every fit checks that it converged (the ITS and DiD negative
binomial dispersion searches, every GLM), and no warning filter leaks out of a fit."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult

from harmscope.checks.evaluation import validate_evaluation
from harmscope.errors import EstimatorError
from harmscope.evaluate import _checks, did, its

MONTHS = pd.period_range("2018-01", periods=30, freq="M")


def _series() -> pd.Series:
    rng = np.random.default_rng(5)
    return pd.Series(rng.negative_binomial(5, 5 / (5 + 80), len(MONTHS)), index=MONTHS)


def _failed_search(*args: object, **kwargs: object) -> OptimizeResult:
    return OptimizeResult(x=0.0, success=False, message="maximum number of function calls")


def test_its_negbin_refuses_a_dispersion_search_that_did_not_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y = _series()
    ok = its.its_forecast(y, start="2020-01", family="negbin", cov_type="model")
    assert ok.dispersion > 0
    monkeypatch.setattr(its, "minimize_scalar", _failed_search)
    with pytest.raises(EstimatorError, match="dispersion search \\(ITS\\) did not converge"):
        its.its_forecast(y, start="2020-01", family="negbin", cov_type="model")
    with pytest.raises(EstimatorError, match="dispersion search"):
        its.its_segmented(y, start="2020-01", family="negbin", cov_type="model")


def test_did_negbin_refuses_a_dispersion_search_that_did_not_converge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame(
        {
            "area": np.repeat(np.arange(6), 8),
            "period": np.tile(np.arange(8), 6),
            "treated": np.repeat(np.arange(6) < 2, 8).astype(int),
            "post": np.tile(np.arange(8) >= 4, 6).astype(int),
        }
    )
    frame["count"] = rng.poisson(40, len(frame))
    assert did.did_count(frame, family="negbin", cov_type="model").n_obs == 48
    monkeypatch.setattr(did, "minimize_scalar", _failed_search)
    with pytest.raises(EstimatorError, match="dispersion search \\(DiD\\) did not converge"):
        did.did_count(frame, family="negbin", cov_type="model")


def test_a_glm_that_did_not_converge_is_refused() -> None:
    far = SimpleNamespace(
        converged=False, fit_history={"iteration": 100, "deviance": [10.0, 9.0, 8.0]}
    )
    with pytest.raises(EstimatorError, match="the ITS poisson GLM did not converge \\(100"):
        _checks.converged(far, "ITS poisson GLM")
    # statsmodels' stop rule is an absolute change; a relative change of 1e-12 on a harm
    # deviance of millions has settled.
    settled = SimpleNamespace(
        converged=False, fit_history={"iteration": 100, "deviance": [4e6, 4e6 * (1 + 1e-12)]}
    )
    assert _checks.converged(settled, "harm DiD") is settled
    assert _checks.converged(SimpleNamespace(converged=True), "x").converged
    assert math.isclose(
        _checks.search_converged(OptimizeResult(x=1.5, success=True), "search"), 1.5
    )


def test_validation_does_not_turn_warnings_off_for_the_process() -> None:
    before = list(warnings.filters)
    validate_evaluation(operations=1, seed=3, workers=1)
    assert warnings.filters == before
