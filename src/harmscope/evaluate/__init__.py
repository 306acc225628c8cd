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
"""

from harmscope.evaluate.did import DiDResult, did_count, did_harm
from harmscope.evaluate.etest import etest
from harmscope.evaluate.its import ITSForecast, ITSResult, its_forecast, its_segmented
from harmscope.evaluate.wdd import WDDHarmResult, WDDResult, wdd, wdd_harm
from harmscope.evaluate.wdq import WDQResult, wdq

__all__ = [
    "DiDResult",
    "ITSForecast",
    "ITSResult",
    "WDDHarmResult",
    "WDDResult",
    "WDQResult",
    "did_count",
    "did_harm",
    "etest",
    "its_forecast",
    "its_segmented",
    "wdd",
    "wdd_harm",
    "wdq",
]
