"""One shape for every effect an evaluation reports, and one way to read its interval.

Every estimator of :mod:`harmscope.evaluate` reports an effect with an interval (or says it
has none). :class:`Estimate` is that shape: the point estimate, the interval, the p-value,
the unit, the method and notes. :func:`interval_reading` is the only place that words an
interval: an interval that lies wholly on one side of "no change" *excludes* no change,
whatever the estimator, so the WDD and the DiD read the same interval the same way.

References
----------
Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. *Statistics in Medicine*, 38(11), 2074-2102 (an interval and its
reading as the unit of report).

Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7, 11 (reading an interval
against no change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Effect", "Estimate", "interval_reading", "is_significant", "number"]


def number(x: float | None, digits: int = 0) -> str:
    """A figure for text: thousands separators, a true minus sign, ``n/a`` when missing.

    Examples
    --------
    >>> number(-13981.4), number(0.5, 2), number(None)
    ('−13,981', '0.50', 'n/a')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.{digits}f}".replace("-", "−")


def is_significant(lo: float | None, hi: float | None, null: float = 0.0) -> bool:
    """Whether the interval ``[lo, hi]`` lies wholly on one side of ``null`` (no change).

    Examples
    --------
    >>> is_significant(-246.9, -34.1), is_significant(-365.6, 54.9), is_significant(None, 1.0)
    (True, False, False)
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return False
    return lo > null or hi < null


def interval_reading(
    lo: float | None, hi: float | None, *, null: float = 0.0, alpha: float = 0.05
) -> str:
    """The one wording of an interval, for every estimator, report and verdict.

    Parameters
    ----------
    lo, hi : float or None
        Interval bounds (None or NaN: the estimator has no interval).
    null : float
        The value meaning "no change": 0 for differences, 1 for ratios.
    alpha : float
        Significance level (0.05 gives a 95% interval).

    Returns
    -------
    str
        ``"the 95% interval excludes no change"``, ``"the 95% interval includes no change"``
        or ``"no interval"``.

    Examples
    --------
    >>> interval_reading(-246.9, -34.1)
    'the 95% interval excludes no change'
    >>> interval_reading(0.86, 1.23, null=1.0)
    'the 95% interval includes no change'
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval"
    conf = f"{100 * (1 - alpha):g}%"
    verb = "excludes" if is_significant(lo, hi, null) else "includes"
    return f"the {conf} interval {verb} no change"


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """One effect, in the shape every estimator returns.

    :func:`~harmscope.evaluate.wdd.wdd`, :func:`~harmscope.evaluate.wdd.wdd_harm`,
    :func:`~harmscope.evaluate.wdq.wdq`, :func:`~harmscope.evaluate.did.did_count`,
    :func:`~harmscope.evaluate.did.did_harm` and the interrupted time series return
    subclasses of it that add their own detail (``se``, ``z``, ``irr`` ...).
    (:func:`~harmscope.evaluate.etest.etest` returns a bare p-value, as DESIGN fixes.)

    Attributes
    ----------
    estimate : float
        Point estimate: a difference in ``unit`` (negative = fewer crimes or less harm), or
        a ratio when ``null`` is 1.
    ci_low, ci_high : float or None
        Interval at level ``1 - alpha`` (None: the method gives none, e.g. the WDQ).
    p : float or None
        Two-sided p-value, when the method gives one.
    unit : str
        ``crimes``, a harm unit (e.g. ``days of imprisonment``), ``rate ratio`` ...
    method : str
        Estimator and citation, e.g. ``WDD (Wheeler & Ratcliffe 2018)``.
    notes : tuple of str
        Caveats (e.g. no interval, a dispersion estimate).
    alpha : float
        Significance level of the interval.
    null : float
        The value meaning "no change": 0 for differences, 1 for ratios.
    """

    estimate: float
    ci_low: float | None
    ci_high: float | None
    p: float | None
    unit: str
    method: str
    notes: tuple[str, ...] = ()
    alpha: float = 0.05
    null: float = 0.0

    @property
    def has_interval(self) -> bool:
        """Whether the method gives an interval."""
        return self.ci_low is not None and self.ci_high is not None

    @property
    def significant(self) -> bool:
        """The interval lies wholly on one side of no change (see :func:`is_significant`)."""
        return is_significant(self.ci_low, self.ci_high, self.null)

    @property
    def reading(self) -> str:
        """:func:`interval_reading` of this estimate's interval."""
        return interval_reading(self.ci_low, self.ci_high, null=self.null, alpha=self.alpha)

    def interval(self, digits: int = 0) -> str:
        """``95% CI −247 to −34``: the interval as every sentence about it prints it."""
        conf = f"{100 * (1 - self.alpha):g}%"
        return f"{conf} CI {number(self.ci_low, digits)} to {number(self.ci_high, digits)}"

    def sentence(self, digits: int = 0) -> str:
        """``−140 crimes (95% CI −247 to −34); the 95% interval excludes no change``."""
        head = f"{number(self.estimate, digits)} {self.unit}"
        if not self.has_interval:
            return f"{head} (no interval)"
        return f"{head} ({self.interval(digits)}); {self.reading}"


@dataclass(frozen=True, kw_only=True)
class Effect(Estimate):
    """An :class:`Estimate` as an evaluation reports it: which area and outcome it is about.

    Attributes
    ----------
    area : str
        Where: ``target``, ``buffer`` or ``target + buffer``.
    outcome : str
        ``crimes`` or ``harm``.
    family : str
        Estimator family used to compare readings (``DiD``, ``ITS``, ``WDD``, ``WDQ``).
    ratio, ratio_low, ratio_high : float or None
        The effect as a rate ratio with its interval, when the method gives one.
    """

    area: str = "target"
    outcome: str = "crimes"
    family: str = ""
    ratio: float | None = None
    ratio_low: float | None = None
    ratio_high: float | None = None

    @property
    def label(self) -> str:
        """``Crime, buffer``-style name for tables."""
        what = "Crime" if self.outcome == "crimes" else "Harm"
        return f"{what}, {self.area}"
