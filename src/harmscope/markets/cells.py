"""Market footprints as cells: stable ids, sorting, buffers and overlaps.

A footprint is a set of square BNG cells named by their lower-left corners (metres). Its id is
``mkt-`` + the first 8 hex digits of BLAKE2b over the cell size and the sorted corners, so the
same footprint gets the same id on every run, engine and machine.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

__all__ = ["Cells", "buffer_cells", "candidate_id", "overlap_area", "sorted_cells"]

#: Cells of a footprint: ``(cell_x, cell_y)`` lower-left corners, metres.
Cells = tuple[tuple[float, float], ...]


def candidate_id(cells: Sequence[tuple[float, float]], cell_size: float) -> str:
    """Stable id of a footprint: ``mkt-`` + 8 hex digits of BLAKE2b of its cells.

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
