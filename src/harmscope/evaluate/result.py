"""The data an evaluation produced: :class:`EvaluationData`.

Kept apart from :mod:`~harmscope.evaluate.intervention` (which runs the estimators and adds
the verdict) so that :mod:`~harmscope.evaluate.readings` and :mod:`~harmscope.evaluate.verdict`
can read an evaluation without importing the module that imports them (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from harmscope.evaluate.did import DiDResult
from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.its import ITSForecast
from harmscope.evaluate.spec import Intervention, Role
from harmscope.evaluate.wdd import WDDHarmResult, WDDResult
from harmscope.evaluate.wdq import WDQResult
from harmscope.harm import Dropped
from harmscope.harm.schemes import Scheme

__all__ = ["EvaluationData"]


@dataclass(frozen=True)
class EvaluationData:
    """Everything an evaluation produced, as data. Estimates are ``None`` when the data do not
    allow them; ``notes`` says why. :class:`~harmscope.evaluate.intervention.Evaluation` adds
    the estimates in one shape, the verdict and the JSON form.

    Attributes
    ----------
    intervention : Intervention
    scheme : Scheme
        The weight scheme (its ``unit`` labels harm).
    counts : DataFrame
        As returned by :func:`~harmscope.evaluate.counts.area_counts`.
    monthly : DataFrame
        ``role, month, events, harm, activity, searches`` per role and month (zeros filled).
    totals : DataFrame
        ``role, period (pre/post), months, events, harm, activity, searches``.
    wdd, wdd_harm : WDDResult, WDDHarmResult or None
        Target (+ buffer) against control, counts and harm.
    wdq : WDQResult or None
    etest_p, etest_buffer_p : float or None
        E-test of the monthly rate post vs pre, in the target and in the buffer.
    did, did_harm, did_buffer, did_harm_buffer : DiDResult or None
        Monthly-panel GLMs: target vs control and buffer vs control.
    its, its_harm, its_buffer : ITSForecast or None
        Pre-period trend and season forecasts of the target (counts, harm) and buffer counts.
    notes : list of str
    extra : dict of str to Effect
        Estimates of the registered estimators (:mod:`~harmscope.evaluate.registry`).
    no_data : dict of str to str
        Totals the data cannot give, as ``"role.column"`` (e.g. ``"target.searches"``) with
        the reason; those cells of :attr:`totals` are NaN, never 0.
    """

    intervention: Intervention
    scheme: Scheme
    counts: pd.DataFrame
    monthly: pd.DataFrame
    totals: pd.DataFrame
    wdd: WDDResult | None = None
    wdd_harm: WDDHarmResult | None = None
    wdq: WDQResult | None = None
    etest_p: float | None = None
    etest_buffer_p: float | None = None
    did: DiDResult | None = None
    did_harm: DiDResult | None = None
    did_buffer: DiDResult | None = None
    did_harm_buffer: DiDResult | None = None
    its: ITSForecast | None = None
    its_harm: ITSForecast | None = None
    its_buffer: ITSForecast | None = None
    area_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    notes: list[str] = field(default_factory=list)
    dropped: Dropped = field(default_factory=lambda: Dropped(scheme=""))
    no_data: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Effect] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """Harm unit of the scheme (e.g. ``days of imprisonment``)."""
        return self.scheme.unit

    def total(self, role: Role, period: str, column: str = "events") -> float:
        """A total from :attr:`totals` (0 when the role is absent; NaN when the data cannot
        give it, see :attr:`no_data`)."""
        t = self.totals
        sel = t[(t["role"] == role) & (t["period"] == period)]
        return float(sel[column].iloc[0]) if len(sel) else 0.0
