"""Poisson E-test against Krishnamoorthy & Thomson (2004), Wheeler's ptools tests, SciPy's
documented example, and an exact brute-force oracle."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import norm, poisson, poisson_means_test

from harmscope.errors import EstimatorError
from harmscope.evaluate import etest


def _oracle(k1: int, k2: int, n1: float, n2: float, d: float, alternative: str) -> float:
    """The paper's double sum, with every comparison of T done in exact rational arithmetic.

    T = num / sqrt(var) is compared through (sign(num), num^2 / var), so ties such as the
    observed cell itself are never lost to rounding.
    """
    k1f, k2f, n1f, n2f, df = map(Fraction, (k1, k2, n1, n2, d))
    lam2 = (k1f + k2f) / (n1f + n2f) - df * n1f / (n1f + n2f)
    if lam2 <= 0:
        return 1.0
    mu1, mu2 = float(n1f * (lam2 + df)), float(n2f * lam2)

    def pivot(x1: int, x2: int) -> tuple[int, Fraction | None]:
        num = Fraction(x1) / n1f - Fraction(x2) / n2f - df
        var = Fraction(x1) / n1f**2 + Fraction(x2) / n2f**2
        sign = (num > 0) - (num < 0)
        return sign, (num * num / var if var else None)

    def at_least(a: tuple[int, Fraction], b: tuple[int, Fraction]) -> bool:
        if a[0] != b[0]:
            return a[0] > b[0]
        return a[1] >= b[1] if a[0] > 0 else (a[1] <= b[1] if a[0] < 0 else True)

    obs = pivot(k1, k2)
    assert obs[1] is not None
    total = 0.0
    for x1 in range(int(mu1 + 8 * math.sqrt(mu1) + 15)):
        for x2 in range(int(mu2 + 8 * math.sqrt(mu2) + 15)):
            sign, sq = pivot(x1, x2)
            if sq is None:  # x1 = x2 = 0: T = -d/0
                if sign == 0:
                    continue
                keep = alternative in ("two-sided", "less")
            elif alternative == "two-sided":
                keep = sq >= obs[1]
            elif alternative == "greater":
                keep = at_least((sign, sq), obs)  # type: ignore[arg-type]
            else:
                keep = at_least(obs, (sign, sq))  # type: ignore[arg-type]
            if keep:
                total += poisson.pmf(x1, mu1) * poisson.pmf(x2, mu2)
    return total


def test_paper_example_1_dodder_seeds() -> None:
    # Krishnamoorthy & Thomson (2004), example 1: 0 and 3 seeds, E-test p = 0.0884.
    assert_allclose(etest(0, 3), 0.0884, atol=5e-5)
    assert_allclose(etest(3, 0), 0.0884, atol=5e-5)


def test_paper_example_2() -> None:
    # Second example of the paper, as reproduced by ptools: e_test(6, 2) = 0.1749.
    assert_allclose(etest(6, 2), 0.1749, atol=5e-5)
    assert_allclose(etest(2, 6), etest(6, 2))


def test_scipy_documented_example() -> None:
    # scipy.stats.poisson_means_test docstring: k1 = 0, k2 = 3, two 100 g samples.
    assert_allclose(etest(0, 3, 100, 100), 0.08837900929018157, rtol=1e-8)


def test_equal_exposures_do_not_change_the_p_value() -> None:
    # ptools: e_test(3, 0) equals e_test(3, 0, 2, 2).
    assert_allclose(etest(3, 0, 2, 2), etest(3, 0))


@pytest.mark.parametrize(
    ("k1", "k2", "n1", "n2", "d", "alternative"),
    [
        (7, 0, 2.5, 1, 0, "less"),  # SciPy drops the observed cell here (rounding tie)
        (7, 2, 2.5, 4, 3, "greater"),  # and here
        (1, 0, 1, 1, 0.5, "two-sided"),  # x1 = x2 = 0 counts as T = -inf
        (3, 30, 1, 4, 0, "two-sided"),
        (12, 5, 1, 1, 0, "greater"),
        (12, 5, 1, 1, 0, "less"),
        (20, 9, 3, 2, 1, "two-sided"),
    ],
)
def test_matches_exact_oracle(
    k1: int, k2: int, n1: float, n2: float, d: float, alternative: str
) -> None:
    assert_allclose(
        etest(k1, k2, n1, n2, d, alternative=alternative),  # type: ignore[arg-type]
        _oracle(k1, k2, n1, n2, d, alternative),
        rtol=1e-9,
        atol=1e-12,
    )


def test_matches_scipy_with_unit_exposures() -> None:
    # SciPy computes the observed and the grid pivots with different float operations, so
    # exact ties can fall either way (e.g. (0, 8) and (8, 24) share T = -2 sqrt(2)); the
    # exact oracle above settles those. Elsewhere the two agree to truncation error.
    for k1, k2, alternative in itertools.product(
        [0, 1, 4, 9, 25], [1, 3, 8, 40], ["two-sided", "greater", "less"]
    ):
        ours = etest(k1, k2, alternative=alternative)  # type: ignore[arg-type]
        ref = poisson_means_test(k1, 1, k2, 1, alternative=alternative).pvalue
        assert_allclose(ours, ref, atol=1e-5, err_msg=f"{k1}, {k2}, {alternative}")


def test_matches_scipy_with_exposures_and_differences() -> None:
    # Crime-analysis use: rates per month over periods of different length, and a null
    # difference d > 0. Where SciPy's float pivots lose a tie (15 of these 648 cases, e.g.
    # k1=17, n1=2.5, k2=2, n2=1, "less"), the exact oracle must side with us.
    disagree = 0
    for k1, k2, n1, n2, d, alternative in itertools.product(
        [0, 3, 17, 60],
        [2, 11, 45],
        [1, 2.5, 6],
        [1, 3],
        [0, 0.5, 4],
        ["two-sided", "greater", "less"],
    ):
        ours = etest(k1, k2, n1, n2, d, alternative=alternative)  # type: ignore[arg-type]
        ref = poisson_means_test(k1, n1, k2, n2, diff=d, alternative=alternative).pvalue
        if abs(ours - ref) > 1e-5:
            disagree += 1
            exact = _oracle(k1, k2, n1, n2, d, alternative)
            assert_allclose(ours, exact, rtol=1e-9, atol=1e-12, err_msg=f"{k1} {k2} {n1} {n2} {d}")
    assert disagree <= 20
    # The Lincoln target of docs/evaluation.md: 638 crimes in six months, then 768 in six.
    assert_allclose(etest(768, 638, 6, 6), poisson_means_test(768, 6, 638, 6).pvalue, rtol=1e-6)


def test_large_counts_agree_with_normal_approximation() -> None:
    p = etest(4000, 4100)
    assert_allclose(p, 2 * norm.sf(100 / math.sqrt(8100)), rtol=1e-2)


def test_restricted_estimate_not_positive_gives_one() -> None:
    # lambda2_hat = (1 + 0)/2 - 5 * 1/2 < 0: the null cannot be rejected (paper, p. 26).
    assert etest(1, 0, d=5) == 1.0


def test_size_does_not_exceed_nominal_level() -> None:
    # The paper's finding: the E-test is almost exact; its size seldom exceeds alpha.
    rng = np.random.default_rng(20040101)
    k = rng.poisson(6.0, size=(400, 2))
    k = k[k.sum(axis=1) > 0]
    rejections = np.mean([etest(int(a), int(b)) <= 0.05 for a, b in k])
    assert rejections <= 0.065


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0, 0), {}, "both counts are 0"),
        ((3, -2), {}, "k2"),
        ((3, 2, 1, 0), {}, "n2"),
        ((3, 2), {"d": -1}, "swap"),
        ((3, 2), {"alternative": "bigger"}, "alternative"),
    ],
)
def test_rejects_bad_input(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(EstimatorError, match=message):
        etest(*args, **kwargs)
