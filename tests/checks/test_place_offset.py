"""The place-offset exponent (``harmscope.checks.place_offset``): the estimating equation
solved by hand, and the fit's inputs recomputed from a SYNTHETIC city's truth."""

from __future__ import annotations

import numpy as np
import pytest

from harmscope.checks.place_offset import fit_place_offset, solve_beta


def test_solve_beta_recovers_a_known_exponent() -> None:
    # Backgrounds exactly m * x ** 0.3: the score is 0 at 0.3 and nowhere else.
    m = np.array([100.0, 250.0, 80.0, 400.0, 60.0])
    x = np.array([0.5, 1.0, 2.0, 3.0, 4.0])
    assert solve_beta(m * x**0.3, m, x) == pytest.approx(0.3, abs=1e-9)
    # Two markets by hand: B = (200, 50), m = (100, 100), x = (2, 1/2): 100 * 2**b = 200 and
    # 100 * 2**-b = 50 both at b = 1 (the ratio estimator is right when B moves with x).
    assert solve_beta([200.0, 50.0], [100.0, 100.0], [2.0, 0.5]) == pytest.approx(1.0)
    # Markets with x <= 0 carry no information and are left out.
    assert solve_beta([200.0, 50.0, 7.0], [100.0, 100.0, 5.0], [2.0, 0.5, 0.0]) == pytest.approx(
        1.0
    )


def test_unidentified_exponent_is_refused() -> None:
    with pytest.raises(ValueError, match="no root"):
        solve_beta([1.0, 1.0], [1.0, 1.0], [1.0, 1.0])  # log x = 0: the score is 0 for all


def test_only_tuning_seeds() -> None:
    with pytest.raises(ValueError, match="tuning seeds only"):
        fit_place_offset([1, 101])


@pytest.mark.slow
def test_fit_inputs_against_the_truth_files() -> None:
    """Tuning seed 101: the markets' caused harm cannot exceed what the simulator's markets
    caused in the whole city (``truth/behaviour_month.csv``), and background = observed -
    caused."""
    from harmscope.checks.attribution import MARKET_BEHAVIOURS
    from harmscope.simulate import simulate

    fit = fit_place_offset([101])
    t = fit.markets
    assert len(t) >= 4 and set(t["source"]) <= {"confirmed", "reports", "detected"}
    bm = simulate(seed=101, months=36, size="small").truth["behaviour_month"]
    city = bm.loc[bm["behaviour"].isin(MARKET_BEHAVIOURS), "recorded_harm"].sum()
    assert 0 < t["caused"].sum() <= city * (1 + 1e-6)
    assert np.allclose(t["background"], t["observed"] - t["caused"])
    assert (t["placebo_mean"] > 0).all() and (t["x"] > 0).all()
    assert fit.beta == pytest.approx(solve_beta(t["background"], t["placebo_mean"], t["x"]))


def test_error_sources_only_on_tuning_seeds() -> None:
    from harmscope.checks.place_offset import error_sources

    with pytest.raises(ValueError, match="tuning seeds only"):
        error_sources([1])


@pytest.mark.slow
def test_error_sources_add_up_against_the_truth_files() -> None:
    """Tuning seed 101: the true share from ``truth/behaviour_month.csv`` by hand, and the
    relative error is exactly the background error minus the unseen market harm."""
    from harmscope.checks.attribution import MARKET_BEHAVIOURS
    from harmscope.checks.place_offset import error_sources
    from harmscope.simulate import simulate

    t = error_sources([101])
    (row,) = t.to_dict("records")
    bm = simulate(seed=101, months=36, size="small").truth["behaviour_month"]
    mine = bm.loc[bm["behaviour"].isin(MARKET_BEHAVIOURS), "recorded_harm"].sum()
    assert row["true_share"] == pytest.approx(mine / bm["recorded_harm"].sum())
    assert row["relative_error"] == pytest.approx(row["share"] / row["true_share"] - 1)
    assert row["relative_error"] == pytest.approx(row["background_error"] - row["unseen"])
    # Some market harm always lies beyond the 500 m cells; recording noise is a few per cent.
    assert 0 < row["unseen"] < 0.5
    assert 0 < row["recording_sd"] < 0.5
