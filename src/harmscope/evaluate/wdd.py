"""Weighted displacement difference (WDD) test and its harm-weighted combination.

References
----------
Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7(1), 11.
https://doi.org/10.1186/s40163-018-0085-5

Wheeler, A. P. (2020-11-19). Amending the WDD test to incorporate harm weights (blog);
(2021-01-09) The WDD test with different pre/post time periods; (2021-02-23) The WDD test with
different area sizes. Implemented in the R package ``ptools`` (``wdd``, ``wdd_harm``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harmscope.errors import EstimatorError
from harmscope.evaluate import _checks
from harmscope.evaluate.estimate import Estimate

Pair = tuple[float, float] | Sequence[float]

__all__ = ["WDDHarmResult", "WDDResult", "wdd", "wdd_harm"]


@dataclass(frozen=True, kw_only=True)
class WDDResult(Estimate):
    """Result of :func:`wdd`: an :class:`~harmscope.evaluate.estimate.Estimate` in crimes.

    All estimates are in crimes (or crimes per unit of time/area when weights are given);
    negative values are reductions attributable to the intervention.

    Attributes
    ----------
    estimate : float
        Total WDD: local plus displacement-area difference-in-differences.
    se : float
        Standard error of ``estimate`` (Poisson variance: the weighted sum of the counts).
    z : float
        ``estimate / se``.
    p : float
        Two-sided normal p-value of ``z``.
    ci_low, ci_high : float
        ``estimate -/+ z_{1-alpha/2} * se``.
    alpha : float
        Significance level used for the interval.
    local_estimate, local_se : float
        Treated-area part: ``dT - dCt``.
    displacement_estimate, displacement_se : float
        Displacement-area part: ``dD - dCd`` (0 when no displacement areas were given).
    unit, method, notes
        As in :class:`~harmscope.evaluate.estimate.Estimate` (``crimes``, the WDD).
    """

    ci_low: float
    ci_high: float
    p: float
    se: float
    z: float
    local_estimate: float
    local_se: float
    displacement_estimate: float
    displacement_se: float
    unit: str = "crimes"
    method: str = "WDD (Wheeler & Ratcliffe 2018)"


@dataclass(frozen=True, kw_only=True)
class WDDHarmResult(Estimate):
    """Result of :func:`wdd_harm`: a harm-weighted sum of per-crime-type WDD estimates.

    Attributes
    ----------
    estimate, se, z, p, ci_low, ci_high, alpha : float
        As in :class:`WDDResult`, in harm units (e.g. days of imprisonment).
    components : tuple of WDDResult
        The unweighted WDD of each crime type, in the order given.
    weights : tuple of float
        The harm weight of each crime type.
    unit, method, notes
        As in :class:`~harmscope.evaluate.estimate.Estimate` (``harm units``).
    """

    ci_low: float
    ci_high: float
    p: float
    se: float
    z: float
    components: tuple[WDDResult, ...]
    weights: tuple[float, ...]
    unit: str = "harm units"
    method: str = "harm-weighted WDD (Wheeler 2020)"


def _diff(
    pair: tuple[float, float], time_w: tuple[float, float], area_w: float
) -> tuple[float, float]:
    """Weighted post-minus-pre change of one area and its Poisson variance."""
    pre_w = time_w[0] * area_w
    post_w = time_w[1] * area_w
    est = pair[1] / post_w - pair[0] / pre_w
    var = pair[1] / post_w**2 + pair[0] / pre_w**2
    return est, var


def _interval(
    estimate: float, var: float, alpha: float
) -> tuple[float, float, float, float, float]:
    if var <= 0.0:
        raise EstimatorError(
            "every count is zero, so the WDD has no variance; there is nothing to test"
        )
    se = math.sqrt(var)
    z = estimate / se
    half = _checks.z_crit(alpha) * se
    return se, z, _checks.two_sided_p(z), estimate - half, estimate + half


def wdd(
    control: Pair,
    treated: Pair,
    disp_control: Pair | None = None,
    disp_treated: Pair | None = None,
    *,
    time_weights: Sequence[float] = (1, 1),
    area_weights: Sequence[float] = (1, 1, 1, 1),
    alpha: float = 0.05,
) -> WDDResult:
    r"""Weighted displacement difference test (Wheeler & Ratcliffe 2018).

    A difference-in-differences of crime counts before and after a place-based intervention,
    with an optional displacement (buffer) area and its own control, and a standard error
    from the Poisson assumption.

    Parameters
    ----------
    control, treated : (pre, post)
        Counts in the control area and the treated (target) area.
    disp_control, disp_treated : (pre, post), optional
        Counts in the control area of the displacement zone and in the displacement zone
        (the buffer around the treated area). Omit both for a test without displacement.
    time_weights : (pre, post), keyword-only
        Length of the pre and post periods (e.g. ``(3, 1)`` for three years before and one
        after); estimates are then per unit of time. Default ``(1, 1)``.
    area_weights : (control, treated, disp_control, disp_treated), keyword-only
        Size of each area in argument order (e.g. km², or population); estimates are then
        per unit area (density). Default ``(1, 1, 1, 1)``.
    alpha : float, keyword-only
        Significance level of the two-sided interval. Default 0.05.

    Returns
    -------
    WDDResult

    Notes
    -----
    With :math:`w_{a,s} = \text{time}_s \cdot \text{area}_a` and :math:`\Delta X =
    X_1 / w_{X,1} - X_0 / w_{X,0}` (post minus pre, 0 = pre, 1 = post):

    .. math::

        \mathrm{WDD} = \Delta T - \Delta C_t + \Delta D - \Delta C_d,
        \qquad
        \operatorname{Var}(\mathrm{WDD}) = \sum_{X \in \{T, C_t, D, C_d\}}
            \frac{X_0}{w_{X,0}^2} + \frac{X_1}{w_{X,1}^2}

    (each count is Poisson, so its variance is estimated by the count itself).
    :math:`z = \mathrm{WDD}/\mathrm{SE}`, two-sided normal p-value, interval
    :math:`\mathrm{WDD} \pm z_{1-\alpha/2}\,\mathrm{SE}`. Negative = crimes reduced.
    The normal approximation needs counts that are not tiny; for two small counts use
    :func:`harmscope.evaluate.etest`. Area weights change the identifying assumption to
    parallel trends in density rather than in counts (Wheeler 2021-02-23).

    Examples
    --------
    The worked example of Wheeler & Ratcliffe (2018):

    >>> r = wdd((308, 318), (207, 110), (150, 140), (178, 157))
    >>> round(r.estimate), round(r.se**2), round(r.z, 2)
    (-118, 1568, -2.98)
    """
    a = _checks.alpha(alpha)
    local, local_var, disp, disp_var = _parts(
        control, treated, disp_control, disp_treated, time_weights, area_weights
    )
    return _result(local, local_var, disp, disp_var, a)


def _parts(
    control: Pair,
    treated: Pair,
    disp_control: Pair | None,
    disp_treated: Pair | None,
    time_weights: Sequence[float],
    area_weights: Sequence[float],
) -> tuple[float, float, float, float]:
    """Validated local and displacement estimates with their variances."""
    tw = _checks.weights(time_weights, 2, "time_weights")
    aw = _checks.weights(area_weights, 4, "area_weights")
    c = _checks.pre_post(control, "control")
    t = _checks.pre_post(treated, "treated")
    if (disp_control is None) != (disp_treated is None):
        raise EstimatorError(
            "give both disp_control and disp_treated (the displacement zone and its control), "
            "or neither"
        )
    dc = (0.0, 0.0) if disp_control is None else _checks.pre_post(disp_control, "disp_control")
    dt = (0.0, 0.0) if disp_treated is None else _checks.pre_post(disp_treated, "disp_treated")
    tpair = (tw[0], tw[1])
    est_c, var_c = _diff(c, tpair, aw[0])
    est_t, var_t = _diff(t, tpair, aw[1])
    est_dc, var_dc = _diff(dc, tpair, aw[2])
    est_dt, var_dt = _diff(dt, tpair, aw[3])
    return est_t - est_c, var_t + var_c, est_dt - est_dc, var_dt + var_dc


def _result(local: float, local_var: float, disp: float, disp_var: float, a: float) -> WDDResult:
    total = local + disp
    se, z, p, lo, hi = _interval(total, local_var + disp_var, a)
    return WDDResult(
        estimate=total,
        se=se,
        z=z,
        p=p,
        ci_low=lo,
        ci_high=hi,
        alpha=a,
        local_estimate=local,
        local_se=math.sqrt(local_var),
        displacement_estimate=disp,
        displacement_se=math.sqrt(disp_var),
    )


def wdd_harm(
    control: Sequence[Pair],
    treated: Sequence[Pair],
    weights: Sequence[float],
    *,
    disp_control: Sequence[Pair] | None = None,
    disp_treated: Sequence[Pair] | None = None,
    time_weights: Sequence[float] = (1, 1),
    area_weights: Sequence[float] = (1, 1, 1, 1),
    alpha: float = 0.05,
) -> WDDHarmResult:
    r"""Harm-weighted WDD across crime types (Wheeler 2020, "harm weighted WDD").

    Runs :func:`wdd` for each crime type ``k`` and combines the results with harm weights
    :math:`h_k` (e.g. Cambridge Crime Harm Index days).

    Parameters
    ----------
    control, treated : sequence of (pre, post)
        One pair per crime type, in the same order as ``weights``.
    weights : sequence of float
        Harm weight of each crime type (> 0), in harm units per crime.
    disp_control, disp_treated : sequence of (pre, post), keyword-only, optional
        Displacement-zone control and displacement-zone counts per crime type.
    time_weights, area_weights, alpha
        As in :func:`wdd`, shared by every crime type.

    Returns
    -------
    WDDHarmResult

    Notes
    -----
    .. math::

        \mathrm{WDD}_h = \sum_k h_k\,\mathrm{WDD}_k, \qquad
        \operatorname{Var}(\mathrm{WDD}_h) = \sum_k h_k^2 \operatorname{Var}(\mathrm{WDD}_k)

    The crime types are treated as independent Poisson counts, so the variance of a harm
    total is the sum of squared weights times counts: a high-harm crime adds much more
    uncertainty than a low-harm one. Units: harm units (e.g. days) per period.

    Examples
    --------
    Five crime types with weights (3, 2, 5, 7, 10), from Wheeler (2020):

    >>> r = wdd_harm(
    ...     control=[(133, 91), (388, 305), (148, 97), (86, 64), (94, 67)],
    ...     treated=[(130, 74), (327, 202), (398, 190), (144, 92), (183, 96)],
    ...     weights=[3, 2, 5, 7, 10],
    ... )
    >>> round(r.estimate), round(r.se, 3)
    (-1721, 304.104)
    """
    a = _checks.alpha(alpha)
    n = len(weights)
    if n == 0:
        raise EstimatorError("weights must name at least one crime type")
    w = _checks.weights(weights, n, "weights")
    if len(control) != n or len(treated) != n:
        raise EstimatorError(
            f"control and treated need one (pre, post) pair per weight ({n}); "
            f"got {len(control)} and {len(treated)}"
        )
    if (disp_control is None) != (disp_treated is None):
        raise EstimatorError("give both disp_control and disp_treated, or neither")
    if disp_control is not None and disp_treated is not None:
        if len(disp_control) != n or len(disp_treated) != n:
            raise EstimatorError(
                f"disp_control and disp_treated need one (pre, post) pair per weight ({n})"
            )
        disp_pairs: list[tuple[Pair | None, Pair | None]] = list(
            zip(disp_control, disp_treated, strict=True)
        )
    else:
        disp_pairs = [(None, None)] * n

    components = []
    total = 0.0
    var = 0.0
    for k in range(n):
        try:
            parts = _parts(
                control[k],
                treated[k],
                disp_pairs[k][0],
                disp_pairs[k][1],
                time_weights,
                area_weights,
            )
        except EstimatorError as err:
            raise EstimatorError(f"crime type {k}: {err}") from None
        local, local_var, disp, disp_var = parts
        total += w[k] * (local + disp)
        var += w[k] ** 2 * (local_var + disp_var)
        if local_var + disp_var > 0.0:
            components.append(_result(local, local_var, disp, disp_var, a))
        else:
            # A crime type with no events anywhere: estimate 0, no information.
            components.append(
                WDDResult(
                    estimate=0.0,
                    se=0.0,
                    z=0.0,
                    p=1.0,
                    ci_low=0.0,
                    ci_high=0.0,
                    alpha=a,
                    local_estimate=0.0,
                    local_se=0.0,
                    displacement_estimate=0.0,
                    displacement_se=0.0,
                )
            )

    se, z, p, lo, hi = _interval(total, var, a)
    return WDDHarmResult(
        estimate=total,
        se=se,
        z=z,
        p=p,
        ci_low=lo,
        ci_high=hi,
        alpha=a,
        components=tuple(components),
        weights=w,
    )
