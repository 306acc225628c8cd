"""Difference-in-differences count models: Poisson / negative binomial GLMs with two-way
fixed effects, for crime counts and for harm-weighted outcomes.

References
----------
Wooldridge, J. M. (1999). Distribution-free estimation of some nonlinear panel data models.
*Journal of Econometrics*, 90(1), 77-97 (Poisson fixed effects are consistent under the
conditional mean assumption alone; robust variance).

Wooldridge, J. M. (2023). Simple approaches to nonlinear difference-in-differences with panel
data. *The Econometrics Journal*, 26(3), C31-C66 (Poisson two-way fixed effects DiD).

McCullagh, P., & Nelder, J. A. (1989). *Generalized Linear Models* (2nd ed.), ch. 9
(quasi-likelihood, Pearson dispersion).

Cameron, A. C., & Trivedi, P. K. (2013). *Regression Analysis of Count Data* (2nd ed.),
ch. 3 (NB2) and ch. 9 (panel fixed effects).

Wheeler, A. P. (2020-11-19). Amending the WDD test to incorporate harm weights (blog): the
variance of a harm total is the sum of squared weights times counts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from harmscope.errors import EstimatorError
from harmscope.evaluate import _checks
from harmscope.evaluate.estimate import Estimate

__all__ = ["DiDResult", "did_count", "did_harm"]

Family = Literal["poisson", "negbin"]
CountCov = Literal["model", "quasi", "robust", "cluster"]
HarmCov = Literal["compound", "quasi", "robust", "cluster"]

# IRLS convergence tolerance (relative deviance change); tighter than statsmodels' 1e-8 so
# that saturated tables reproduce their closed forms to rounding.
_TOL = 1e-12


@dataclass(frozen=True, kw_only=True)
class DiDResult(Estimate):
    """Result of :func:`did_count` and :func:`did_harm`.

    As an :class:`~harmscope.evaluate.estimate.Estimate`, ``estimate`` is the rate ratio
    ``irr`` with its interval ``ci_low, ci_high`` (no change = 1, ``null``).

    Attributes
    ----------
    irr : float
        Incidence rate ratio ``exp(beta)`` of the treated x post term: the factor by which the
        outcome in treated areas after the start differs from its counterfactual (parallel
        trends on the log scale). 0.8 = 20% fewer crimes (or 20% less harm).
    ci_low, ci_high : float
        ``exp(beta -/+ z_{1-alpha/2} se)``.
    log_irr, se : float
        ``beta`` and its standard error.
    z, p : float
        Wald statistic ``beta / se`` and its two-sided normal p-value.
    alpha : float
        Significance level of the interval.
    observed : float
        Outcome observed in treated areas after the start (crimes, or harm units).
    counterfactual : float
        Modelled outcome there without the intervention: fitted values divided by ``irr``.
    difference, difference_ci_low, difference_ci_high : float
        ``observed - counterfactual`` and its interval (from the IRR interval, holding
        ``observed`` fixed). Negative = crimes (harm) prevented.
    family, cov_type : str
        Model family (``poisson``, ``negbin``, or ``quasi-poisson`` for harm) and variance used.
    dispersion : float
        Pearson scale (``quasi``), NB2 ``alpha`` (``negbin``) or 1.
    n_obs, n_areas, n_periods : int
        Size of the panel.
    """

    irr: float
    ci_low: float
    ci_high: float
    log_irr: float
    se: float
    z: float
    p: float
    alpha: float
    observed: float
    counterfactual: float
    difference: float
    difference_ci_low: float
    difference_ci_high: float
    family: str
    cov_type: str
    dispersion: float
    n_obs: int
    n_areas: int
    n_periods: int
    unit: str = "rate ratio"
    method: str = "DiD GLM with area and period fixed effects"
    null: float = 1.0

    @property
    def percent_change(self) -> float:
        """``100 (irr - 1)``: percentage change against the counterfactual."""
        return 100.0 * (self.irr - 1.0)


@dataclass(frozen=True)
class _Panel:
    y: np.ndarray
    x: np.ndarray
    d_col: int
    d: np.ndarray
    offset: np.ndarray | None
    groups: np.ndarray
    n_areas: int
    n_periods: int
    frame: pd.DataFrame


def _require(data: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise EstimatorError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise EstimatorError(f"data has no column(s) {missing}; it has {list(data.columns)}")
    if data.empty:
        raise EstimatorError("data has no rows")


def _flag(series: pd.Series, name: str) -> np.ndarray:
    if series.isna().any():
        raise EstimatorError(f"column {name!r} has missing values")
    values = set(pd.unique(series))
    if not values <= {0, 1}:  # True == 1 and False == 0
        raise EstimatorError(f"column {name!r} must hold 0/1 or booleans, got {sorted(values)}")
    return series.astype(bool).to_numpy()


def _constant_within(flag: np.ndarray, groups: pd.Series) -> bool:
    codes = pd.factorize(groups)[0]
    n = codes.max() + 1
    ones = np.bincount(codes, weights=flag.astype(float), minlength=n)
    sizes = np.bincount(codes, minlength=n)
    return bool(np.all((ones == 0) | (ones == sizes)))


def _panel(
    frame: pd.DataFrame,
    *,
    outcome: str,
    area: str,
    period: str,
    treated: str,
    post: str,
    exposure: str | None,
) -> _Panel:
    """Design matrix: intercept, area dummies, period dummies, then treated x post.

    Areas and periods whose outcome is 0 throughout are dropped first: their fixed effect
    is -inf and they carry no information about the other parameters.
    """
    frame = frame.reset_index(drop=True)
    y = frame[outcome].to_numpy(dtype=float)
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise EstimatorError(f"column {outcome!r} must hold finite values >= 0")
    if frame[[area, period]].isna().any().any():
        raise EstimatorError(f"columns {area!r} and {period!r} must not have missing values")
    if frame.duplicated([area, period]).any():
        raise EstimatorError(
            f"more than one row for the same ({area}, {period}); aggregate the panel first"
        )
    tr = _flag(frame[treated], treated)
    po = _flag(frame[post], post)
    area_codes = pd.factorize(frame[area], sort=True)[0]
    period_codes = pd.factorize(frame[period], sort=True)[0]
    keep = (np.bincount(area_codes, weights=y)[area_codes] > 0) & (
        np.bincount(period_codes, weights=y)[period_codes] > 0
    )
    if not keep.all():
        frame = frame[keep].reset_index(drop=True)
        y, tr, po = y[keep], tr[keep], po[keep]
    if not _constant_within(tr, frame[area]):
        raise EstimatorError(f"{treated!r} must be constant within each {area!r}")
    if not _constant_within(po, frame[period]):
        raise EstimatorError(f"{post!r} must be constant within each {period!r}")
    if tr.all() or not tr.any():
        raise EstimatorError("the panel needs treated and control areas, each with events")
    if po.all() or not po.any():
        raise EstimatorError("the panel needs pre and post periods, each with events")
    offset = None
    if exposure is not None:
        ex = frame[exposure].to_numpy(dtype=float)
        if not np.all(np.isfinite(ex)) or np.any(ex <= 0):
            raise EstimatorError(f"column {exposure!r} must hold finite values > 0")
        offset = np.log(ex)

    area_codes, area_levels = pd.factorize(frame[area], sort=True)
    period_codes, period_levels = pd.factorize(frame[period], sort=True)
    n = len(frame)
    na, nt = len(area_levels), len(period_levels)
    x = np.zeros((n, 1 + (na - 1) + (nt - 1) + 1))
    x[:, 0] = 1.0
    rows = np.arange(n)
    a_mask = area_codes > 0
    x[rows[a_mask], area_codes[a_mask]] = 1.0
    p_mask = period_codes > 0
    x[rows[p_mask], na - 1 + period_codes[p_mask]] = 1.0
    d = tr & po
    x[:, -1] = d.astype(float)
    return _Panel(
        y=y,
        x=x,
        d_col=x.shape[1] - 1,
        d=d,
        offset=offset,
        groups=area_codes,
        n_areas=na,
        n_periods=nt,
        frame=frame,
    )


def _finish(
    panel: _Panel,
    beta: float,
    se: float,
    fitted: np.ndarray,
    a: float,
    family: str,
    cov_type: str,
    dispersion: float,
) -> DiDResult:
    if not (math.isfinite(beta) and math.isfinite(se)) or se <= 0:
        raise EstimatorError(
            "the treated x post effect is not estimable (a group has no events, or the "
            "variance is degenerate); check the panel or choose another cov_type"
        )
    crit = _checks.z_crit(a)
    if float(panel.y[panel.d].sum()) == 0 or abs(beta) + crit * se > 700:
        # The fit drives beta to -inf: the rate ratio is 0 with an unbounded interval.
        raise EstimatorError(
            "the treated x post effect is not estimable: the treated areas have no events "
            "after the start (the rate ratio would be 0 with an unbounded interval)"
        )
    irr = math.exp(beta)
    lo, hi = math.exp(beta - crit * se), math.exp(beta + crit * se)
    z = beta / se
    observed = float(panel.y[panel.d].sum())
    fitted_d = float(fitted[panel.d].sum())
    counterfactual = fitted_d / irr
    return DiDResult(
        estimate=irr,
        method=f"DiD {family} GLM ({cov_type} variance)",
        irr=irr,
        ci_low=lo,
        ci_high=hi,
        log_irr=beta,
        se=se,
        z=z,
        p=float(2.0 * norm.sf(abs(z))),
        alpha=a,
        observed=observed,
        counterfactual=counterfactual,
        difference=observed - counterfactual,
        difference_ci_low=observed - fitted_d / lo,
        difference_ci_high=observed - fitted_d / hi,
        family=family,
        cov_type=cov_type,
        dispersion=dispersion,
        n_obs=len(panel.y),
        n_areas=panel.n_areas,
        n_periods=panel.n_periods,
    )


def _residual_df(panel: _Panel, cov_type: str) -> None:
    if cov_type == "quasi" and len(panel.y) - panel.x.shape[1] <= 0:
        raise EstimatorError(
            "cov_type='quasi' needs residual degrees of freedom to estimate the dispersion; "
            "a 2 x 2 (area x period) table has none: use cov_type='model' (or 'compound')"
        )
    if cov_type == "cluster" and panel.n_areas < 2:
        raise EstimatorError("cov_type='cluster' needs more than one area")


def _fit(model: Any, panel: _Panel, cov_type: str) -> Any:
    """Fit a statsmodels GLM with the requested variance.

    A saturated model (a 2 x 2 table) has no residual degrees of freedom and fits every cell
    exactly; statsmodels warns about both, which is expected there and silenced.
    """
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        if len(panel.y) <= panel.x.shape[1]:
            warnings.simplefilter("ignore", PerfectSeparationWarning)
        if cov_type == "quasi":
            res = model.fit(scale="X2", tol=_TOL)
        elif cov_type == "robust":
            res = model.fit(cov_type="HC0", tol=_TOL)
        elif cov_type == "cluster":
            res = model.fit(cov_type="cluster", cov_kwds={"groups": panel.groups}, tol=_TOL)
        else:
            res = model.fit(tol=_TOL)
    return _checks.converged(res, f"DiD {type(model.family).__name__} GLM")


def _finish_fit(
    panel: _Panel, res: Any, a: float, family: str, cov_type: str, dispersion: float
) -> DiDResult:
    """:func:`_finish` with the estimate, its standard error and the fit taken from ``res``."""
    j = panel.d_col
    return _finish(
        panel,
        float(np.asarray(res.params)[j]),
        float(np.asarray(res.bse)[j]),
        np.asarray(res.fittedvalues),
        a,
        family,
        cov_type,
        dispersion,
    )


def _glm_poisson(panel: _Panel, y: np.ndarray, cov_type: str) -> tuple[Any, float]:
    model = sm.GLM(y, panel.x, family=sm.families.Poisson(), offset=panel.offset)
    res = _fit(model, panel, cov_type)
    return res, float(res.scale) if cov_type == "quasi" else 1.0


def _glm_negbin(panel: _Panel, cov_type: str) -> tuple[Any, float]:
    """NB2 GLM with ``alpha`` by profile maximum likelihood (bounded search on log alpha).

    Given alpha the GLM is fitted by IRLS, which is reliable with many fixed-effect dummies;
    the information matrix of NB2 is block-diagonal in (beta, alpha), so the GLM variance of
    beta at the estimated alpha is the usual maximum-likelihood variance.
    """

    start = _fit(
        sm.GLM(panel.y, panel.x, family=sm.families.Poisson(), offset=panel.offset),
        panel,
        "model",
    ).params

    def negll(log_alpha: float) -> float:
        fam = sm.families.NegativeBinomial(alpha=math.exp(log_alpha))
        # The search visits extreme alphas, where statsmodels warns; only the optimum counts.
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            model = sm.GLM(panel.y, panel.x, family=fam, offset=panel.offset)
            res = model.fit(start_params=start)
        return -float(res.llf)

    opt = minimize_scalar(negll, bounds=(math.log(1e-8), math.log(1e3)), method="bounded")
    nb_alpha = math.exp(_checks.search_converged(opt, "negative binomial dispersion search (DiD)"))
    fam = sm.families.NegativeBinomial(alpha=nb_alpha)
    model = sm.GLM(panel.y, panel.x, family=fam, offset=panel.offset)
    return _fit(model, panel, cov_type), nb_alpha


def did_count(
    data: pd.DataFrame,
    *,
    outcome: str = "count",
    area: str = "area",
    period: str = "period",
    treated: str = "treated",
    post: str = "post",
    exposure: str | None = None,
    family: Family = "poisson",
    cov_type: CountCov = "quasi",
    alpha: float = 0.05,
) -> DiDResult:
    r"""Difference-in-differences for crime counts: a Poisson or negative binomial GLM.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per area and period (the panel), e.g. monthly counts per target, buffer and
        control area. Columns named by the options below.
    outcome : str
        Column of counts (>= 0).
    area, period : str
        Columns identifying the area and the period (any sortable labels).
    treated : str
        0/1 column, constant within an area: 1 for areas that received the intervention.
    post : str
        0/1 column, constant within a period: 1 for periods after the start.
    exposure : str, optional
        Column of exposures (> 0; e.g. population, km² or days in the period), entered as
        ``log(exposure)`` offset so the IRR compares rates.
    family : {"poisson", "negbin"}
        Poisson GLM, or NB2 negative binomial GLM (variance ``mu + alpha mu^2``, ``alpha`` by
        profile maximum likelihood).
    cov_type : {"quasi", "model", "robust", "cluster"}
        Variance of the estimate. ``"quasi"`` (default, Poisson only): model variance scaled
        by the Pearson dispersion ``X^2/(n - p)`` (quasi-Poisson), because recorded crime is
        usually overdispersed. ``"model"``: the likelihood's own variance (for Poisson on a
        2 x 2 table this is the delta-method twin of the WDD variance). ``"robust"``:
        heteroscedasticity-robust sandwich (HC0). ``"cluster"``: sandwich clustered by area,
        which also allows serial correlation; use it only with many areas (>= 20 or so).
    alpha : float
        Significance level of the intervals. Default 0.05.

    Returns
    -------
    DiDResult

    Notes
    -----
    With area effects :math:`a_i`, period effects :math:`g_t` and
    :math:`D_{it} = \text{treated}_i \cdot \text{post}_t`:

    .. math::

        \log E[y_{it}] = \log(\text{exposure}_{it}) + a_i + g_t + \beta D_{it},
        \qquad \mathrm{IRR} = e^{\beta}

    Identification: parallel trends on the log (multiplicative) scale; no anticipation; no
    spill-over into controls (put the buffer in its own model, or drop it from the controls).
    The Poisson fixed-effects estimator is consistent whenever the mean is right, whatever
    the variance (Wooldridge 1999); the variance option only changes the interval. Areas
    and periods with no events at all are dropped (they carry no information), so
    ``n_areas`` and ``n_periods`` count those used. On a 2 x 2
    table :math:`\hat\beta = \log\frac{T_1/T_0}{C_1/C_0}` with model variance
    :math:`1/T_0 + 1/T_1 + 1/C_0 + 1/C_1`.

    Examples
    --------
    A 2 x 2 table: the control rose from 100 to 120 crimes, the target fell from 80 to 60.

    >>> import pandas as pd
    >>> panel = pd.DataFrame({"area": ["c", "c", "t", "t"], "period": [0, 1, 0, 1],
    ...                       "treated": [0, 0, 1, 1], "post": [0, 1, 0, 1],
    ...                       "count": [100, 120, 80, 60]})
    >>> r = did_count(panel, cov_type="model")
    >>> round(r.irr, 4), round(r.se**2, 6), round(1/100 + 1/120 + 1/80 + 1/60, 6)
    (0.625, 0.0475, 0.0475)
    >>> round(r.counterfactual, 1), round(r.difference, 1)  # 80 x 120/100, then 60 - 96
    (96.0, -36.0)
    """
    a = _checks.alpha(alpha)
    if family not in ("poisson", "negbin"):
        raise EstimatorError(f"family must be 'poisson' or 'negbin', got {family!r}")
    if cov_type not in ("quasi", "model", "robust", "cluster"):
        raise EstimatorError(
            f"cov_type must be 'quasi', 'model', 'robust' or 'cluster', got {cov_type!r}"
        )
    if family == "negbin" and cov_type == "quasi":
        raise EstimatorError(
            "the negative binomial models overdispersion itself: use cov_type='model', "
            "'robust' or 'cluster' with family='negbin'"
        )
    cols = [outcome, area, period, treated, post] + ([exposure] if exposure else [])
    _require(data, cols)
    panel = _panel(
        data,
        outcome=outcome,
        area=area,
        period=period,
        treated=treated,
        post=post,
        exposure=exposure,
    )
    _residual_df(panel, cov_type)

    if family == "poisson":
        res, dispersion = _glm_poisson(panel, panel.y, cov_type)
        return _finish_fit(panel, res, a, "poisson", cov_type, dispersion)

    res_nb, nb_alpha = _glm_negbin(panel, cov_type)
    return _finish_fit(panel, res_nb, a, "negbin", cov_type, nb_alpha)


def did_harm(
    data: pd.DataFrame,
    *,
    weights: Mapping[str, float],
    crime_type: str = "crime_type",
    count: str = "count",
    area: str = "area",
    period: str = "period",
    treated: str = "treated",
    post: str = "post",
    exposure: str | None = None,
    cov_type: HarmCov = "compound",
    alpha: float = 0.05,
) -> DiDResult:
    r"""Difference-in-differences on harm: weighted crime counts with a weight-aware variance.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per area, period and crime type with its count. ``treated``,
        ``post`` (and ``exposure``) as in :func:`did_count`; they must agree across the crime
        types of an area-period.
    weights : mapping of str to float
        Harm weight of each crime type (> 0; e.g. CCHI days). Every crime type in ``data``
        must have a weight; activity types (drug possession found by police) should be left
        out of ``data`` rather than weighted.
    crime_type, count, area, period, treated, post, exposure : str
        Column names.
    cov_type : {"compound", "quasi", "robust", "cluster"}
        Variance of the estimate. ``"compound"`` (default): the sandwich
        :math:`B^{-1} M B^{-1}` with :math:`B = \sum x x^\top \hat\mu` and
        :math:`M = \sum x x^\top \hat V`, where :math:`\hat V_{it} = \sum_k w_k^2 y_{itk}`
        is the variance of a harm total made of independent Poisson counts (the WDD-harm
        variance of Wheeler 2020). ``"quasi"``: Pearson-scaled quasi-Poisson, valid when the
        crime mix is stable so that :math:`\operatorname{Var}(H) \approx \phi E[H]`.
        ``"robust"``: HC0 sandwich. ``"cluster"``: sandwich clustered by area (many areas).
    alpha : float
        Significance level. Default 0.05.

    Returns
    -------
    DiDResult
        ``observed``, ``counterfactual`` and ``difference`` are in harm units
        (e.g. days of imprisonment); ``family`` is ``"quasi-poisson"``.

    Notes
    -----
    The outcome is harm :math:`H_{it} = \sum_k w_k y_{itk}` and the mean model is the Poisson
    one of :func:`did_count`, fitted by quasi-likelihood (the Poisson score equations do not
    need integer outcomes). A plain Poisson variance for :math:`H` would be wrong by a factor
    of roughly the mean weight: one robbery (365 days) moves harm by 365, so
    :math:`\operatorname{Var}(w y) = w^2 \operatorname{Var}(y) = w^2 \mu`, not :math:`w\mu`.
    The ``"compound"`` variance uses exactly this; on a 2 x 2 table its delta-method
    variance of :math:`\log \mathrm{IRR}` is :math:`\sum_{cells} \hat V / H^2`. Like the WDD
    it assumes Poisson counts; with overdispersion prefer ``"quasi"`` or ``"cluster"``.

    Examples
    --------
    Thefts (2 days each) and robberies (365 days) in a control and a target area:

    >>> import pandas as pd
    >>> long = pd.DataFrame({
    ...     "area": ["c"] * 4 + ["t"] * 4, "period": [0, 1] * 4,
    ...     "crime_type": ["theft", "theft", "robbery", "robbery"] * 2,
    ...     "treated": [0] * 4 + [1] * 4, "post": [0, 1] * 4,
    ...     "count": [300, 330, 20, 22, 200, 150, 10, 5]})
    >>> h = did_harm(long, weights={"theft": 2, "robbery": 365})
    >>> h.observed, round(h.counterfactual), round(h.irr, 4)  # 150 x 2 + 5 x 365
    (2125.0, 4455, 0.477)
    >>> hc = (150 * 2 + 5 * 365) / (200 * 2 + 10 * 365)
    >>> hc_control = (330 * 2 + 22 * 365) / (300 * 2 + 20 * 365)
    >>> round(hc / hc_control, 4)
    0.477
    """
    a = _checks.alpha(alpha)
    if cov_type not in ("compound", "quasi", "robust", "cluster"):
        raise EstimatorError(
            f"cov_type must be 'compound', 'quasi', 'robust' or 'cluster', got {cov_type!r}"
        )
    cols = [crime_type, count, area, period, treated, post] + ([exposure] if exposure else [])
    _require(data, cols)
    if not isinstance(weights, Mapping) or not weights:
        raise EstimatorError("weights must map each crime type to a harm weight")
    w = {str(k): _checks.positive(v, f"weights[{k!r}]") for k, v in weights.items()}
    types = data[crime_type].astype(str)
    unknown = sorted(set(types) - set(w))
    if unknown:
        raise EstimatorError(f"no harm weight for crime type(s) {unknown}")
    y = data[count].to_numpy(dtype=float)
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise EstimatorError(f"column {count!r} must hold finite counts >= 0")
    wk = types.map(w).to_numpy(dtype=float)

    attrs = [treated, post] + ([exposure] if exposure else [])
    cells = pd.MultiIndex.from_arrays([data[area].to_numpy(), data[period].to_numpy()])
    codes, uniq = pd.factorize(cells)
    if np.any(codes < 0):
        raise EstimatorError(f"columns {area!r} and {period!r} must not have missing values")
    first = np.unique(codes, return_index=True)[1]
    agg = pd.DataFrame(
        {
            area: uniq.get_level_values(0),
            period: uniq.get_level_values(1),
            "_harm": np.bincount(codes, weights=wk * y),
            "_var": np.bincount(codes, weights=wk**2 * y),
        }
    )
    for col in attrs:
        values = data[col].to_numpy()
        if not np.array_equal(values, values[first][codes]):
            raise EstimatorError(
                f"{attrs} must be the same for every crime type of an ({area}, {period})"
            )
        agg[col] = values[first]
    panel = _panel(
        agg,
        outcome="_harm",
        area=area,
        period=period,
        treated=treated,
        post=post,
        exposure=exposure,
    )
    _residual_df(panel, cov_type)

    if cov_type != "compound":
        res, dispersion = _glm_poisson(panel, panel.y, cov_type)
        return _finish_fit(panel, res, a, "quasi-poisson", cov_type, dispersion)

    res, _ = _glm_poisson(panel, panel.y, "model")
    mu = np.asarray(res.fittedvalues)
    v_hat = panel.frame["_var"].to_numpy(dtype=float)
    bread = panel.x.T @ (panel.x * mu[:, None])
    meat = panel.x.T @ (panel.x * v_hat[:, None])
    try:
        inv_bread = np.linalg.inv(bread)
    except np.linalg.LinAlgError:
        raise EstimatorError(
            "the harm model is not estimable (an area or period has no harm at all)"
        ) from None
    cov = inv_bread @ meat @ inv_bread
    j = panel.d_col
    return _finish(
        panel,
        float(np.asarray(res.params)[j]),
        math.sqrt(max(float(cov[j, j]), 0.0)),
        mu,
        a,
        "quasi-poisson",
        "compound",
        1.0,
    )
