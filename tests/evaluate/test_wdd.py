"""WDD and harm-weighted WDD against the published values of Wheeler & Ratcliffe (2018) and
Wheeler's follow-up posts (as reproduced in the ``ptools`` R package tests)."""

from __future__ import annotations

import math
import re

import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm

from harmscope.errors import EstimatorError, HarmScopeError
from harmscope.evaluate import wdd, wdd_harm

PAPER = {
    "control": (308, 318),
    "treated": (207, 110),
    "disp_control": (150, 140),
    "disp_treated": (178, 157),
}

# Wheeler (2020-11-19), "Amending the WDD test to incorporate harm weights": five crime types
# (control pair, treated pair) and their harm weights.
HARM_CONTROL = [(133, 91), (388, 305), (148, 97), (86, 64), (94, 67)]
HARM_TREATED = [(130, 74), (327, 202), (398, 190), (144, 92), (183, 96)]
HARM_WEIGHTS = [3, 2, 5, 7, 10]


def test_paper_example_estimate_se_z() -> None:
    # Wheeler & Ratcliffe (2018), Crime Science 7:11: WDD = -118, variance 1568.
    r = wdd(**PAPER)
    assert_allclose(r.estimate, -118.0)
    assert_allclose(r.se, math.sqrt(1568.0))
    assert_allclose(r.se, 39.59798, atol=5e-6)
    assert_allclose(r.z, -2.97995, atol=5e-6)


def test_paper_example_interval_and_p() -> None:
    # The paper's 95% interval, reported rounded: -196 to -40.
    r = wdd(**PAPER, alpha=0.05)
    assert round(r.ci_low) == -196
    assert round(r.ci_high) == -40
    assert_allclose(r.p, 2 * norm.sf(2.97995), rtol=1e-5)
    assert r.alpha == 0.05


def test_paper_example_parts_add_up() -> None:
    r = wdd(**PAPER)
    # Local: (110 - 207) - (318 - 308); displacement: (157 - 178) - (140 - 150).
    assert_allclose(r.local_estimate, -107.0)
    assert_allclose(r.displacement_estimate, -11.0)
    assert_allclose(r.local_se**2 + r.displacement_se**2, r.se**2)


def test_different_time_periods() -> None:
    # Wheeler (2021-01-09), "The WDD test with different pre/post time periods".
    r = wdd((100, 50), (80, 20), time_weights=(2, 1))
    assert_allclose([r.estimate, r.se], [-20.0, math.sqrt(115.0)])


def test_different_area_sizes() -> None:
    # Wheeler (2021-02-23), "The WDD test with different area sizes".
    r = wdd(**PAPER, area_weights=(0.9, 1.2, 1.6, 1.5))
    assert_allclose(
        [r.estimate, r.se, r.z, r.ci_low, r.ci_high],
        [-99.69444444, 35.4280755, -2.813995483, -169.1321965, -30.25669241],
        rtol=1e-8,
    )
    # "Using weights in regression" post: the local estimate is -91.9 (31.5).
    assert_allclose([r.local_estimate, r.local_se], [-91.9, 31.5], atol=0.05)


def test_crimede_coder_calculator_example() -> None:
    # crimede-coder.com "Some extensions to the WDD statistic": control 100 -> 90, treated
    # 100 -> 80: an extra reduction of 10 crimes, standard error 19.
    r = wdd((100, 90), (100, 80))
    assert_allclose(r.estimate, -10.0)
    assert round(r.se) == 19


def test_ptools_local_displacement_total() -> None:
    # ptools tests: local -10, displacement -10, total -20.
    assert_allclose(wdd((20, 20), (20, 10)).local_estimate, -10.0)
    assert_allclose(wdd((20, 20), (20, 20), (20, 20), (20, 10)).displacement_estimate, -10.0)
    assert_allclose(wdd((20, 20), (20, 10), (20, 20), (20, 10)).estimate, -20.0)


def test_no_displacement_matches_local() -> None:
    r = wdd((308, 318), (207, 110))
    assert_allclose(r.estimate, -107.0)
    assert_allclose(r.se, math.sqrt(308 + 318 + 207 + 110))
    assert r.displacement_estimate == 0.0


def test_wider_interval_for_smaller_alpha() -> None:
    r90 = wdd(**PAPER, alpha=0.10)
    r99 = wdd(**PAPER, alpha=0.01)
    assert r99.ci_low < r90.ci_low < r90.estimate < r90.ci_high < r99.ci_high
    assert_allclose(r90.ci_high - r90.estimate, norm.ppf(0.95) * r90.se)


def test_harm_weighted_published_values() -> None:
    # ptools "Cumulative Harm" test values (alpha 0.05).
    r = wdd_harm(control=HARM_CONTROL, treated=HARM_TREATED, weights=HARM_WEIGHTS, alpha=0.05)
    assert_allclose(
        [r.estimate, r.se, r.z, r.ci_low, r.ci_high],
        [-1721.0, 304.10360077, -5.65925558, -2317.03210507, -1124.96789493],
        rtol=1e-8,
    )
    assert [c.estimate for c in r.components] == [-14.0, -42.0, -157.0, -30.0, -60.0]
    assert r.weights == (3.0, 2.0, 5.0, 7.0, 10.0)


def test_harm_weighted_with_unit_weights_is_pooled_wdd() -> None:
    r = wdd_harm(control=HARM_CONTROL, treated=HARM_TREATED, weights=[1] * 5)
    pooled = wdd(
        tuple(map(sum, zip(*HARM_CONTROL, strict=True))),
        tuple(map(sum, zip(*HARM_TREATED, strict=True))),
    )
    assert_allclose([r.estimate, r.se], [pooled.estimate, pooled.se])


def test_harm_weighted_with_displacement() -> None:
    r = wdd_harm(
        control=[PAPER["control"]],
        treated=[PAPER["treated"]],
        weights=[2.0],
        disp_control=[PAPER["disp_control"]],
        disp_treated=[PAPER["disp_treated"]],
    )
    assert_allclose([r.estimate, r.se], [-236.0, 2 * math.sqrt(1568.0)])


def test_harm_weighted_crime_type_with_no_events() -> None:
    r = wdd_harm(control=[(10, 12), (0, 0)], treated=[(14, 6), (0, 0)], weights=[5, 365])
    assert_allclose([r.estimate, r.se], [5 * -10.0, 5 * math.sqrt(42.0)])
    assert r.components[1].estimate == 0.0


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (((308, 318), (207, -1)), {}, "treated post"),
        (((308, 318), (207,)), {}, "treated must be a (pre, post) pair"),
        (((308, 318), "ab"), {}, "treated must be a (pre, post) pair"),
        (((308, 318), (207, 110), (150, 140)), {}, "both disp_control and disp_treated"),
        (((308, 318), (207, 110)), {"alpha": 1.5}, "alpha"),
        (((308, 318), (207, 110)), {"time_weights": (1, 0)}, "time_weights[1]"),
        (((308, 318), (207, 110)), {"area_weights": (1, 1)}, "area_weights must be 4"),
        (((0, 0), (0, 0)), {}, "every count is zero"),
        (((308, math.nan), (207, 110)), {}, "control post"),
    ],
)
def test_wdd_rejects_bad_input(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(EstimatorError, match=re.escape(message)) as info:
        wdd(*args, **kwargs)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HarmScopeError)


def test_wdd_harm_rejects_mismatched_lengths() -> None:
    with pytest.raises(EstimatorError, match="one \\(pre, post\\) pair per weight"):
        wdd_harm(control=HARM_CONTROL, treated=HARM_TREATED[:4], weights=HARM_WEIGHTS)
    with pytest.raises(EstimatorError, match="weights\\[1\\]"):
        wdd_harm(control=[(1, 2), (3, 4)], treated=[(1, 2), (3, 4)], weights=[1, -2])
    with pytest.raises(EstimatorError, match="crime type 1"):
        wdd_harm(control=[(1, 2), (3, -4)], treated=[(1, 2), (3, 4)], weights=[1, 2])


def test_result_is_frozen() -> None:
    r = wdd(**PAPER)
    with pytest.raises(AttributeError):
        r.estimate = 0.0  # type: ignore[misc]
