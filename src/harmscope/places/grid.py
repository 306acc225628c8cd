"""Square grid cells aligned to multiples of the cell size in British National Grid metres.

A cell is named by its lower-left corner ``(cell_x, cell_y)``:

.. math::

    \\mathrm{cell\\_x} = \\lfloor x / s \\rfloor \\, s, \\qquad
    \\mathrm{cell\\_y} = \\lfloor y / s \\rfloor \\, s

with ``x``, ``y`` eastings and northings in metres (EPSG:27700) and ``s`` the cell size in metres
(default 250 m). A point on a cell edge belongs to the cell above / to the right of it, so each
point is in exactly one cell. Because cells are aligned to the national grid origin, cells of
the same size from different forces, periods or engines always line up.

Two forms compute the same cells:

- :func:`with_cells` is an Ibis expression over the warehouse ``events`` table, so it runs in
  DuckDB, PySpark or PostgreSQL without engine geometry functions (DESIGN §4);
- :func:`cell_coordinates` is the numpy form for arrays already in memory.

Gi* compares every cell with every other cell *of the study area*, so cells with no events must
be present with a value of zero, otherwise the mean and variance are computed over occupied
cells only and hot spots shrink. :func:`study_area_cells` enumerates the study area (the bounding
box of the occupied cells, optionally limited to cells near an event, or a mask given as cell
lists, e.g. the cells of a force's LSOAs), and :func:`values_on_cells` puts aggregated values on
those cells with explicit zeros.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from harmscope.geo import DEFAULT_CELL_SIZE

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "DEFAULT_CELL_SIZE",
    "cell_coordinates",
    "study_area_cells",
    "values_on_cells",
    "with_cells",
]


def _check_cell_size(cell_size: float) -> None:
    if not (isinstance(cell_size, int | float) and math.isfinite(cell_size) and cell_size > 0):
        raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")


def with_cells(
    table: ir.Table,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    x: str = "x",
    y: str = "y",
    cell_x: str = "cell_x",
    cell_y: str = "cell_y",
) -> ir.Table:
    """Add the grid cell of every row as two columns (an Ibis expression, any engine).

    Parameters
    ----------
    table : ibis.expr.types.Table
        Table with easting and northing columns in metres (EPSG:27700), e.g. the warehouse
        ``events`` table.
    cell_size : float, default 250
        Side of a square cell, metres.
    x, y : str
        Names of the easting and northing columns.
    cell_x, cell_y : str
        Names of the new columns: lower-left corner of the cell, metres. They are ``int64`` when
        ``cell_size`` is an integer and ``float64`` otherwise; NULL where ``x`` or ``y`` is NULL
        (records without a location).

    Returns
    -------
    ibis.expr.types.Table
        ``table`` with the two cell columns added (replaced if they already exist).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"x": [530_010.0, 530_260.0], "y": [181_499.0, 181_500.0]})
    >>> ibis.duckdb.connect().execute(with_cells(t))[["cell_x", "cell_y"]].values.tolist()
    [[530000, 181250], [530250, 181500]]
    """
    _check_cell_size(cell_size)
    size_is_int = float(cell_size).is_integer()
    size = int(cell_size) if size_is_int else float(cell_size)

    def _corner(col: str) -> ir.NumericValue:
        v = table[col].cast("float64")
        corner = (v / size).floor().cast("int64") * size
        return corner.cast("int64" if size_is_int else "float64")

    return table.mutate(**{cell_x: _corner(x), cell_y: _corner(y)})


def cell_coordinates(
    x: ArrayLike, y: ArrayLike, *, cell_size: float = DEFAULT_CELL_SIZE
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower-left corners of the cells holding points ``(x, y)`` (numpy form of :func:`with_cells`).

    Parameters
    ----------
    x, y : array_like
        Eastings and northings, metres (EPSG:27700). NaN stays NaN.
    cell_size : float, default 250
        Side of a square cell, metres.

    Returns
    -------
    cell_x, cell_y : numpy.ndarray of float64
        ``floor(x / cell_size) * cell_size`` and the same for ``y``, metres.

    Examples
    --------
    >>> cx, cy = cell_coordinates([530_010.0, 530_260.0], [181_499.0, 181_500.0])
    >>> cx.tolist(), cy.tolist()
    ([530000.0, 530250.0], [181250.0, 181500.0])
    """
    _check_cell_size(cell_size)
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in shape: {xa.shape} vs {ya.shape}")
    return np.floor(xa / cell_size) * cell_size, np.floor(ya / cell_size) * cell_size


def _cell_index(
    values: NDArray[np.float64], origin: float, cell_size: float, what: str
) -> NDArray[np.int64]:
    """Integer cell index of corners that must lie on the grid (within 1e-6 of a cell)."""
    k = (values - origin) / cell_size
    idx = np.rint(k)
    if not np.all(np.abs(k - idx) <= 1e-6):
        raise ValueError(
            f"{what} are not multiples of cell_size={cell_size}: pass cell corners "
            "(from with_cells or cell_coordinates), not raw coordinates"
        )
    return idx.astype(np.int64)


def study_area_cells(
    cell_x: ArrayLike,
    cell_y: ArrayLike,
    *,
    cell_size: float = DEFAULT_CELL_SIZE,
    margin: int = 0,
    within: float | None = None,
    mask: tuple[ArrayLike, ArrayLike] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Enumerate every cell of the study area, including those with no events.

    Parameters
    ----------
    cell_x, cell_y : array_like
        Lower-left corners (metres) of the cells that hold at least one event.
        Duplicates are allowed.
    cell_size : float, default 250
        Side of a cell, metres.
    margin : int, default 0
        Widen the bounding box by this many cells on every side (ignored with ``mask``).
    within : float, optional
        Keep only the bounding-box cells whose lower-left corner is within this distance
        (metres, inclusive) of an occupied cell's corner, e.g. to leave out sea and open
        country far from any event in a rural force. ``None`` keeps the whole box.
    mask : (array_like, array_like), optional
        Corners of the cells that make up the study area, e.g. the cells whose centres fall in
        a force's LSOAs or in a user-drawn area (assigned at ingest). When given, the study area
        is exactly these cells; ``margin`` and ``within`` are not used.

    Returns
    -------
    cell_x, cell_y : numpy.ndarray of float64
        Corners of the study-area cells, unique, sorted by ``cell_y`` then ``cell_x`` (row-major
        from the south-west corner).

    Raises
    ------
    ValueError
        If no cell is given, corners are not multiples of ``cell_size``, or ``margin`` or
        ``within`` is negative.

    Notes
    -----
    Esri's Emerging Hot Spot Analysis analyses "locations with at least one point for at least
    one time-step interval" unless a polygon mask is given; the default here (the full bounding
    box) keeps zero cells between the occupied ones, which Gi* needs for its mean and variance.
    The dilation behind ``within`` works on a raster of the box, not a Python loop over cells.
    """
    _check_cell_size(cell_size)
    if mask is not None:
        mx = np.asarray(mask[0], dtype=np.float64).ravel()
        my = np.asarray(mask[1], dtype=np.float64).ravel()
        if mx.shape != my.shape or mx.size == 0:
            raise ValueError("mask must be two non-empty arrays of cell corners of equal length")
        _cell_index(mx, 0.0, cell_size, "mask corners")
        _cell_index(my, 0.0, cell_size, "mask corners")
        pairs = np.unique(np.column_stack([my, mx]), axis=0)
        return pairs[:, 1].copy(), pairs[:, 0].copy()

    cx = np.asarray(cell_x, dtype=np.float64).ravel()
    cy = np.asarray(cell_y, dtype=np.float64).ravel()
    if cx.shape != cy.shape:
        raise ValueError(f"cell_x and cell_y differ in shape: {cx.shape} vs {cy.shape}")
    keep = np.isfinite(cx) & np.isfinite(cy)
    cx, cy = cx[keep], cy[keep]
    if cx.size == 0:
        raise ValueError("no located cells: the study area would be empty")
    if margin < 0:
        raise ValueError(f"margin must be >= 0 cells, got {margin}")
    if within is not None and within < 0:
        raise ValueError(f"within must be >= 0 metres, got {within}")
    ix = _cell_index(cx, 0.0, cell_size, "cell_x")
    iy = _cell_index(cy, 0.0, cell_size, "cell_y")
    x0, y0 = int(ix.min()) - margin, int(iy.min()) - margin
    nx, ny = int(ix.max()) + margin - x0 + 1, int(iy.max()) + margin - y0 + 1
    if within is None:
        gy, gx = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    else:
        # Imported here: few callers dilate, and SciPy's import is slow.
        from scipy import ndimage

        occupied = np.zeros((ny, nx), dtype=bool)
        occupied[iy - y0, ix - x0] = True
        r = math.floor(within / cell_size)
        oy, ox = np.mgrid[-r : r + 1, -r : r + 1]
        disc = (ox * cell_size) ** 2 + (oy * cell_size) ** 2 <= within**2
        area = ndimage.binary_dilation(occupied, structure=disc)
        gy, gx = np.nonzero(area)
    return (gx + x0).astype(np.float64) * cell_size, (gy + y0).astype(np.float64) * cell_size


def values_on_cells(
    cell_x: ArrayLike,
    cell_y: ArrayLike,
    values: ArrayLike,
    area_x: ArrayLike,
    area_y: ArrayLike,
    *,
    drop_outside: bool = False,
) -> NDArray[np.float64]:
    """Put aggregated cell values on the study-area cells, with zeros for empty cells.

    Parameters
    ----------
    cell_x, cell_y : array_like, shape (m,)
        Corners (metres) of the cells that have values; duplicates are summed.
    values : array_like, shape (m,) or (periods, m)
        Value of each cell (e.g. harm in days), one row per period if 2-D.
    area_x, area_y : array_like, shape (n,)
        Corners of the study-area cells (from :func:`study_area_cells`), unique.
    drop_outside : bool, default False
        Silently drop values of cells outside the study area. By default they raise, since
        losing harm without saying so would understate a place.

    Returns
    -------
    numpy.ndarray of float64, shape (n,) or (periods, n)
        Values aligned with ``area_x``, ``area_y``.

    Raises
    ------
    ValueError
        If a cell lies outside the study area and ``drop_outside`` is false, or shapes differ.
    """
    ax = np.asarray(area_x, dtype=np.float64).ravel()
    ay = np.asarray(area_y, dtype=np.float64).ravel()
    cx = np.asarray(cell_x, dtype=np.float64).ravel()
    cy = np.asarray(cell_y, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64)
    if ax.shape != ay.shape or cx.shape != cy.shape:
        raise ValueError("x and y arrays must have equal lengths")
    if v.shape[-1:] != cx.shape or v.ndim > 2:
        raise ValueError(f"values must have shape (m,) or (periods, m) with m={cx.size}")
    area_index = pd.MultiIndex.from_arrays([ax, ay])
    if not area_index.is_unique:
        raise ValueError("study-area cells must be unique")
    pos = area_index.get_indexer(pd.MultiIndex.from_arrays([cx, cy]))
    found = pos >= 0
    if not np.all(found) and not drop_outside:
        bad = int(np.flatnonzero(~found)[0])
        raise ValueError(
            f"{int((~found).sum())} cell(s) lie outside the study area, e.g. "
            f"({cx[bad]:g}, {cy[bad]:g}); widen the area or pass drop_outside=True"
        )
    target = pos[found]
    out = np.zeros(v.shape[:-1] + ax.shape, dtype=np.float64)
    if v.ndim == 1:
        out += np.bincount(target, weights=v[found], minlength=ax.size)
    else:
        for t in range(v.shape[0]):
            out[t] += np.bincount(target, weights=v[t, found], minlength=ax.size)
    return out
