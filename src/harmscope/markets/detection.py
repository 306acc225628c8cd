"""Detection of candidate drug markets: Gi* hot spots of market activity, joined into footprints.

1. Market activity (:mod:`harmscope.markets.activity`) per event.
2. Market activity and harm are summed per square BNG cell (``cell_size``) and month. The study
   area is, by default, every cell holding at least one located event of any kind (harm or
   activity; ``within=0``): cells where the force records crime but no market activity count as
   zeros, while cells beyond the force's area (where it records nothing) are not evidence of
   "no market" and are left out. :func:`harmscope.places.hotspots.hotspots` pads 1 km instead;
   on the City of London, padding makes the whole City one "market" against the empty ring
   around it.
3. Gi* (:func:`~harmscope.places.gi_star.gi_star_test`, band ``1.5 * cell_size`` by default: a
   cell and its eight neighbours) on the market activity of the whole period. A cell is a
   **market cell** when its FDR-adjusted p is at most ``alpha`` (default 0.05), its z is
   positive and it holds at least ``min_activity`` of activity itself (default: any), so that
   an empty cell beside a busy one is not called a market.
4. Market cells are merged into footprints: connected components with 8-neighbour
   connectivity (``scipy.ndimage.label`` on the raster of the study area).
5. Each footprint is a **candidate** with a stable id derived from its place
   (:func:`~harmscope.markets.cells.market_id`): ``mkt-<easting>-<northing>`` of the 250 m
   reference cell holding its **peak cell**: the footprint cell with most market activity over
   *every* month the warehouse holds (``anchor``), not only the period asked about, so that a
   footprint that grows or shrinks with the period keeps its id as long as it holds that cell;
   ties go to the period's activity, then the higher Gi* z, then south to north, west to east. Two footprints with a peak in the
   same reference cell (possible with cells under 125 m) are told apart by ``-2``, ``-3`` ...
   in order of activity. The id does not depend on the period, the options or the footprint's
   exact extent, so a market keeps it as long as its busiest cell stays put.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from harmscope.errors import WarehouseError
from harmscope.markets.cells import Cells, market_id, sorted_cells
from harmscope.places.gi_star import gi_star_test
from harmscope.places.grid import study_area_cells, values_on_cells

__all__ = ["Candidate", "detect"]


@dataclass(frozen=True)
class Candidate:
    """A detected footprint before curation.

    Attributes
    ----------
    id : str
        Place-derived id (:func:`~harmscope.markets.cells.market_id` of ``peak``).
    cells : Cells
        Footprint cells, sorted south to north, west to east.
    peak_z : float
        Largest Gi* z of market activity in the footprint.
    peak : (float, float)
        Corner of the footprint cell with most market activity, metres.
    """

    id: str
    cells: Cells
    peak_z: float
    peak: tuple[float, float] = (0.0, 0.0)


def detect(
    frame: pd.DataFrame,
    *,
    cell_size: float,
    distance: float,
    within: float | None,
    alpha: float,
    min_activity: float,
    mask: tuple[Any, Any] | None = None,
    anchor: pd.Series | None = None,
) -> list[Candidate]:
    """Gi* on market activity per cell, then 8-connected components of the market cells.

    ``anchor`` is the market activity of every month per cell (a Series indexed by
    ``(cell_x, cell_y)``), which picks each footprint's peak cell and so its id; None uses the
    period's activity alone.
    """
    per_cell = frame.groupby(["cell_x", "cell_y"], as_index=False)[["harm", "market"]].sum()
    if not (per_cell["market"] > 0).any():
        raise WarehouseError(
            "no drug market activity (drug offences, drug search finds, intelligence) in the "
            "period: no markets to detect"
        )
    cx = per_cell["cell_x"].to_numpy(dtype=np.float64)
    cy = per_cell["cell_y"].to_numpy(dtype=np.float64)
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    activity = values_on_cells(
        cx, cy, per_cell["market"].to_numpy(dtype=np.float64), ax, ay, drop_outside=mask is not None
    )
    if not (activity > 0).any():
        raise WarehouseError(
            "no drug market activity inside the study area in the period: no markets to detect"
        )
    gi = gi_star_test(activity, np.column_stack([ax, ay]), distance)
    hot = (gi.p_fdr <= alpha) & (gi.z > 0) & (activity > min_activity)
    if not hot.any():
        return []
    ix = np.rint(ax / cell_size).astype(np.int64)
    iy = np.rint(ay / cell_size).astype(np.int64)
    x0, y0 = int(ix.min()), int(iy.min())
    raster = np.zeros((int(iy.max()) - y0 + 1, int(ix.max()) - x0 + 1), dtype=bool)
    raster[iy[hot] - y0, ix[hot] - x0] = True
    labels, n = ndimage.label(raster, structure=np.ones((3, 3), dtype=bool))
    lab = labels[iy - y0, ix - x0]
    found = []
    for k in range(1, n + 1):
        idx = np.flatnonzero(lab == k)
        cells = sorted_cells(list(zip(ax[idx].tolist(), ay[idx].tolist(), strict=True)))
        # The peak: most activity of all months, then of the period, then highest z, then
        # south-west first (lexsort: the last key is the primary one).
        if anchor is None:
            lasting = np.zeros(idx.size)
        else:
            keys = pd.MultiIndex.from_arrays([ax[idx], ay[idx]])
            lasting = anchor.reindex(keys).fillna(0.0).to_numpy(dtype=np.float64)
        best = idx[np.lexsort((ax[idx], ay[idx], -gi.z[idx], -activity[idx], -lasting))[0]]
        peak = (float(ax[best]), float(ay[best]))
        found.append((float(activity[best]), cells, float(gi.z[idx].max()), peak))
    # Ids are unique within one detection: a shared reference cell gets -2, -3 ... in order of
    # peak activity (then south to north, west to east).
    found.sort(key=lambda f: (-f[0], f[3][1], f[3][0]))
    seen: dict[str, int] = {}
    out = []
    for _, cells, peak_z, peak in found:
        base = market_id(peak, cell_size)
        seen[base] = seen.get(base, 0) + 1
        cid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Candidate(id=cid, cells=cells, peak_z=peak_z, peak=peak))
    return out
