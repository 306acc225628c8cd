"""Market footprints as cells: stable ids, sorting, buffers and overlaps.

A footprint is a set of square BNG cells named by their lower-left corners (metres). A market's
id names its *place*, not its footprint (:func:`market_id`): ``mkt-<easting>-<northing>``, the
lower-left corner of the :data:`REFERENCE_GRID` cell (250 m, whatever ``--cell-size``) holding
the centre of the footprint's peak cell (most market activity). Footprints grow and shrink
with the period asked about; their peak rarely moves, so the same market keeps its id across
``--from/--to``, reruns, engines and machines. :func:`candidate_id` (``mkt-`` + 8 hex digits
of BLAKE2b over the cells) is the id of earlier versions, kept so old ids can still be found.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = [
    "REFERENCE_GRID",
    "Cells",
    "buffer_cells",
    "candidate_id",
    "market_id",
    "overlap_area",
    "sorted_cells",
]

#: Cells of a footprint: ``(cell_x, cell_y)`` lower-left corners, metres.
Cells = tuple[tuple[float, float], ...]

#: Side of the fixed BNG grid market ids are read on, metres: the default cell size, so at
#: 250 m a market's id is its peak cell's corner, and other cell sizes give the same place
#: the same id.
REFERENCE_GRID = 250.0


def market_id(peak: tuple[float, float], cell_size: float) -> str:
    """Place-derived id of a market: ``mkt-<E>-<N>`` of the reference cell of its peak cell.

    Parameters
    ----------
    peak : (cell_x, cell_y)
        Lower-left corner of the footprint's peak cell, BNG metres.
    cell_size : float
        Side of that cell, metres.

    Examples
    --------
    >>> market_id((533250, 181250), 250)
    'mkt-533250-181250'
    >>> market_id((533000, 181000), 500), market_id((533300, 181300), 100)
    ('mkt-533250-181250', 'mkt-533250-181250')
    """
    cx = float(peak[0]) + float(cell_size) / 2.0
    cy = float(peak[1]) + float(cell_size) / 2.0
    e = math.floor(cx / REFERENCE_GRID) * REFERENCE_GRID
    n = math.floor(cy / REFERENCE_GRID) * REFERENCE_GRID
    return f"mkt-{e:.0f}-{n:.0f}"


def candidate_id(cells: Sequence[tuple[float, float]], cell_size: float) -> str:
    """Footprint id of earlier versions: ``mkt-`` + 8 hex digits of BLAKE2b of its cells.

    It changes whenever the footprint does (another period, more data); markets are now named
    by :func:`market_id`, and this id is only matched so that an id copied from an old listing
    still finds its market.

    Examples
    --------
    >>> candidate_id([(530250, 181000), (530000, 181000)], 250)
    'mkt-e64cf39d'
    >>> candidate_id([(530000, 181000), (530250, 181000)], 250.0)
    'mkt-e64cf39d'
    """
    key = f"{float(cell_size):g}|" + ";".join(
        f"{float(x):g},{float(y):g}" for x, y in sorted(cells, key=lambda c: (c[1], c[0]))
    )
    return "mkt-" + hashlib.blake2b(key.encode("ascii"), digest_size=4).hexdigest()


def sorted_cells(cells: Sequence[tuple[float, float]]) -> Cells:
    """Cells as floats, sorted south to north then west to east (the order ids hash)."""
    return tuple(sorted(((float(x), float(y)) for x, y in cells), key=lambda c: (c[1], c[0])))


def buffer_cells(cells: Cells, cell_size: float, buffer: float) -> Cells:
    """Footprint plus every cell any part of which lies strictly within ``buffer`` metres."""
    if buffer < 0 or not math.isfinite(buffer):
        raise ValueError(f"buffer must be >= 0 metres, got {buffer!r}")
    if buffer == 0:
        return cells
    xy = np.asarray(cells, dtype=np.float64)
    ix = np.rint(xy[:, 0] / cell_size).astype(np.int64)
    iy = np.rint(xy[:, 1] / cell_size).astype(np.int64)
    r = math.ceil(buffer / cell_size)
    x0, y0 = int(ix.min()) - r, int(iy.min()) - r
    grid = np.zeros((int(iy.max()) - y0 + r + 1, int(ix.max()) - x0 + r + 1), dtype=bool)
    grid[iy - y0, ix - x0] = True
    oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
    gap_x = np.maximum(np.abs(ox) - 1, 0) * cell_size
    gap_y = np.maximum(np.abs(oy) - 1, 0) * cell_size
    disc = np.hypot(gap_x, gap_y) < buffer
    area = ndimage.binary_dilation(grid, structure=disc)
    gy, gx = np.nonzero(area)
    return sorted_cells(
        list(zip(((gx + x0) * cell_size).tolist(), ((gy + y0) * cell_size).tolist(), strict=True))
    )


def overlap_area(a: Cells, a_size: float, b: Cells, b_size: float) -> float:
    """Area (m²) shared by two sets of square cells (each set non-overlapping)."""
    if not a or not b:
        return 0.0
    pa = np.asarray(a, dtype=np.float64)
    pb = np.asarray(b, dtype=np.float64)
    dx = np.minimum(pa[:, None, 0] + a_size, pb[None, :, 0] + b_size) - np.maximum(
        pa[:, None, 0], pb[None, :, 0]
    )
    dy = np.minimum(pa[:, None, 1] + a_size, pb[None, :, 1] + b_size) - np.maximum(
        pa[:, None, 1], pb[None, :, 1]
    )
    return float((np.clip(dx, 0, None) * np.clip(dy, 0, None)).sum())
