"""Harm to come from each crime type's count: empirical-Bayes counts weighed by the scheme.

Past harm is a noisy forecast of future harm because a few severe offences (a robbery weighs
365 CCHI days, a shoplifting 1) decide a cell's harm in any one period. A cell's *volume* of
recorded harm events is far steadier than its *mix* of types. So each type's count is
forecast on its own, shrunk towards what the cell's volume and the area's type mix lead one
to expect, and only then weighed by the scheme (issue 12 item 6).

Model
-----
For type :math:`k` and cell :math:`i` over an exposure of :math:`L` months, :math:`n_{ik}` is
the cell's count of that type and :math:`N_i = \\sum_k n_{ik}` its count of every harm type.
The prior mean of the cell's type-:math:`k` count is its volume split by the area's mix,

.. math::

    m_{ik} = s_k N_i, \\qquad s_k = \\frac{\\sum_i n_{ik}}{\\sum_i N_i},

and the cell's own rate departs from it by a gamma factor of mean 1 and variance
:math:`1/a_k` (a gamma–Poisson, i.e. negative-binomial, model; Clayton & Kaldor 1987). The
posterior expected count over the next :math:`L` months is

.. math::

    \\hat n_{ik} = m_{ik} \\, \\frac{a_k + n_{ik}}{a_k + m_{ik}},

which is :math:`n_{ik}` when :math:`a_k \\to 0` (no shrinkage) and :math:`m_{ik}` when
:math:`a_k \\to \\infty`; :math:`L` cancels. :math:`a_k` is estimated by the method of moments
over the cells (Clayton & Kaldor 1987; Marshall 1991): with
:math:`\\operatorname{Var} n_{ik} = m_{ik} + m_{ik}^2 / a_k`,

.. math::

    \\frac{1}{a_k} = \\max\\left(\\varepsilon,
        \\frac{\\sum_i \\left[(n_{ik} - m_{ik})^2 - m_{ik}\\right]}{\\sum_i m_{ik}^2}\\right),
    \\qquad \\varepsilon = 10^{-6},

so a type whose counts scatter no more than Poisson noise around the prior is shrunk fully to
it. The forecast harm of the cell is :math:`\\hat H_i = \\sum_k w_k \\hat n_{ik}`, with
:math:`w_k` the harm of one type-:math:`k` event in the chosen view (scheme weight, times the
drug-attributable share in the drug view). A cell with no harm event has forecast 0.

Everything is array arithmetic over cells (and origins): linear in the data, no loop over
cells.

References
----------
.. [1] Clayton, D. & Kaldor, J. (1987). Empirical Bayes estimates of age-standardized relative
   risks for use in disease mapping. *Biometrics*, 43(3), 671–681.
.. [2] Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes
   estimators. *Journal of the Royal Statistical Society C*, 40(2), 283–294.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MIN_OVERDISPERSION", "forecast_type_harm", "shrunk_counts"]

#: Floor of :math:`1/a_k`: below it a type is treated as Poisson around its prior (full shrink).
MIN_OVERDISPERSION = 1e-6


def shrunk_counts(
    counts: ArrayLike, totals: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Empirical-Bayes expected count of one crime type per cell (see the module docstring).

    Parameters
    ----------
    counts : array_like, shape (..., n)
        The type's count per cell, :math:`n_{ik}`; leading axes (e.g. origins) are separate
        problems, each over its ``n`` cells.
    totals : array_like, shape (..., n)
        Every harm type's count per cell over the same months, :math:`N_i` (>= ``counts``).

    Returns
    -------
    expected : numpy.ndarray, shape (..., n)
        :math:`\\hat n_{ik}`, events over the same number of months.
    strength : numpy.ndarray, shape (...)
        :math:`a_k` (prior strength, in events; ``1 / MIN_OVERDISPERSION`` when the counts
        show no extra-Poisson scatter, and then ``expected`` is the prior exactly; NaN where
        the area has no harm event).

    Examples
    --------
    Two cells of 10 harm events each; the type holds 4 of the 20, all in the first cell. The
    prior is 2 events in each, the scatter estimate :math:`1/a = 2 (2^2 - 2) / (2 \\cdot 2^2)
    = 0.5`, so :math:`a = 2` and the counts 4 and 0 become :math:`2 \\cdot 6/4 = 3` and
    :math:`2 \\cdot 2/4 = 1`:

    >>> e, a = shrunk_counts([4, 0], [10, 10])
    >>> e.tolist(), float(a)
    ([3.0, 1.0], 2.0)
    """
    n = np.asarray(counts, dtype=np.float64)
    tot = np.asarray(totals, dtype=np.float64)
    if n.shape != tot.shape or n.ndim == 0:
        raise ValueError(f"counts {n.shape} and totals {tot.shape} need the same (..., n) shape")
    if np.any(n < 0) or np.any(tot < n - 1e-9):
        raise ValueError("counts must be >= 0 and no larger than the totals of every type")
    area = tot.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(area > 0, n.sum(axis=-1, keepdims=True) / area, 0.0)
        prior = share * tot
        spread = ((n - prior) ** 2 - prior).sum(axis=-1, keepdims=True)
        scale = (prior**2).sum(axis=-1, keepdims=True)
        inv_a = np.where(scale > 0, np.maximum(spread / scale, MIN_OVERDISPERSION), np.nan)
        a = 1.0 / inv_a
        expected = np.where(prior > 0, prior * (a + n) / (a + prior), n)
        # At the floor the counts carry no information beyond the prior: use it exactly.
        expected = np.where(inv_a <= MIN_OVERDISPERSION, prior, expected)
    return np.atleast_1d(expected), np.asarray(a[..., 0], dtype=np.float64)


def forecast_type_harm(
    counts: Mapping[str, ArrayLike], weights: Mapping[str, float]
) -> NDArray[np.float64]:
    """Forecast harm per cell: each type's empirical-Bayes count times its harm per event.

    Parameters
    ----------
    counts : mapping of type to array_like, shape (..., n)
        Count of each harm type per cell over the same months (every harm type the cells
        hold, so that their sum is each cell's volume :math:`N_i`).
    weights : mapping of type to float
        Harm of one event of the type, :math:`w_k`, in the scheme's unit; types missing here
        weigh 0 (they still count towards the volume).

    Returns
    -------
    numpy.ndarray, shape (..., n)
        :math:`\\hat H_i = \\sum_k w_k \\hat n_{ik}`: the harm expected over the next period of
        the same length, in the scheme's unit.

    Examples
    --------
    Type ``a`` as in :func:`shrunk_counts` (3 and 1 expected); type ``b`` scatters less than
    Poisson noise around its prior of 8 events per cell, so both cells expect 8:

    >>> h = forecast_type_harm({"a": [4, 0], "b": [6, 10]}, {"a": 100.0, "b": 1.0})
    >>> h.round(3).tolist()
    [308.0, 108.0]
    """
    if not counts:
        raise ValueError("no crime type to forecast")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in counts.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        raise ValueError(f"every type needs the same (..., n) shape, got {sorted(shapes)}")
    total = np.sum(list(arrays.values()), axis=0)
    out = np.zeros(total.shape)
    for key, n in arrays.items():
        w = float(weights.get(key, 0.0))
        if w == 0.0:
            continue
        expected, _ = shrunk_counts(n, total)
        out += w * expected
    return out
