"""Estimator registry: a new estimator is one module plus one registration.

An estimator registered here gets the evaluation's counts and returns its effects as
:class:`~harmscope.evaluate.estimate.Effect` objects, by name. From then on it is part of
every evaluation: :attr:`~harmscope.evaluate.intervention.Evaluation.estimates` holds its
estimates beside the built-in ones, so the report's table and forest plot, the JSON
(``readings``), the verdict's check for disagreeing estimators and ``validate-evaluation``
(scored against the simulator's truth for the estimate's area and outcome) all include it,
with no other change. An estimator that cannot answer raises
:class:`~harmscope.errors.EstimatorError`; the evaluation notes why and goes on.

Example, in a module of its own::

    from harmscope.evaluate.registry import Context, register
    from harmscope.evaluate.estimate import Effect

    @register("pre_post")
    def pre_post(ctx: Context) -> dict[str, Effect]:
        pre, post = ctx.pair("target")
        return {"pre_post": Effect(estimate=post - pre, ci_low=None, ci_high=None, p=None,
                                     unit="crimes", method="raw change", family="naive")}

References
----------
Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. *Statistics in Medicine*, 38(11), 2074-2102 (every method scored on
the same simulated data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.spec import Intervention, Role

__all__ = ["Context", "Runner", "register", "registered", "unregister"]


@dataclass(frozen=True)
class Context:
    """What a registered estimator gets.

    Attributes
    ----------
    counts : DataFrame
        ``role, month, event_type, kind, weight, count``, as
        :func:`~harmscope.evaluate.counts.area_counts` returns.
    intervention : Intervention
        Areas, periods, scheme and alpha.
    monthly : DataFrame
        ``role, month, events, harm, activity, searches`` per role and month.
    unit : str
        The scheme's harm unit.
    """

    counts: pd.DataFrame
    intervention: Intervention
    monthly: pd.DataFrame
    unit: str

    def pair(self, role: Role, column: str = "events") -> tuple[float, float]:
        """``(pre, post)`` totals of ``column`` (``events`` = harm-type crimes, or ``harm``)
        for one role."""
        iv = self.intervention
        m = self.monthly[self.monthly["role"] == role]
        pre = float(m.loc[m["month"].isin(iv.pre.months), column].sum())
        post = float(m.loc[m["month"].isin(iv.post.months), column].sum())
        return pre, post


Runner = Callable[[Context], Mapping[str, Effect]]
_REGISTRY: dict[str, Runner] = {}


def register(name: str) -> Callable[[Runner], Runner]:
    """Register ``runner`` under ``name`` (a decorator); names are unique.

    Parameters
    ----------
    name : str
        The estimator's name (its estimates may use any keys not used by the built-ins).

    Returns
    -------
    callable
        The decorator, which returns the runner unchanged.
    """

    def add(runner: Runner) -> Runner:
        if name in _REGISTRY:
            raise ValueError(f"an estimator named {name!r} is already registered")
        _REGISTRY[name] = runner
        return runner

    return add


def unregister(name: str) -> None:
    """Remove a registered estimator (KeyError when absent)."""
    del _REGISTRY[name]


def registered() -> dict[str, Runner]:
    """The registered estimators, in registration order.

    Returns
    -------
    dict of str to callable
    """
    return dict(_REGISTRY)


@contextmanager
def registered_for(name: str, runner: Runner) -> Iterator[None]:
    """Register ``runner`` for the duration of a ``with`` block (tests, one-off studies)."""
    register(name)(runner)
    try:
        yield
    finally:
        unregister(name)
