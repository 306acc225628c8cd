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

With intelligence (``sites``: markets the force knows or that graded reports name,
:mod:`harmscope.markets.sites`) detection starts from the sites instead (issue 12: markets
found from activity, harm and intelligence together, not from activity alone):

6. Each site is a candidate whose peak is its own cell, whether or not the cell is hot: a
   market the force knows is one even where police find few drugs (closed markets selling by
   phone are rarely searched for). Its footprint is its cell plus the market cells within
   ``reach`` (default one cell, 250 m) that lie nearer to it than to any other site, so two
   neighbouring markets get two footprints, not one blob that can stand for only one of them.
7. Market cells no site claims are grouped as in step 4; each component is cut into pieces of
   at most ``reach`` around its busiest remaining cell (most activity first), so a hot spot
   unexplained by intelligence is a market of the same extent as a known one rather than a
   blob spanning a city centre, whose buffer would hold the harm of the whole centre.
8. Harm enters twice: the lens ranks the candidates by the harm in and around them
   (:mod:`harmscope.priorities.markets`), and an unexplained hot spot is kept only when its
   footprint's harm per cell is at least ``min_harm_ratio`` times the study area's mean harm
   per cell with any record (default 0: kept), so that a spot of police-found drugs with no
   harm around it can be left out.

Each candidate says what found it (``evidence``): the site's intelligence and, when its
footprint holds market cells, the hot spot's peak z.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from harmscope.errors import WarehouseError
from harmscope.markets.cells import Cells, market_id, sorted_cells
from harmscope.markets.lattice import label_groups
from harmscope.markets.model import MarketSite
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
        Corner of the footprint cell with most market activity (a site's own cell), metres.
    evidence : tuple of str
        What found it, in words (intelligence, hot spot).
    sites : tuple of str
        Force market ids of the sites it stands for (none for a hot spot alone).
    """

    id: str
    cells: Cells
    peak_z: float
    peak: tuple[float, float] = (0.0, 0.0)
    evidence: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()


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
    sites: Sequence[MarketSite] | None = None,
    reach: float | None = None,
    min_harm_ratio: float = 0.0,
) -> list[Candidate]:
    """Gi* on market activity per cell, then 8-connected components of the market cells.

    ``anchor`` is the market activity of every month per cell (a Series indexed by
    ``(cell_x, cell_y)``), which picks each footprint's peak cell and so its id; None uses the
    period's activity alone. With ``sites`` (a non-empty sequence) detection starts from them
    (steps 6-8 of the module docstring); ``reach`` (metres, default ``cell_size``) bounds a
    footprint around its site or peak, and ``min_harm_ratio`` drops unexplained hot spots with
    little harm.
    """
    per_cell = frame.groupby(["cell_x", "cell_y"], as_index=False)[["harm", "market"]].sum()
    if sites:
        return _detect_from_sites(
            per_cell,
            sites,
            cell_size=cell_size,
            distance=distance,
            within=within,
            alpha=alpha,
            min_activity=min_activity,
            mask=mask,
            reach=cell_size if reach is None else float(reach),
            min_harm_ratio=min_harm_ratio,
        )
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
    # Every component's cells in one sort, and the all-months activity of every labelled
    # cell in one look-up, not a pass over the study area and a reindex per component.
    components = label_groups(lab, n, first=1)
    lasting_all = np.zeros(ax.size)
    if anchor is not None:
        labelled = np.flatnonzero(lab > 0)
        keys = pd.MultiIndex.from_arrays([ax[labelled], ay[labelled]])
        lasting_all[labelled] = anchor.reindex(keys).fillna(0.0).to_numpy(dtype=np.float64)
    found = []
    for idx in components:
        cells = sorted_cells(list(zip(ax[idx].tolist(), ay[idx].tolist(), strict=True)))
        # The peak: most activity of all months, then of the period, then highest z, then
        # south-west first (lexsort: the last key is the primary one).
        lasting = lasting_all[idx]
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


def _hot_cells(
    per_cell: pd.DataFrame,
    *,
    cell_size: float,
    distance: float,
    within: float | None,
    alpha: float,
    min_activity: float,
    mask: tuple[Any, Any] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Study-area cells with their activity, harm, Gi* z and market-cell flag."""
    cx = per_cell["cell_x"].to_numpy(dtype=np.float64)
    cy = per_cell["cell_y"].to_numpy(dtype=np.float64)
    ax, ay = study_area_cells(cx, cy, cell_size=cell_size, within=within, mask=mask)
    drop = mask is not None
    activity = values_on_cells(
        cx, cy, per_cell["market"].to_numpy(dtype=np.float64), ax, ay, drop_outside=drop
    )
    harm = values_on_cells(
        cx, cy, per_cell["harm"].to_numpy(dtype=np.float64), ax, ay, drop_outside=drop
    )
    if (activity > 0).any():
        gi = gi_star_test(activity, np.column_stack([ax, ay]), distance)
        z = np.asarray(gi.z, dtype=np.float64)
        hot = (gi.p_fdr <= alpha) & (z > 0) & (activity > min_activity)
    else:  # intelligence alone: no hot spot, every site still a market
        z = np.zeros(ax.size)
        hot = np.zeros(ax.size, dtype=bool)
    return ax, ay, activity, harm, z, np.asarray(hot, dtype=bool)


def _detect_from_sites(
    per_cell: pd.DataFrame,
    sites: Sequence[MarketSite],
    *,
    cell_size: float,
    distance: float,
    within: float | None,
    alpha: float,
    min_activity: float,
    mask: tuple[Any, Any] | None,
    reach: float,
    min_harm_ratio: float,
) -> list[Candidate]:
    """Steps 6-8: a candidate per site, then reach-sized pieces of unexplained hot spots."""
    ax, ay, activity, harm, z, hot = _hot_cells(
        per_cell,
        cell_size=cell_size,
        distance=distance,
        within=within,
        alpha=alpha,
        min_activity=min_activity,
        mask=mask,
    )
    index = {(float(x), float(y)): i for i, (x, y) in enumerate(zip(ax, ay, strict=True))}
    # Sites sharing a cell are one market (a reported market placed beside a known one is not).
    by_cell: dict[tuple[float, float], list[MarketSite]] = {}
    for site in sites:
        by_cell.setdefault((float(site.cell_x), float(site.cell_y)), []).append(site)
    site_xy = np.array(list(by_cell), dtype=np.float64).reshape(-1, 2)
    tol = 1e-6
    claimed = np.zeros(ax.size, dtype=bool)
    owner = np.full(ax.size, -1)
    if hot.any():
        hx, hy = ax[hot], ay[hot]
        dist = np.hypot(hx[:, None] - site_xy[None, :, 0], hy[:, None] - site_xy[None, :, 1])
        # Chebyshev reach (a square of cells), nearest site by Euclidean distance; ties go to
        # the site listed first (sites are in the order intelligence gave them).
        within_reach = (
            np.maximum(
                np.abs(hx[:, None] - site_xy[None, :, 0]), np.abs(hy[:, None] - site_xy[None, :, 1])
            )
            <= reach + tol
        )
        dist[~within_reach] = np.inf
        nearest = np.argmin(dist, axis=1)
        ok = np.isfinite(dist[np.arange(hx.size), nearest])
        idx_hot = np.flatnonzero(hot)
        owner[idx_hot[ok]] = nearest[ok]
        claimed[idx_hot[ok]] = True
    found: list[
        tuple[float, Cells, float, tuple[float, float], tuple[str, ...], tuple[str, ...]]
    ] = []
    owned = label_groups(owner, len(by_cell))  # each site's hot cells, in one sort
    for k, (cell, group) in enumerate(by_cell.items()):
        mine = owned[k]
        cells = sorted_cells([cell, *zip(ax[mine].tolist(), ay[mine].tolist(), strict=True)])
        i = index.get(cell)
        own_act = float(activity[i]) if i is not None else 0.0
        peak_z = float(z[mine].max()) if mine.size else (float(z[i]) if i is not None else 0.0)
        said = [s.detail or f"{s.source}: {s.id}" for s in group]
        if mine.size:
            said.append(
                f"hot spot of market activity: {mine.size} market cell(s), peak Gi* z "
                f"{float(z[mine].max()):.1f}"
            )
        else:
            said.append("no hot spot of market activity around it")
        found.append((own_act, cells, peak_z, cell, tuple(said), tuple(s.id for s in group)))
    # Unexplained hot spots: components of unclaimed market cells, cut into reach-sized pieces.
    rest = hot & ~claimed
    if rest.any():
        ix = np.rint(ax / cell_size).astype(np.int64)
        iy = np.rint(ay / cell_size).astype(np.int64)
        x0, y0 = int(ix.min()), int(iy.min())
        raster = np.zeros((int(iy.max()) - y0 + 1, int(ix.max()) - x0 + 1), dtype=bool)
        raster[iy[rest] - y0, ix[rest] - x0] = True
        labels, n = ndimage.label(raster, structure=np.ones((3, 3), dtype=bool))
        lab = np.where(rest, labels[iy - y0, ix - x0], 0)
        recorded = harm[harm > 0]
        mean_harm = float(recorded.mean()) if recorded.size else 0.0
        for members in label_groups(lab, n, first=1):
            left = set(members.tolist())
            while left:
                pool = np.array(sorted(left))
                # busiest first; ties: higher z, then south to north, west to east
                order = np.lexsort((ax[pool], ay[pool], -z[pool], -activity[pool]))
                peak_i = int(pool[order[0]])
                near = pool[
                    np.maximum(np.abs(ax[pool] - ax[peak_i]), np.abs(ay[pool] - ay[peak_i]))
                    <= reach + tol
                ]
                left -= set(near.tolist())
                if min_harm_ratio > 0 and harm[near].mean() < min_harm_ratio * mean_harm:
                    continue
                cells = sorted_cells(list(zip(ax[near].tolist(), ay[near].tolist(), strict=True)))
                alone = (
                    f"hot spot of market activity no intelligence names: {near.size} market "
                    f"cell(s), peak Gi* z {float(z[near].max()):.1f}",
                )
                found.append(
                    (
                        float(activity[peak_i]),
                        cells,
                        float(z[near].max()),
                        (float(ax[peak_i]), float(ay[peak_i])),
                        alone,
                        (),
                    )
                )
    found.sort(key=lambda f: (-f[0], f[3][1], f[3][0]))
    seen: dict[str, int] = {}
    out = []
    for _, cells, peak_z, peak, evidence, ids in found:
        base = market_id(peak, cell_size)
        seen[base] = seen.get(base, 0) + 1
        cid = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(
            Candidate(id=cid, cells=cells, peak_z=peak_z, peak=peak, evidence=evidence, sites=ids)
        )
    return out
