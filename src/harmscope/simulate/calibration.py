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
