"""Input checks shared by the estimators. Every failure raises :class:`EstimatorError`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scipy.stats import norm

from harmscope.errors import EstimatorError


def count(value: Any, name: str) -> float:
    """One non-negative, finite count (harm totals may be non-integer)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise EstimatorError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise EstimatorError(f"{name} must be a finite count >= 0, got {value!r}")
    return x


def positive(value: Any, name: str) -> float:
    """One strictly positive, finite number (weights, exposures)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise EstimatorError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x <= 0:
        raise EstimatorError(f"{name} must be a finite number > 0, got {value!r}")
    return x


def pre_post(value: Any, name: str) -> tuple[float, float]:
    """A ``(pre, post)`` pair of counts."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise EstimatorError(f"{name} must be a (pre, post) pair of counts, got {value!r}")
    return count(value[0], f"{name} pre"), count(value[1], f"{name} post")


def weights(value: Any, n: int, name: str) -> tuple[float, ...]:
    """A sequence of ``n`` strictly positive weights."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != n:
        raise EstimatorError(f"{name} must be {n} positive numbers, got {value!r}")
    return tuple(positive(v, f"{name}[{i}]") for i, v in enumerate(value))


def alpha(value: Any) -> float:
    """A significance level strictly between 0 and 1."""
    try:
        a = float(value)
    except (TypeError, ValueError):
        raise EstimatorError(f"alpha must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < a < 1.0:
        raise EstimatorError(f"alpha must be in (0, 1), got {value!r}")
    return a


def z_crit(a: float) -> float:
    """Two-sided normal critical value ``z_{1 - alpha/2}``."""
    return float(norm.ppf(1.0 - a / 2.0))


def two_sided_p(z: float) -> float:
    """Two-sided normal p-value for a z statistic."""
    return float(2.0 * norm.sf(abs(z)))


def converged(res: Any, what: str) -> Any:
    """``res`` when its iterative fit converged; otherwise :class:`EstimatorError` naming
    ``what`` (statsmodels GLMs only warn, and a non-converged fit gives wrong intervals).

    statsmodels' IRLS stops on an *absolute* deviance change below ``tol``; with harm
    outcomes (deviances in the millions) and our tight ``tol`` rounding alone can keep it
    from stopping, so a last step whose relative deviance change is below 1e-9 also counts
    as converged.
    """
    if bool(getattr(res, "converged", True)):
        return res
    history = getattr(res, "fit_history", {}) or {}
    dev = [float(d) for d in history.get("deviance", []) if d is not None]
    settled = len(dev) >= 2 and math.isfinite(dev[-1])
    if settled and abs(dev[-1] - dev[-2]) <= 1e-9 * max(abs(dev[-2]), 1.0):
        return res
    raise EstimatorError(
        f"the {what} did not converge ({history.get('iteration', '?')} iterations); "
        "the panel may be too sparse for this model"
    )


def search_converged(opt: Any, what: str) -> float:
    """The optimum of a bounded scalar search (``scipy.optimize.minimize_scalar``), or
    :class:`EstimatorError` naming ``what`` when the search did not converge."""
    if not bool(getattr(opt, "success", False)):
        raise EstimatorError(
            f"the {what} did not converge: {getattr(opt, 'message', 'no message')}"
        )
    return float(opt.x)
