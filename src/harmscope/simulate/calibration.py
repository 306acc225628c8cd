"""Calibration statistics: concentration of harm over grid cells and the crime-type mix.

The same functions compute the figures for real police.uk data and for simulated data, so
the calibration test compares like with like.

References
----------
Weisburd, D. (2015). The law of crime concentration and the criminology of place.
    *Criminology* 53(2), 133-157.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from harmscope.simulate.params import ACTIVITY_TYPES, HARM_DAYS


def harm_concentration(
    x: ArrayLike,
    y: ArrayLike,
    crime_type: ArrayLike,
    *,
    cell_m: float = 250.0,
    shares: Sequence[float] = (0.01, 0.05, 0.1),
    weights: Mapping[str, float] = HARM_DAYS,
    activity: frozenset[str] = ACTIVITY_TYPES,
) -> dict[float, float]:
    """Share of harm held by the top cells among the cells with any harm.

    Parameters
    ----------
    x, y : array_like
        British National Grid easting and northing of each event (metres).
    crime_type : array_like of str
        police.uk crime type of each event.
    cell_m : float
        Cell side (metres); cells are aligned to multiples of ``cell_m``.
    shares : sequence of float
        Top fractions of cells (0.05 = top 5 %); the number of cells is
        ``ceil(share * cells_with_harm)``.
    weights : mapping
        Harm per event by type (default: Cambridge Crime Harm Index days).
    activity : frozenset of str
        Types left out (police activity, not harm).

    Returns
    -------
    dict
        ``{share: fraction of total harm in the top share of cells}``.
    """
    t = pd.Series(np.asarray(crime_type, dtype=object))
    keep = ~t.isin(list(activity)).to_numpy()
    w = t.map(dict(weights)).to_numpy(dtype=float)[keep]
    cx = np.floor(np.asarray(x, dtype=float)[keep] / cell_m).astype(np.int64)
    cy = np.floor(np.asarray(y, dtype=float)[keep] / cell_m).astype(np.int64)
    ok = np.isfinite(w)
    frame = pd.DataFrame({"cx": cx[ok], "cy": cy[ok], "w": w[ok]})
    per_cell = np.sort(frame.groupby(["cx", "cy"])["w"].sum().to_numpy())[::-1]
    per_cell = per_cell[per_cell > 0]
    total = per_cell.sum()
    n = len(per_cell)
    return {s: float(per_cell[: max(1, int(np.ceil(s * n)))].sum() / total) for s in shares}


def type_mix(crime_type: ArrayLike) -> dict[str, float]:
    """Share of rows by crime type."""
    s = pd.Series(np.asarray(crime_type, dtype=object)).value_counts(normalize=True)
    return {str(k): float(v) for k, v in s.items()}


DIVERGENCE_MEASURES = (
    "cells",
    "top_cells",
    "top_differ",
    "spearman",
    "harm_in_harm_top_not_count_top",
)
"""Keys of :func:`count_harm_divergence` (see its Returns)."""


def count_harm_divergence(
    x: ArrayLike,
    y: ArrayLike,
    crime_type: ArrayLike,
    *,
    cell_m: float = 250.0,
    top: float = 0.01,
    weights: Mapping[str, float] = HARM_DAYS,
    activity: frozenset[str] = ACTIVITY_TYPES,
) -> dict[str, float]:
    """How differently counting and harm weighting rank the same cells.

    Both rankings cover the same events -- every row of a harm type (``activity`` types left
    out, as the ``count`` and ``cchi`` schemes do) -- so any difference is the weights' alone.
    Cells are those with at least one such event; ties are broken by cell position (west to
    east, then south to north), so the figures are deterministic.

    Parameters
    ----------
    x, y : array_like
        British National Grid easting and northing of each event (metres).
    crime_type : array_like of str
        police.uk crime type of each event.
    cell_m : float
        Cell side (metres), cells aligned to multiples of ``cell_m``.
    top : float
        Top fraction of cells compared (0.01 = top 1 %); ``k = ceil(top * cells)``.
    weights : mapping
        Harm per event by type (default: Cambridge Crime Harm Index days).
    activity : frozenset of str
        Types left out of both rankings (police activity, not harm).

    Returns
    -------
    dict
        ``cells`` (cells with any harm-type event), ``top_cells`` (``k``),
        ``top_differ`` (share of the top-``k`` cells by count that are not in the top ``k``
        by harm; the reverse share is the same number, as both lists have ``k`` cells),
        ``spearman`` (rank correlation of count and harm over
        all cells, ties averaged) and ``harm_in_harm_top_not_count_top`` (share of all harm
        held by the top-``k`` harm cells that counting leaves out of its top ``k``: the
        harm a count ranking misses at that depth).

    References
    ----------
    Sherman, L. W., Neyroud, P. W. & Neyroud, E. (2016). The Cambridge Crime Harm Index.
        *Policing* 10(3), 171-183 (counts and harm rank places differently).
    """
    t = pd.Series(np.asarray(crime_type, dtype=object))
    keep = ~t.isin(list(activity)).to_numpy()
    w = t.map(dict(weights)).to_numpy(dtype=float)[keep]
    cx = np.floor(np.asarray(x, dtype=float)[keep] / cell_m).astype(np.int64)
    cy = np.floor(np.asarray(y, dtype=float)[keep] / cell_m).astype(np.int64)
    ok = np.isfinite(w)
    frame = pd.DataFrame({"cx": cx[ok], "cy": cy[ok], "w": w[ok]})
    per_cell = frame.groupby(["cx", "cy"], sort=True)["w"].agg(["sum", "size"])
    harm = per_cell["sum"].to_numpy(dtype=float)
    count = per_cell["size"].to_numpy(dtype=float)
    n = len(harm)
    k = max(1, int(np.ceil(top * n)))
    # Stable sorts on the negated values: ties keep the (cx, cy) order of the groupby.
    by_harm = np.argsort(-harm, kind="stable")[:k]
    by_count = np.argsort(-count, kind="stable")[:k]
    miss = np.setdiff1d(by_harm, by_count)
    rank_h = pd.Series(harm).rank().to_numpy()
    rank_c = pd.Series(count).rank().to_numpy()
    rho = float(np.corrcoef(rank_h, rank_c)[0, 1]) if n > 1 else float("nan")
    return {
        "cells": float(n),
        "top_cells": float(k),
        "top_differ": float(len(miss) / k),
        "spearman": rho,
        "harm_in_harm_top_not_count_top": float(harm[miss].sum() / harm.sum()),
    }


def drug_area_divergence(
    x: ArrayLike,
    y: ArrayLike,
    crime_type: ArrayLike,
    *,
    cell_m: float = 250.0,
    top: float = 0.01,
    k: int = 10,
    reach: int = 1,
    weights: Mapping[str, float] = HARM_DAYS,
    activity: frozenset[str] = ACTIVITY_TYPES,
    drugs: str = "Drugs",
) -> dict[str, float]:
    """How differently counting and harm weighting rank the areas around drug hot spots.

    No public data say which crimes a drug market causes, so this is the public stand-in for
    a market's count-harm divergence: where drug offences concentrate (the hot spots a market
    leaves in police.uk), do the harm and the number of the crimes around them rank those
    places alike? Hot spots are the top ``top`` fraction of the cells with any harm-type
    event, ranked by ``drugs`` rows (only cells with at least one; ties by cell position,
    west to east, then south to north); each one's **area** is the square of
    ``(2 * reach + 1) ** 2`` cells around it. An area's count and harm are those of its
    harm-type events (``activity`` types, drug offences among them, left out, as
    :func:`count_harm_divergence`), each cell counted in every area it falls in.

    Parameters
    ----------
    x, y : array_like
        British National Grid easting and northing of each event (metres).
    crime_type : array_like of str
        police.uk crime type of each event.
    cell_m : float
        Cell side (metres).
    top : float
        Share of the cells with any harm-type event taken as hot spots (at least one).
    k : int
        Top areas compared (at most the number of areas).
    reach : int
        Cells from the hot spot to the edge of its area (1: 3 x 3 cells, 750 m at 250 m).
    weights, activity
        As :func:`count_harm_divergence`.
    drugs : str
        The police.uk type whose rows mark a hot spot.

    Returns
    -------
    dict
        ``areas``; ``top_differ`` (share of the top-``k`` areas by count not in the top
        ``k`` by harm; ties keep the hot-spot order); ``spearman`` (rank correlation of area
        counts and harm, ties averaged); ``harm_per_event_cv`` (coefficient of variation,
        sample standard deviation over mean, of harm per event over the areas with any).
    """
    t = pd.Series(np.asarray(crime_type, dtype=object))
    cx = np.floor(np.asarray(x, dtype=float) / cell_m).astype(np.int64)
    cy = np.floor(np.asarray(y, dtype=float) / cell_m).astype(np.int64)
    w = t.map(dict(weights)).to_numpy(dtype=float)
    harmful = (~t.isin(list(activity))).to_numpy() & np.isfinite(w)
    per_cell = (
        pd.DataFrame({"cx": cx[harmful], "cy": cy[harmful], "w": w[harmful]})
        .groupby(["cx", "cy"], sort=True)["w"]
        .agg(["sum", "size"])
    )
    n_hot = max(1, int(np.ceil(top * len(per_cell))))
    is_drug = (t == drugs).to_numpy()
    hot = (
        pd.DataFrame({"cx": cx[is_drug], "cy": cy[is_drug]})
        .groupby(["cx", "cy"], sort=True)
        .size()
        .sort_values(ascending=False, kind="stable")
        .head(n_hot)
        .index.to_frame(index=False)
    )
    harm = np.zeros(len(hot))
    count = np.zeros(len(hot))
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            shifted = pd.MultiIndex.from_arrays([hot["cx"] + dx, hot["cy"] + dy])
            got = per_cell.reindex(shifted).fillna(0.0)
            harm += got["sum"].to_numpy()
            count += got["size"].to_numpy()
    n = len(hot)
    kk = max(1, min(k, n))
    miss = np.setdiff1d(
        np.argsort(-harm, kind="stable")[:kk], np.argsort(-count, kind="stable")[:kk]
    )
    rho = (
        float(np.corrcoef(pd.Series(harm).rank(), pd.Series(count).rank())[0, 1])
        if n > 1
        else float("nan")
    )
    per_event = harm[count > 0] / count[count > 0]
    cv = float(per_event.std(ddof=1) / per_event.mean()) if len(per_event) > 1 else float("nan")
    return {
        "areas": float(n),
        "top_differ": float(len(miss) / kk),
        "spearman": rho,
        "harm_per_event_cv": cv,
    }
