"""Emerging hot spot analysis: Gi* per period, a Mann–Kendall trend per location, Esri's categories.

Method
------
1. Gi* z-scores for every location in every period (:func:`harmscope.places.gi_star.gi_star_test`,
   binary distance band, self included); p-values are Benjamini–Hochberg adjusted *within each
   period*. A bin (location × period) is a **hot bin** when its FDR-adjusted p is at most
   ``alpha`` and z > 0, a **cold bin** when p is at most ``alpha`` and z < 0. The default
   ``alpha = 0.10`` counts every bin Esri marks with a non-zero ``Gi_Bin`` (90 % confidence or
   more) as significant.
2. The Mann–Kendall test (Mann 1945; Kendall 1975) on each location's series of Gi* z-scores,
   with the tie correction of the variance and a continuity correction; a trend is significant
   when its two-sided p is at most ``alpha_trend`` (default 0.10). An upward trend of z
   intensifies a hot spot and diminishes a cold spot.
3. Each location gets the first category whose rule holds, in the order below, where
   :math:`T` is the number of periods, :math:`H` the number of hot bins, "final" the last
   period and "≥ 90 %" means :math:`H \\ge 0.9\\,T`:

   ======================  =================================================================
   category                rule (hot; the cold mirror swaps hot/cold bins and trend signs)
   ======================  =================================================================
   ``new_hot_spot``        final bin hot, and no earlier bin hot (:math:`H = 1`)
   ``consecutive_hot_spot`` the final :math:`r \\ge 2` bins hot, no hot bin before that run,
                           and :math:`H < 0.9\\,T`
   ``intensifying_hot_spot`` final bin hot, :math:`H \\ge 0.9\\,T`, significant upward trend
   ``persistent_hot_spot`` final bin hot, :math:`H \\ge 0.9\\,T`, no significant trend
   ``diminishing_hot_spot`` final bin hot, :math:`H \\ge 0.9\\,T`, significant downward trend
   ``sporadic_hot_spot``   final bin hot, :math:`H < 0.9\\,T`, hot on and off before, never a
                           cold bin
   ``oscillating_hot_spot`` final bin hot, :math:`H < 0.9\\,T`, at least one earlier cold bin
   ``historical_hot_spot`` final bin neither hot nor cold, :math:`H \\ge 0.9\\,T`
   ``no_pattern``          none of the above, hot or cold
   ======================  =================================================================

Which rules, and where they differ from others
----------------------------------------------
These follow the wording of Esri's *How Emerging Hot Spot Analysis works* (ArcGIS Pro), read
literally, with two tie-breaks Esri leaves implicit: the categories are checked in Esri's order
(new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical),
and a location significant in the final period always gets a category of that sign. The R
package sfdep (``emerging_hotspot_analysis``) implements the same names differently:

- **sporadic**: Esri requires a hot final bin ("a statistically significant hot spot for the
  final time-step interval with a history of also being an on-again and off-again hot spot");
  sfdep does not, so a place hot in a few early periods and quiet since is "sporadic" there and
  ``no_pattern`` here.
- **historical**: Esri's rule is "the most recent time period is not hot" with at least 90 % hot
  bins; sfdep requires the final z to be negative, so a place still mildly (not significantly)
  positive in the last period is "persistent" in sfdep and ``historical_hot_spot`` here.
- **intensifying**: sfdep counts significant bins of either sign towards the 90 % and tests
  the trend at its Gi* threshold (0.01); here only hot bins count and the trend has its own
  ``alpha_trend``.
- **new**: sfdep requires no earlier significant bin of either sign; Esri (and we) require no
  earlier *hot* bin, so a former cold spot that has just turned hot is ``new_hot_spot`` here and
  "oscillating" in sfdep.
- **persistent**: Esri's sentence does not mention the final period; we require a hot final bin
  so that persistent and historical do not overlap (a place hot for 90 % of periods but not in
  the last is ``historical_hot_spot``).
- A place hot for ≥ 90 % of periods whose final bin is *cold* gets a cold category (e.g.
  ``new_cold_spot`` for its first cold bin): the final state wins over historical.

Both sfdep and Esri also offer a space-time Gi* whose neighbourhood spans earlier periods; this
module uses purely spatial neighbourhoods per period, as DESIGN §6 specifies.

References
----------
.. [1] Esri. How Emerging Hot Spot Analysis works. ArcGIS Pro tool reference, Space Time
   Pattern Mining toolbox.
.. [2] Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica*, 13(3), 245–259.
.. [3] Kendall, M. G. (1975). *Rank Correlation Methods* (4th ed.). Griffin.
.. [4] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
   issues and an application. *Geographical Analysis*, 27(4), 286–306.
.. [5] Parry, J. (2022). sfdep: Spatial dependence for simple features. R package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from harmscope.places.gi_star import GiStarResult, Method, gi_star_test, two_sided_p

__all__ = [
    "EMERGING_CATEGORIES",
    "EmergingHotSpots",
    "MannKendall",
    "classify_emerging",
    "emerging_hot_spots",
    "mann_kendall",
]

EMERGING_CATEGORIES: tuple[str, ...] = (
    "new_hot_spot",
    "consecutive_hot_spot",
    "intensifying_hot_spot",
    "persistent_hot_spot",
    "diminishing_hot_spot",
    "sporadic_hot_spot",
    "oscillating_hot_spot",
    "historical_hot_spot",
    "new_cold_spot",
    "consecutive_cold_spot",
    "intensifying_cold_spot",
    "persistent_cold_spot",
    "diminishing_cold_spot",
    "sporadic_cold_spot",
    "oscillating_cold_spot",
    "historical_cold_spot",
    "no_pattern",
)
"""Every label :func:`classify_emerging` can return, hot rules first, in order of precedence."""


@dataclass(frozen=True)
class MannKendall:
    """Mann–Kendall trend test results, one entry per series.

    Attributes
    ----------
    s : numpy.ndarray of int64
        :math:`S = \\sum_{i<j} \\operatorname{sgn}(x_j - x_i)`.
    var_s : numpy.ndarray of float64
        Variance of :math:`S` under no trend, corrected for ties:
        :math:`[T(T-1)(2T+5) - \\sum_g t_g(t_g-1)(2t_g+5)]/18`.
    z : numpy.ndarray of float64
        :math:`(S - \\operatorname{sgn} S)/\\sqrt{\\operatorname{var} S}` (continuity
        corrected); 0 when the variance is 0.
    p : numpy.ndarray of float64
        Two-sided p-value, :math:`2\\,(1 - \\Phi(|z|))`.
    tau : numpy.ndarray of float64
        Kendall's :math:`\\tau_b` between time and the series.
    """

    s: NDArray[np.int64]
    var_s: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    tau: NDArray[np.float64]


def mann_kendall(series: ArrayLike, *, axis: int = 0) -> MannKendall:
    """Mann–Kendall monotonic trend test, vectorised over many series.

    Parameters
    ----------
    series : array_like
        Observations in time order along ``axis`` (e.g. shape ``(periods, locations)``).
        Equal values are ties and reduce the variance of :math:`S`.
    axis : int, default 0
        Time axis.

    Returns
    -------
    MannKendall
        ``s``, ``var_s``, ``z``, ``p`` and ``tau`` with the time axis removed.

    Notes
    -----
    Cost is :math:`O(T^2)` array operations over all series at once (one pass per lag), with no
    Python loop over series; tie groups are counted in the same pass.

    References
    ----------
    Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica*, 13(3), 245–259.
    Kendall, M. G. (1975). *Rank Correlation Methods* (4th ed.). Griffin.

    Examples
    --------
    >>> r = mann_kendall([1.0, 2.0, 2.0, 3.0, 5.0])
    >>> int(r.s), round(float(r.var_s), 4), round(float(r.z), 4), round(float(r.tau), 4)
    (9, 15.6667, 2.0212, 0.9487)
    """
    x = np.moveaxis(np.asarray(series, dtype=np.float64), axis, 0)
    if not np.all(np.isfinite(x)):
        raise ValueError("series holds NaN or infinite values")
    t = x.shape[0]
    s = np.zeros(x.shape[1:], dtype=np.int64)
    ties = np.ones(x.shape, dtype=np.int64)  # size of each observation's tie group
    for lag in range(1, t):
        diff = x[lag:] - x[:-lag]
        s += np.sign(diff).astype(np.int64).sum(axis=0)
        equal = diff == 0
        ties[lag:] += equal
        ties[:-lag] += equal
    tie_term = ((ties - 1) * (2 * ties + 5)).sum(axis=0)
    var_s = (t * (t - 1) * (2 * t + 5) - tie_term) / 18.0
    z = np.zeros(s.shape, dtype=np.float64)
    np.divide(s - np.sign(s), np.sqrt(var_s), out=z, where=var_s > 0)
    p = two_sided_p(z)  # 2 * scipy.stats.norm.sf(|z|), bit for bit
    n0 = t * (t - 1) / 2.0
    n1 = (ties - 1).sum(axis=0) / 2.0
    tau_den = np.sqrt(n0 * (n0 - n1))
    tau = np.zeros(s.shape, dtype=np.float64)
    np.divide(s, tau_den, out=tau, where=tau_den > 0)
    return MannKendall(s=s, var_s=np.asarray(var_s, dtype=np.float64), z=z, p=p, tau=tau)


def _trailing_run(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Length of the run of True at the end of each column of a (T, n) boolean array."""
    t = flags.shape[0]
    rev_false = ~flags[::-1]
    first_false = np.argmax(rev_false, axis=0)
    return np.where(rev_false.any(axis=0), first_false, t).astype(np.int64)


def classify_emerging(
    z: ArrayLike,
    p_fdr: ArrayLike,
    *,
    alpha: float = 0.10,
    alpha_trend: float = 0.10,
    trend: MannKendall | None = None,
) -> NDArray[np.str_]:
    """Esri emerging hot spot category of every location from its series of Gi* bins.

    Parameters
    ----------
    z : array_like, shape (periods, n)
        Gi* z-score of each location in each period (time order along axis 0).
    p_fdr : array_like, shape (periods, n)
        FDR-adjusted p-values of the same bins.
    alpha : float, default 0.10
        A bin is significant when ``p_fdr <= alpha``.
    alpha_trend : float, default 0.10
        A Mann–Kendall trend is significant when its p is at most this.
    trend : MannKendall, optional
        Mann–Kendall results for ``z`` if already computed.

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        One of :data:`EMERGING_CATEGORIES` per location; the rules are in the module docstring.

    Examples
    --------
    A place hot only in the last of six months, and one hot in all six months with a rising z:

    >>> z = [[0.1, 3.0], [0.2, 3.5], [0.1, 4.0], [0.3, 4.5], [0.2, 5.0], [4.0, 5.5]]
    >>> p = [[0.9, 0.01], [0.8, 0.01], [0.9, 0.01], [0.7, 0.01], [0.8, 0.01], [0.001, 0.001]]
    >>> classify_emerging(z, p).tolist()
    ['new_hot_spot', 'intensifying_hot_spot']
    """
    za = np.asarray(z, dtype=np.float64)
    pa = np.asarray(p_fdr, dtype=np.float64)
    if za.ndim != 2 or za.shape != pa.shape:
        raise ValueError(
            f"z and p_fdr must both have shape (periods, n); got {za.shape}, {pa.shape}"
        )
    if not (0 < alpha < 1 and 0 < alpha_trend < 1):
        raise ValueError("alpha and alpha_trend must lie strictly between 0 and 1")
    t = za.shape[0]
    mk = mann_kendall(za, axis=0) if trend is None else trend
    up = (mk.p <= alpha_trend) & (mk.s > 0)
    down = (mk.p <= alpha_trend) & (mk.s < 0)
    significant = pa <= alpha
    hot = significant & (za > 0)
    cold = significant & (za < 0)

    def rules(
        a: NDArray[np.bool_],
        b: NDArray[np.bool_],
        rising: NDArray[np.bool_],
        falling: NDArray[np.bool_],
    ) -> list[NDArray[np.bool_]]:
        """Rules for spots of kind ``a`` (hot or cold); ``b`` is the opposite kind."""
        n_a, n_b = a.sum(axis=0), b.sum(axis=0)
        final_a, final_b = a[-1], b[-1]
        mostly = 10 * n_a >= 9 * t  # at least 90 % of periods, in exact integer arithmetic
        run = _trailing_run(a)
        return [
            final_a & (n_a == 1),
            final_a & (run >= 2) & (n_a == run) & ~mostly,
            final_a & mostly & rising,
            final_a & mostly & ~rising & ~falling,
            final_a & mostly & falling,
            final_a & ~mostly & (n_b == 0),
            final_a & ~mostly & (n_b > 0),
            ~final_a & ~final_b & mostly,
        ]

    conditions = rules(hot, cold, up, down) + rules(cold, hot, down, up)
    labels = np.array(EMERGING_CATEGORIES)
    choice = np.select(conditions, list(range(len(conditions))), default=len(conditions))
    return labels[choice]


@dataclass(frozen=True)
class EmergingHotSpots:
    """Result of :func:`emerging_hot_spots`, aligned with the input locations.

    Attributes
    ----------
    category : numpy.ndarray of str, shape (n,)
        Emerging hot spot category (:data:`EMERGING_CATEGORIES`).
    trend : MannKendall
        Mann–Kendall test of each location's Gi* z series.
    gi : GiStarResult
        Gi* per period: arrays of shape ``(periods, n)``.
    hot_periods, cold_periods : numpy.ndarray of int64, shape (n,)
        Number of periods in which each location was a significant hot / cold spot.
    """

    category: NDArray[np.str_]
    trend: MannKendall
    gi: GiStarResult
    hot_periods: NDArray[np.int64]
    cold_periods: NDArray[np.int64]


def emerging_hot_spots(
    values: ArrayLike,
    xy: ArrayLike,
    distance: float,
    *,
    alpha: float = 0.10,
    alpha_trend: float = 0.10,
    method: Method = "auto",
) -> EmergingHotSpots:
    """Emerging hot spot analysis of values per period on fixed locations.

    Parameters
    ----------
    values : array_like, shape (periods, n)
        Value of every study-area location in every period, time order along axis 0, zeros
        included (e.g. monthly harm in days per 250 m cell).
    xy : array_like, shape (n, 2)
        Location coordinates (metres for grid cells).
    distance : float
        Inclusive distance band of the Gi* neighbourhood, same unit as ``xy``.
    alpha : float, default 0.10
        FDR level at which a bin counts as a hot or cold spot.
    alpha_trend : float, default 0.10
        Significance level of the Mann–Kendall trend.
    method : {'auto', 'grid', 'kdtree'}, default 'auto'
        Neighbour-sum strategy of Gi* (the result does not depend on it).

    Returns
    -------
    EmergingHotSpots
        Category, trend, per-period Gi* and counts of hot and cold periods per location.

    Raises
    ------
    ValueError
        If ``values`` is not 2-D with at least two periods, or on the errors of
        :func:`~harmscope.places.gi_star.gi_star`.

    Notes
    -----
    The neighbour structure is built once and applied to all periods in one array operation;
    the Mann–Kendall test and the classification are vectorised over locations. Rules and how
    they differ from sfdep are in the module docstring.
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] < 2:
        raise ValueError(f"values must have shape (periods >= 2, n), got {y.shape}")
    gi = gi_star_test(y, xy, distance, method=method)
    trend = mann_kendall(gi.z, axis=0)
    category = classify_emerging(gi.z, gi.p_fdr, alpha=alpha, alpha_trend=alpha_trend, trend=trend)
    significant = gi.p_fdr <= alpha
    return EmergingHotSpots(
        category=category,
        trend=trend,
        gi=gi,
        hot_periods=(significant & (gi.z > 0)).sum(axis=0).astype(np.int64),
        cold_periods=(significant & (gi.z < 0)).sum(axis=0).astype(np.int64),
    )
