"""One market per cell: overlapping footprints plus buffers are split, never counted twice.

Footprints never touch (they are separate 8-connected components), but footprints two or three
cells apart reach the same buffer cells. :func:`allocate_cells` gives each such cell to exactly
one market (live before rejected, then the nearest footprint, then the stronger market, then
the smaller id), so the markets' harm never adds a cell twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from harmscope.markets.cells import Cells, buffer_cells, sorted_cells

__all__ = ["Allocation", "allocate_cells"]


@dataclass(frozen=True)
class Allocation:
    """The cells one market holds after overlapping footprints plus buffers are split.

    Attributes
    ----------
    area_cells : tuple of (cell_x, cell_y)
        Cells whose harm belongs to this market (footprint always included).
    split_with : tuple of str
        Ids of the markets it shared at least one cell of its reach with, sorted.
    ceded_cells : int
        Cells of its reach that went to another market.
    """

    area_cells: Cells
    split_with: tuple[str, ...]
    ceded_cells: int


def allocate_cells(
    footprints: Mapping[str, Cells],
    cell_size: float,
    buffer: float,
    *,
    strength: Mapping[str, float] | None = None,
    tiers: Mapping[str, int] | None = None,
) -> dict[str, Allocation]:
    """Give every cell of overlapping footprints plus buffers to exactly one market.

    A market's *reach* is its footprint plus buffer (:func:`buffer_cells`). A cell in the
    reach of one market belongs to it. A cell in the reach of several goes to the market of
    the lowest tier (live markets before rejected ones, so a rejected candidate never takes
    harm from a live one), then the nearest footprint (Euclidean distance between cell
    centres, to the closest footprint cell), then the larger ``strength`` (footprint market
    activity), then the smaller id. A footprint cell is at distance 0 from its own footprint
    and footprints are disjoint, so every market keeps its whole footprint.

    Parameters
    ----------
    footprints : mapping of str to tuple of (x, y)
        Market id -> footprint cells (lower-left corners, metres); footprints are disjoint.
    cell_size : float
        Metres.
    buffer : float
        Metres (as :class:`Market` ``buffer``).
    strength : mapping of str to float, optional
        Tie-break after distance, larger wins (default 0 for all).
    tiers : mapping of str to int, optional
        Claim order, lower first (default 0 for all).

    Returns
    -------
    dict of str to Allocation

    Examples
    --------
    Two one-cell footprints two cells apart share the three cells between their rings; each
    of those is 250 m from both centres, so the stronger market takes them:

    >>> got = allocate_cells({"a": ((0.0, 0.0),), "b": ((500.0, 0.0),)}, 250, 250,
    ...                      strength={"a": 1.0, "b": 2.0})
    >>> len(got["a"].area_cells), len(got["b"].area_cells), got["a"].ceded_cells
    (6, 9, 3)
    >>> got["a"].split_with
    ('b',)
    """
    strength = strength or {}
    tiers = tiers or {}
    reach = {mid: buffer_cells(cells, cell_size, buffer) for mid, cells in footprints.items()}
    claims: dict[tuple[float, float], list[str]] = {}
    for mid in sorted(reach):
        for cell in reach[mid]:
            claims.setdefault(cell, []).append(mid)
    centres = {mid: np.asarray(cells, dtype=np.float64) for mid, cells in footprints.items()}
    held: dict[str, list[tuple[float, float]]] = {mid: [] for mid in footprints}
    shared: dict[str, set[str]] = {mid: set() for mid in footprints}
    for cell, owners in claims.items():
        if len(owners) == 1:
            held[owners[0]].append(cell)
            continue
        point = np.asarray(cell, dtype=np.float64)

        def order(mid: str, point: np.ndarray = point) -> tuple[int, float, float, str]:
            # corners differ from centres by the same half cell, so corner distances serve
            dist = float(np.hypot(*(centres[mid] - point).T).min())
            return (tiers.get(mid, 0), dist, -float(strength.get(mid, 0.0)), mid)

        winner = min(owners, key=order)
        held[winner].append(cell)
        for mid in owners:
            shared[mid].update(o for o in owners if o != mid)
    return {
        mid: Allocation(
            area_cells=sorted_cells(held[mid]),
            split_with=tuple(sorted(shared[mid])),
            ceded_cells=len(reach[mid]) - len(held[mid]),
        )
        for mid in footprints
    }
