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
5. Each footprint is a **candidate** with a stable id derived from its cells:
   ``mkt-`` + the first 8 hex digits of BLAKE2b over the cell size and the sorted cell corners.
   The same footprint gets the same id on every run, engine and machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from harmscope.errors import WarehouseError
from harmscope.markets.cells import Cells, candidate_id, sorted_cells
from harmscope.places.gi_star import gi_star_test
from harmscope.places.grid import study_area_cells, values_on_cells

__all__ = ["Candidate", "detect"]


@dataclass(frozen=True)
class Candidate:
    """A detected footprint before curation: its id, cells and peak Gi* z of activity."""

    id: str
    cells: Cells
    peak_z: float


def detect(
    frame: pd.DataFrame,
    *,
    cell_size: float,
    distance: float,
    within: float | None,
    alpha: float,
    min_activity: float,
    mask: tuple[Any, Any] | None = None,
) -> list[Candidate]:
    """Gi* on market activity per cell, then 8-connected components of the market cells."""
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
    out = []
    for k in range(1, n + 1):
        sel = lab == k
        cells = sorted_cells(list(zip(ax[sel].tolist(), ay[sel].tolist(), strict=True)))
        out.append(
            Candidate(id=candidate_id(cells, cell_size), cells=cells, peak_z=float(gi.z[sel].max()))
        )
    return out
