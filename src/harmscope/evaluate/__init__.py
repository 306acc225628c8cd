"""Evaluation estimators: did an operation change harm, and did it move elsewhere?

Every estimator reports an effect with an interval (or a p-value), never a bare count of
arrests. See ``docs/evaluation.md`` for the formulas, the published values the tests check,
and which estimator to use when.

* :func:`wdd` -- weighted displacement difference test (Wheeler & Ratcliffe 2018);
* :func:`wdd_harm` -- harm-weighted WDD across crime types;
* :func:`wdq` -- weighted displacement quotient and total net effect (Bowers & Johnson 2003);
* :func:`etest` -- Poisson E-test for two counts or rates (Krishnamoorthy & Thomson 2004);
* :func:`did_count` / :func:`did_harm` -- difference-in-differences Poisson / NB GLMs on an
  area x period panel, for counts and for harm;
* :func:`its_segmented` / :func:`its_forecast` -- interrupted time series with seasonality.

Every estimator returns an :class:`Estimate` (estimate, interval, p, unit, method, notes)
and :func:`interval_reading` is the one wording of an interval; an evaluation reports its
effects as :class:`Effect` (an Estimate with its area and outcome). A new estimator is one
module plus one :func:`register` call.

End to end (``docs/evaluation.md``, "Evaluating an intervention"):

* :class:`Intervention` (areas as :class:`AreaSpec`, :class:`Period`; module ``spec``),
  loaded by :func:`load_intervention` from TOML/JSON; :func:`evaluate_intervention`
  (warehouse counts by :func:`area_counts`, module ``counts``; estimators by
  :func:`evaluate_counts`, module ``intervention``) returns an :class:`Evaluation` with a
  plain-language verdict (module ``verdict``);
* :func:`scorecard` -- harm vs busyness for any area and period (:class:`Scorecard`);
* ``validate_evaluation`` (coverage, bias and displacement detection on simulated operations
  with known effects) lives in :mod:`harmscope.checks.evaluation`, above this package, so
  nothing here imports the simulator.
"""

from harmscope.evaluate.areas import AreaSpec, parse_area
from harmscope.evaluate.did import DiDResult, did_count, did_harm
from harmscope.evaluate.estimate import Effect, Estimate, interval_reading
from harmscope.evaluate.etest import etest
from harmscope.evaluate.intervention import (
    Evaluation,
    Intervention,
    Period,
    area_counts,
    evaluate_counts,
    evaluate_intervention,
    load_intervention,
)
from harmscope.evaluate.its import ITSForecast, ITSResult, its_forecast, its_segmented
from harmscope.evaluate.registry import register
from harmscope.evaluate.scorecard import Measure, Scorecard, scorecard
from harmscope.evaluate.wdd import WDDHarmResult, WDDResult, wdd, wdd_harm
from harmscope.evaluate.wdq import WDQResult, wdq

__all__ = [
    "AreaSpec",
    "DiDResult",
    "Effect",
    "Estimate",
    "Evaluation",
    "ITSForecast",
    "ITSResult",
    "Intervention",
    "Measure",
    "Period",
    "Scorecard",
    "WDDHarmResult",
    "WDDResult",
    "WDQResult",
    "area_counts",
    "did_count",
    "did_harm",
    "etest",
    "evaluate_counts",
    "evaluate_intervention",
    "interval_reading",
    "its_forecast",
    "its_segmented",
    "load_intervention",
    "parse_area",
    "register",
    "scorecard",
    "wdd",
    "wdd_harm",
    "wdq",
]
