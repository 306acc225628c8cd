"""Interrupted time series for monthly counts with seasonality.

Two designs for a single series (e.g. a force area's monthly crime, with the 2020 lockdown as
the interruption):

* :func:`its_segmented` -- segmented Poisson / negative binomial regression on the whole
  series, with a trend, month-of-year terms, and a level and slope change at the start;
* :func:`its_forecast` -- fit trend and seasonality on the pre-period only and forecast the
  post-period counterfactual with prediction intervals.

References
----------
Bernal, J. L., Cummins, S., & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *International Journal of
Epidemiology*, 46(1), 348-355 (segmented Poisson regression, seasonality, overdispersion,
autocorrelation).

Wagner, A. K., Soumerai, S. B., Zhang, F., & Ross-Degnan, D. (2002). Segmented regression
analysis of interrupted time series studies in medication use research. *Journal of Clinical
Pharmacy and Therapeutics*, 27(4), 299-309 (level and slope change).

Newey, W. K., & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity and
autocorrelation consistent covariance matrix. *Econometrica*, 55(3), 703-708.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from harmscope.errors import EstimatorError
from harmscope.evaluate import _checks
from harmscope.evaluate.estimate import Estimate

__all__ = ["ITSForecast", "ITSResult", "its_forecast", "its_segmented"]

Family = Literal["poisson", "negbin"]
ITSCov = Literal["quasi", "model", "robust", "hac"]


@dataclass(frozen=True, kw_only=True)
class ITSResult(Estimate):
    """Result of :func:`its_segmented`.

    As an :class:`~harmscope.evaluate.estimate.Estimate`, ``estimate`` is the post-period
    ``difference`` (observed minus counterfactual, in the series' unit) with its interval.

    Attributes
    ----------
    level_irr, level_ci_low, level_ci_high, level_p : float
        Immediate (step) change at the start, as a rate ratio: 0.6 = 40% lower in the first
        post month than the pre-period trend and season predict.
    slope_irr, slope_ci_low, slope_ci_high, slope_p : float
        Change of the month-on-month growth factor after the start (1 = same trend). NaN
        when ``slope_change=False``.
    observed : float
        Total count over the post-period.
    counterfactual : float
        Modelled post-period total with the level and slope terms set to zero.
    difference, difference_ci_low, difference_ci_high : float
        ``observed - counterfactual`` (in crimes; negative = fewer) and its delta-method
        interval.
    ratio, ratio_ci_low, ratio_ci_high : float
        ``observed / counterfactual`` and its interval (delta method on the log scale).
    family, cov_type : str
        Model family and variance used.
    dispersion : float
        Pearson scale (``quasi``), NB2 alpha (``negbin``), or 1.
    alpha : float
        Significance level of the intervals.
    n_pre, n_post : int
        Months before and from the start.
    """

    level_irr: float
    level_ci_low: float
    level_ci_high: float
    level_p: float
    slope_irr: float
    slope_ci_low: float
    slope_ci_high: float
    slope_p: float
    observed: float
    counterfactual: float
    difference: float
    difference_ci_low: float
    difference_ci_high: float
    ratio: float
    ratio_ci_low: float
    ratio_ci_high: float
    family: str
    cov_type: str
    dispersion: float
    n_pre: int
    n_post: int
    ci_low: float
    ci_high: float
    p: float | None = None
    unit: str = "count"
    method: str = "interrupted time series"


@dataclass(frozen=True, kw_only=True)
class ITSForecast(Estimate):
    """Result of :func:`its_forecast`.

    As an :class:`~harmscope.evaluate.estimate.Estimate`, ``estimate`` is the post-period
    ``difference`` (observed minus forecast, in the series' unit) with its prediction
    interval.

    Attributes
    ----------
    observed : float
        Total count over the post-period.
    counterfactual : float
        Forecast post-period total from the pre-period trend and seasonality.
    difference, difference_ci_low, difference_ci_high : float
        ``observed - counterfactual`` in crimes with a prediction interval that includes both
        parameter uncertainty and the count noise of the counterfactual months.
    ratio, ratio_ci_low, ratio_ci_high : float
        ``observed / counterfactual`` with the same interval on the log scale.
    table : pandas.DataFrame
        One row per post month: ``period, observed, expected, pi_low, pi_high`` (pointwise
        prediction interval of the counterfactual count), for charts.
    family, cov_type : str
        Model family and variance of the pre-period fit.
    dispersion : float
        Pearson scale (``quasi``), NB2 alpha (``negbin``) or 1.
    alpha : float
        Significance level.
    n_pre, n_post : int
        Months used to fit and months forecast.
    """

    observed: float
    counterfactual: float
    difference: float
    difference_ci_low: float
    difference_ci_high: float
    ratio: float
    ratio_ci_low: float
    ratio_ci_high: float
    table: pd.DataFrame
    family: str
    cov_type: str
    dispersion: float
    n_pre: int
    n_post: int
    ci_low: float
    ci_high: float
    p: float | None = None
    unit: str = "count"
    method: str = "interrupted time series"

    @property
    def percent_change(self) -> float:
        """``100 (ratio - 1)``."""
        return 100.0 * (self.ratio - 1.0)


def _series(counts: pd.Series, start: Any) -> tuple[np.ndarray, pd.PeriodIndex, int]:
    """Validate a monthly series; return values, monthly periods and the start position."""
    if not isinstance(counts, pd.Series):
        raise EstimatorError(
            f"counts must be a pandas Series indexed by month, got {type(counts).__name__}"
        )
    try:
        idx = pd.PeriodIndex(counts.index, freq="M")
    except (TypeError, ValueError) as err:
        raise EstimatorError(f"the index of counts must be months (YYYY-MM): {err}") from None
    if idx.has_duplicates:
        raise EstimatorError("counts has the same month more than once")
    order = np.argsort(idx.asi8)
    idx = idx[order]
    y = counts.to_numpy(dtype=float)[order]
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise EstimatorError("counts must be finite and >= 0 (no missing months)")
    if len(idx) > 1 and np.any(np.diff(idx.asi8) != 1):
        raise EstimatorError("counts must cover consecutive months without gaps")
    try:
        first = pd.Period(start, freq="M")
    except (TypeError, ValueError) as err:
        raise EstimatorError(f"start must be a month (YYYY-MM), got {start!r}: {err}") from None
    pos = int(np.searchsorted(idx.asi8, first.ordinal))
    if pos >= len(idx) or idx[pos] != first:
        raise EstimatorError(f"start {first} is not a month of the series ({idx[0]}..{idx[-1]})")
    return y, idx, pos


def _base_design(idx: pd.PeriodIndex, seasonal: bool) -> np.ndarray:
    """Intercept, linear trend (months from the first) and month-of-year dummies."""
    t = np.arange(len(idx), dtype=float)
    cols = [np.ones_like(t), t]
    if seasonal:
        months = np.asarray(idx.month)
        cols += [(months == m).astype(float) for m in range(2, 13)]
    return np.column_stack(cols)


def _check_options(family: str, cov_type: str, hac_lags: int) -> None:
    if family not in ("poisson", "negbin"):
        raise EstimatorError(f"family must be 'poisson' or 'negbin', got {family!r}")
    if cov_type not in ("quasi", "model", "robust", "hac"):
        raise EstimatorError(
            f"cov_type must be 'quasi', 'model', 'robust' or 'hac', got {cov_type!r}"
        )
    if family == "negbin" and cov_type == "quasi":
        raise EstimatorError(
            "the negative binomial models overdispersion itself: use cov_type='model', "
            "'robust' or 'hac' with family='negbin'"
        )
    if not isinstance(hac_lags, int) or hac_lags < 0:
        raise EstimatorError(f"hac_lags must be an integer >= 0, got {hac_lags!r}")


def _fit(
    y: np.ndarray,
    x: np.ndarray,
    offset: np.ndarray | None,
    family: str,
    cov_type: str,
    hac_lags: int,
) -> tuple[Any, float]:
    """Fit the GLM; return the result and its dispersion (Pearson scale or NB2 alpha)."""
    nb_alpha = math.nan
    if family == "negbin":
        start = _checks.converged(
            sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit(),
            "Poisson start of the ITS negative binomial fit",
        ).params

        def negll(log_alpha: float) -> float:
            fam = sm.families.NegativeBinomial(alpha=math.exp(log_alpha))
            # The search visits extreme alphas, where statsmodels warns; only the optimum counts.
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                model = sm.GLM(y, x, family=fam, offset=offset)
                return -float(model.fit(start_params=start).llf)

        opt = minimize_scalar(negll, bounds=(math.log(1e-8), math.log(1e3)), method="bounded")
        nb_alpha = math.exp(
            _checks.search_converged(opt, "negative binomial dispersion search (ITS)")
        )
        fam: Any = sm.families.NegativeBinomial(alpha=nb_alpha)
    else:
        fam = sm.families.Poisson()
    model = sm.GLM(y, x, family=fam, offset=offset)
    what = f"ITS {family} GLM"
    if cov_type == "quasi":
        res = _checks.converged(model.fit(scale="X2", tol=1e-12), what)
        return res, float(res.scale)
    if cov_type == "robust":
        res = model.fit(cov_type="HC0", tol=1e-12)
    elif cov_type == "hac":
        res = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags}, tol=1e-12)
    else:
        res = model.fit(tol=1e-12)
    return _checks.converged(res, what), (nb_alpha if family == "negbin" else 1.0)


def _offset(exposure: pd.Series | None, idx: pd.PeriodIndex) -> np.ndarray | None:
    if exposure is None:
        return None
    if not isinstance(exposure, pd.Series):
        raise EstimatorError("exposure must be a pandas Series indexed like counts")
    try:
        ex = exposure.copy()
        ex.index = pd.PeriodIndex(ex.index, freq="M")
        values = ex.reindex(idx).to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise EstimatorError(f"exposure index must be months: {err}") from None
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise EstimatorError("exposure must be > 0 for every month of counts")
    return np.log(values)


def _ratio_interval(
    num: float, den: float, grad_log: np.ndarray, cov: np.ndarray, crit: float
) -> tuple[float, float, float]:
    ratio = num / den
    se_log = math.sqrt(max(float(grad_log @ cov @ grad_log), 0.0))
    return ratio, ratio * math.exp(-crit * se_log), ratio * math.exp(crit * se_log)


def its_segmented(
    counts: pd.Series,
    *,
    start: Any,
    exposure: pd.Series | None = None,
    seasonal: bool = True,
    slope_change: bool = True,
    family: Family = "poisson",
    cov_type: ITSCov = "quasi",
    hac_lags: int = 3,
    alpha: float = 0.05,
) -> ITSResult:
    r"""Segmented (interrupted time series) regression for monthly counts.

    Parameters
    ----------
    counts : pandas.Series
        Monthly counts, indexed by month (``Period``, ``Timestamp`` or ``"YYYY-MM"``),
        consecutive, no gaps.
    start : month-like, keyword-only
        First month of the intervention (e.g. ``"2020-04"``).
    exposure : pandas.Series, optional
        Exposure per month (> 0; e.g. days in month, population), as a log offset.
    seasonal : bool
        Month-of-year terms (11 dummies). Needs at least 12 pre-period months. Default True.
    slope_change : bool
        Estimate a change of trend as well as of level. Default True.
    family : {"poisson", "negbin"}
        Poisson GLM or NB2 GLM (``alpha`` by profile maximum likelihood).
    cov_type : {"quasi", "model", "robust", "hac"}
        ``"quasi"`` (default, Poisson only): Pearson-scaled variance for overdispersion.
        ``"model"``: likelihood variance. ``"robust"``: HC0 sandwich. ``"hac"``: Newey-West
        sandwich with ``hac_lags`` lags, for residual autocorrelation.
    hac_lags : int
        Lags of the Newey-West variance. Default 3.
    alpha : float
        Significance level. Default 0.05.

    Returns
    -------
    ITSResult

    Notes
    -----
    With months :math:`t = 0, 1, \dots`, start :math:`t_0`, :math:`P_t = [t \ge t_0]`:

    .. math::

        \log E[y_t] = \log(\text{exposure}_t) + \beta_0 + \beta_1 t
            + \sum_{m=2}^{12} \gamma_m [\text{month}_t = m]
            + \beta_2 P_t + \beta_3 (t - t_0) P_t

    Level change :math:`e^{\beta_2}`, slope change :math:`e^{\beta_3}` per month. The
    counterfactual of month :math:`t \ge t_0` sets :math:`\beta_2 = \beta_3 = 0`; the
    post-period difference :math:`\sum_t \hat\mu_t - \hat\mu^{(0)}_t` and ratio get delta-method
    intervals from the coefficient covariance. Validity rests on the pre-period trend and
    seasonality continuing, and on nothing else changing at :math:`t_0`.

    Examples
    --------
    Two years alternating 90 and 110 crimes a month, then three months of 50, 60 and 55:

    >>> import pandas as pd
    >>> months = pd.period_range("2018-01", periods=27, freq="M")
    >>> y = pd.Series([90.0, 110.0] * 12 + [50.0, 60.0, 55.0], index=months)
    >>> r = its_segmented(y, start="2020-01", seasonal=False, slope_change=False)
    >>> round(r.level_irr, 3), round(r.level_ci_low, 2), round(r.level_ci_high, 2)
    (0.542, 0.45, 0.65)
    """
    a = _checks.alpha(alpha)
    _check_options(family, cov_type, hac_lags)
    y, idx, t0 = _series(counts, start)
    n_pre, n_post = t0, len(y) - t0
    need = 14 if seasonal else 3
    if n_pre < need:
        raise EstimatorError(
            f"{n_pre} pre-period months is too few: need at least {need}"
            + (" (a full year for the seasonal terms, plus trend)" if seasonal else "")
        )
    if n_post < (2 if slope_change else 1):
        raise EstimatorError("the post-period needs at least 2 months to estimate a slope change")
    offset = _offset(exposure, idx)
    base = _base_design(idx, seasonal)
    post = (np.arange(len(y)) >= t0).astype(float)
    cols = [base, post[:, None]]
    if slope_change:
        cols.append(((np.arange(len(y)) - t0) * post)[:, None])
    x = np.hstack(cols)
    res, dispersion = _fit(y, x, offset, family, cov_type, hac_lags)
    beta = np.asarray(res.params)
    cov = np.asarray(res.cov_params())
    crit = _checks.z_crit(a)
    k_level = base.shape[1]

    def term(j: int) -> tuple[float, float, float, float]:
        b, se = float(beta[j]), math.sqrt(float(cov[j, j]))
        z = b / se
        return (
            math.exp(b),
            math.exp(b - crit * se),
            math.exp(b + crit * se),
            float(2.0 * norm.sf(abs(z))),
        )

    level = term(k_level)
    slope = term(k_level + 1) if slope_change else (math.nan,) * 4

    x_post = x[t0:]
    x0 = x_post.copy()
    x0[:, k_level:] = 0.0
    off_post = 0.0 if offset is None else offset[t0:]
    mu = np.exp(x_post @ beta + off_post)
    mu0 = np.exp(x0 @ beta + off_post)
    observed = float(y[t0:].sum())
    fitted_total, cf_total = float(mu.sum()), float(mu0.sum())
    # The difference is observed - counterfactual; its uncertainty is that of the fitted
    # effect sum(mu - mu0), whose gradient is sum(mu x - mu0 x0).
    grad = (mu[:, None] * x_post).sum(axis=0) - (mu0[:, None] * x0).sum(axis=0)
    se_diff = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    diff = observed - cf_total
    grad_log = (mu[:, None] * x_post).sum(axis=0) / fitted_total - (mu0[:, None] * x0).sum(
        axis=0
    ) / cf_total
    ratio, r_lo, r_hi = _ratio_interval(observed, cf_total, grad_log, cov, crit)
    return ITSResult(
        estimate=diff,
        ci_low=diff - crit * se_diff,
        ci_high=diff + crit * se_diff,
        method=f"segmented {family} regression (Bernal et al. 2017)",
        level_irr=level[0],
        level_ci_low=level[1],
        level_ci_high=level[2],
        level_p=level[3],
        slope_irr=slope[0],
        slope_ci_low=slope[1],
        slope_ci_high=slope[2],
        slope_p=slope[3],
        observed=observed,
        counterfactual=cf_total,
        difference=diff,
        difference_ci_low=diff - crit * se_diff,
        difference_ci_high=diff + crit * se_diff,
        ratio=ratio,
        ratio_ci_low=r_lo,
        ratio_ci_high=r_hi,
        family=family,
        cov_type=cov_type,
        dispersion=dispersion,
        alpha=a,
        n_pre=n_pre,
        n_post=n_post,
    )


def its_forecast(
    counts: pd.Series,
    *,
    start: Any,
    end: Any = None,
    exposure: pd.Series | None = None,
    seasonal: bool = True,
    family: Family = "poisson",
    cov_type: ITSCov = "quasi",
    hac_lags: int = 3,
    alpha: float = 0.05,
) -> ITSForecast:
    r"""Counterfactual forecast from the pre-period trend and seasonality.

    Parameters
    ----------
    counts : pandas.Series
        Monthly counts indexed by month, consecutive.
    start : month-like, keyword-only
        First month of the intervention; the model is fitted on the months before it.
    end : month-like, optional
        Last month to evaluate (default: the last month of ``counts``).
    exposure : pandas.Series, optional
        Exposure per month (> 0), as a log offset.
    seasonal : bool
        Month-of-year terms; needs at least 14 pre-period months. Default True.
    family : {"poisson", "negbin"}
        Model of the pre-period counts.
    cov_type : {"quasi", "model", "robust", "hac"}
        Variance of the pre-period coefficients, as in :func:`its_segmented`.
    hac_lags : int
        Newey-West lags for ``cov_type="hac"``.
    alpha : float
        Significance level of the prediction intervals. Default 0.05.

    Returns
    -------
    ITSForecast

    Notes
    -----
    Fit :math:`\log E[y_t] = \beta_0 + \beta_1 t + \sum_m \gamma_m [\text{month}_t = m]` on
    :math:`t < t_0`; forecast :math:`\hat\mu_t = \exp(x_t^\top\hat\beta)` for the post months.
    The counterfactual total :math:`Y^{(0)} = \sum_t y^{(0)}_t` is predicted by
    :math:`\hat M = \sum_t \hat\mu_t` with prediction variance

    .. math::

        \operatorname{Var}(Y^{(0)} - \hat M) \approx g^\top \hat\Sigma g
            + \sum_t v(\hat\mu_t), \qquad g = \sum_t \hat\mu_t x_t

    where :math:`v(\mu) = \phi\mu` (quasi-Poisson), :math:`\mu` (Poisson) or
    :math:`\mu + \alpha\mu^2` (NB2). The difference ``observed - M`` gets the normal interval
    :math:`\pm z_{1-\alpha/2}\sqrt{\cdot}`; the ratio uses the same variance on the log scale
    (:math:`\operatorname{Var}/\hat M^2`). Pointwise intervals in ``table`` use each month's
    own terms. Validity rests on the pre-period trend and seasonality continuing.

    Examples
    --------
    The series of :func:`its_segmented`: 165 crimes against about 304 expected.

    >>> import pandas as pd
    >>> months = pd.period_range("2018-01", periods=27, freq="M")
    >>> y = pd.Series([90.0, 110.0] * 12 + [50.0, 60.0, 55.0], index=months)
    >>> f = its_forecast(y, start="2020-01", seasonal=False)
    >>> f.observed, round(f.counterfactual, 1), round(f.ratio, 3), (f.n_pre, f.n_post)
    (165.0, 304.2, 0.542, (24, 3))
    >>> round(f.ratio_ci_low, 2), round(f.ratio_ci_high, 2)
    (0.47, 0.63)
    """
    a = _checks.alpha(alpha)
    _check_options(family, cov_type, hac_lags)
    y, idx, t0 = _series(counts, start)
    stop = len(y)
    if end is not None:
        try:
            last = pd.Period(end, freq="M")
        except (TypeError, ValueError) as err:
            raise EstimatorError(f"end must be a month, got {end!r}: {err}") from None
        if last < idx[t0] or last > idx[-1]:
            raise EstimatorError(f"end {last} must lie between {idx[t0]} and {idx[-1]}")
        stop = int(np.searchsorted(idx.asi8, last.ordinal)) + 1
    need = 14 if seasonal else 3
    if t0 < need:
        raise EstimatorError(f"{t0} pre-period months is too few: need at least {need}")
    offset = _offset(exposure, idx)
    x = _base_design(idx, seasonal)
    off_pre = None if offset is None else offset[:t0]
    res, dispersion = _fit(y[:t0], x[:t0], off_pre, family, cov_type, hac_lags)
    beta = np.asarray(res.params)
    cov = np.asarray(res.cov_params())
    crit = _checks.z_crit(a)

    x_post = x[t0:stop]
    off_post = 0.0 if offset is None else offset[t0:stop]
    mu = np.exp(x_post @ beta + off_post)
    if family == "negbin":
        noise = mu + dispersion * mu**2
    elif cov_type == "quasi":
        noise = dispersion * mu
    else:
        noise = mu.copy()
    g_each = mu[:, None] * x_post
    param_each = np.einsum("ij,jk,ik->i", g_each, cov, g_each)
    pred_each = np.sqrt(param_each + noise)
    g = g_each.sum(axis=0)
    total = float(mu.sum())
    pred_var = float(g @ cov @ g) + float(noise.sum())
    se_total = math.sqrt(pred_var)
    observed = float(y[t0:stop].sum())
    diff = observed - total
    se_log = se_total / total
    ratio = observed / total
    table = pd.DataFrame(
        {
            "period": idx[t0:stop].astype(str),
            "observed": y[t0:stop],
            "expected": mu,
            "pi_low": np.maximum(mu - crit * pred_each, 0.0),
            "pi_high": mu + crit * pred_each,
        }
    )
    return ITSForecast(
        estimate=diff,
        ci_low=diff - crit * se_total,
        ci_high=diff + crit * se_total,
        method=f"forecast from the pre-period {family} fit (Bernal et al. 2017)",
        observed=observed,
        counterfactual=total,
        difference=diff,
        difference_ci_low=diff - crit * se_total,
        difference_ci_high=diff + crit * se_total,
        ratio=ratio,
        ratio_ci_low=ratio * math.exp(-crit * se_log),
        ratio_ci_high=ratio * math.exp(crit * se_log),
        table=table,
        family=family,
        cov_type=cov_type,
        dispersion=dispersion,
        alpha=a,
        n_pre=t0,
        n_post=stop - t0,
    )
