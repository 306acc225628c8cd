"""Per-unit figures from attributed contributions: harm and its range, recency-decayed rate,
trend, months since the last harm, confidence, and the unit's harm-matrix cells.

All set-based (pandas group-bys over the contribution rows; no per-unit Python loop).

Recency decay: a contribution ``a`` months before the period's last month weighs
:math:`2^{-a/h}` (half-life :math:`h` months). The decayed monthly rate is
:math:`r = \\sum_i v_i 2^{-a_i/h} / \\sum_{a=0}^{N-1} 2^{-a/h}` over a period of :math:`N`
months, i.e. an exponentially weighted mean month; a unit as harmful in every month has
:math:`r` equal to its mean month whatever :math:`h`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.harm.shares import spread_harm
from harmscope.people.contributions import Contributions

__all__ = ["FIGURE_COLUMNS", "decay", "unit_cells", "unit_figures"]

#: Columns of :func:`unit_figures` (index ``unit``).
FIGURE_COLUMNS = (
    "harm",
    "harm_low",
    "harm_high",
    "rate",
    "rate_intel",
    "trend",
    "months_since_last",
    "confidence",
    "offences",
    "reports",
)


def decay(age: np.ndarray | pd.Series, half_life: float) -> np.ndarray:
    """Weight :math:`2^{-a/h}` of contributions ``age`` whole months before the period's end."""
    if half_life <= 0:
        raise ValueError(f"half_life must be a positive number of months, got {half_life}")
    return np.power(0.5, np.asarray(age, dtype=float) / half_life)


def unit_figures(rows: pd.DataFrame, *, start: int, end: int, half_life: float) -> pd.DataFrame:
    """Figures per ``unit`` of the contribution rows (:data:`FIGURE_COLUMNS`).

    Parameters
    ----------
    rows : DataFrame
        Contributions with ``unit``, ``m`` (month index), ``value``, ``low``, ``high``,
        ``conf``, ``origin``, ``crime_id``.
    start, end : int
        Month indices of the period's first and last month.
    half_life : float
        Months.

    Returns
    -------
    DataFrame indexed by unit
        ``harm``/``harm_low``/``harm_high`` (sums over the period, scheme unit); ``rate``
        (decayed monthly rate, scheme unit per month) and ``rate_intel`` (its part from
        reports and links); ``trend`` (least-squares slope of the
        monthly harm over the period's months, zeros included, as a fraction of the mean
        month; NaN for a one-month period or no harm); ``months_since_last`` (whole months
        from the last month with harm to the period's end); ``confidence`` (0-1, the mean of
        the rows' confidence weighted by their face value ``high``); ``offences`` (distinct
        linked crimes) and ``reports`` (intelligence reports and links).
    """
    n = end - start + 1
    r = rows
    codes, uniques = pd.factorize(r["unit"], sort=True)
    units = pd.Index(np.asarray(uniques, dtype=object), name="unit")
    size = len(units)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=weights, minlength=size)

    m = r["m"].to_numpy(dtype=float)
    t = m - start
    t_bar = (n - 1) / 2.0
    s_tt = float(((np.arange(n) - t_bar) ** 2).sum())
    norm = float(decay(np.arange(n), half_life).sum())
    value = r["value"].to_numpy(dtype=float)
    high = r["high"].to_numpy(dtype=float)
    is_off = (r["origin"] == "offence").to_numpy(dtype=bool)
    decayed = value * decay(end - m, half_life) / norm
    out = pd.DataFrame(
        {
            "harm": total(value),
            "harm_low": total(r["low"].to_numpy(dtype=float)),
            "harm_high": total(high),
            "rate": total(decayed),
            "rate_intel": total(np.where(is_off, 0.0, decayed)),
        },
        index=units,
    )
    mean_month = out["harm"].to_numpy() / n
    slope = total(value * (t - t_bar)) / s_tt if s_tt > 0 else np.full(size, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["trend"] = np.where(mean_month > 0, slope / mean_month, np.nan)
        out["confidence"] = np.where(
            out["harm_high"] > 0,
            total(high * r["conf"].to_numpy(dtype=float)) / out["harm_high"],
            np.nan,
        )
    last = np.full(size, np.nan)
    has = value > 0
    np.fmax.at(last, codes[has], m[has])
    out["months_since_last"] = (
        pd.array(np.where(np.isnan(last), np.nan, end - last), dtype="Float64")
        .round()
        .astype("Int64")
    )
    # distinct linked crimes per unit (two members of a group on one crime count it once)
    crime = pd.factorize(r["crime_id"].to_numpy()[is_off])[0].astype(np.int64)
    pairs = pd.unique(codes[is_off].astype(np.int64) * (int(crime.max(initial=0)) + 1) + crime)
    out["offences"] = np.bincount(pairs // (int(crime.max(initial=0)) + 1), minlength=size).astype(
        np.int64
    )
    out["reports"] = np.bincount(codes[~is_off], minlength=size).astype(np.int64)
    return out[list(FIGURE_COLUMNS)]


def unit_cells(rows: pd.DataFrame, contrib: Contributions) -> pd.DataFrame:
    """Each unit's harm-matrix cells: ``unit, harm_type, bearer, source, value``.

    Offences spread by their crime type's landing shares and attributable fractions
    (:func:`~harmscope.harm.shares.spread_harm`, the matrix's rule); reports and links land
    in their behaviour's cell. Values are in the view and sum to the unit's ``harm``.
    """
    off = rows[rows["origin"] == "offence"]
    totals = (
        off.groupby(["unit", "event_key"], as_index=False, observed=True)["all_value"]
        .sum()
        .rename(columns={"all_value": "value"})
    )
    spread = spread_harm(totals, contrib.shares, unit_columns=["unit"])
    intel = rows[rows["origin"] != "offence"]
    beh = intel.groupby(["unit", "behaviour"], as_index=False, observed=True)["value"].sum()
    b = contrib.table.behaviours
    beh = beh.assign(
        harm_type=beh["behaviour"].map({k: v.harm_type for k, v in b.items()}),
        bearer=beh["behaviour"].map({k: v.bearer for k, v in b.items()}),
        source=beh["behaviour"].map({k: v.source for k, v in b.items()}),
    )
    cols = ["unit", "harm_type", "bearer", "source", "value"]
    both = pd.concat([spread[cols], beh[cols]], ignore_index=True)
    return both.groupby(cols[:-1], as_index=False, observed=True)["value"].sum()
