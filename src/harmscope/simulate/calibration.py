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
