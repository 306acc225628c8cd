"""Getis–Ord local Gi* hot spots with binary distance-band weights (Ord & Getis 1995).

For a study area of :math:`n` locations with values :math:`y_j` (e.g. harm in days per cell),
binary weights :math:`w_{ij} = 1` when location :math:`j` is within the distance band
:math:`d` of location :math:`i` (inclusive, :math:`i` itself included) and 0 otherwise, the
standardised statistic is

.. math::

    z_i = \\frac{\\sum_j w_{ij} y_j - \\bar y \\, W_i}
               {s \\sqrt{\\left(n W_i - W_i^2\\right) / (n - 1)}},
    \\qquad W_i = \\sum_j w_{ij},

with :math:`\\bar y` the mean and :math:`s` the population standard deviation
(:math:`s^2 = n^{-1} \\sum_j (y_j - \\bar y)^2`) over *all* study-area locations, zeros
included. This is exactly ``esda.G_Local(y, w, transform='B', star=True).Zs`` (DESIGN §6). The
numerator is computed as :math:`\\sum_j w_{ij} (y_j - \\bar y)` and :math:`s` from centred
values, both in float64, which avoids the cancellation of the textbook
:math:`E[y^2] - \\bar y^2` form when values are large.

Neighbour sums are never a Python loop over locations:

- **grid**: when the locations are the cells of a regular lattice (detected automatically), the
  values go on a dense raster and the neighbour sum is a 2-D correlation with the disc of lattice
  offsets within the band (``scipy.ndimage.correlate`` for small discs, row-wise summed-area
  differences for large ones); locations missing from the raster count as outside the study
  area, not as zeros;
- **kdtree**: otherwise all pairs within the band come from ``scipy.spatial.cKDTree.query_pairs``
  and the sums are one sparse matrix product.

Both accept a stack of periods (``values`` of shape ``(periods, n)``) and reuse the neighbour
structure across periods. Where the statistic is undefined — every value equal (:math:`s = 0`)
or a band covering the whole study area (:math:`W_i = n`) — ``z`` is 0 (no evidence of
clustering) rather than esda's NaN, so such periods do not break trend tests downstream.

References
----------
.. [1] Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
   issues and an application. *Geographical Analysis*, 27(4), 286–306.
.. [2] Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance
   statistics. *Geographical Analysis*, 24(3), 189–206.
.. [3] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical
   and powerful approach to multiple testing. *J. R. Stat. Soc. B*, 57(1), 289–300.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

# SciPy's submodules load inside the functions that use them: ``harmscope.places`` imports
# this module for its ``gi_star`` re-export, and every command imports ``harmscope.places``
# (issue 13: start-up cost). The normal tail comes from ``scipy.special.ndtr`` rather than
# ``scipy.stats.norm``, which alone adds about a second to each command's start-up.
if TYPE_CHECKING:
    from scipy import sparse

__all__ = [
    "CATEGORIES",
    "GiStarResult",
    "Method",
    "gi_bins",
    "gi_star",
    "gi_star_test",
    "two_sided_p",
]

Method = Literal["auto", "grid", "kdtree"]

CATEGORIES: dict[int, str] = {
    3: "hot_99",
    2: "hot_95",
    1: "hot_90",
    0: "not_significant",
    -1: "cold_90",
    -2: "cold_95",
    -3: "cold_99",
}
"""Label of each Gi bin (Esri ``Gi_Bin`` convention): confidence 99/95/90 % by FDR-adjusted p."""

# Discs with more lattice offsets than this use row-wise summed areas instead of a direct
# correlation: cost O(rows of the disc) instead of O(offsets) per cell.
_DIRECT_MAX_OFFSETS = 81
# A lattice is used only if its bounding raster is at most this many times the locations.
_MAX_RASTER_FILL = 4.0
# Tolerance, as a fraction of the lattice step, for coordinates to count as on the lattice.
_LATTICE_RTOL = 1e-6


class _Neighbours(Protocol):
    @property
    def cardinality(self) -> NDArray[np.float64]: ...

    def local_sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]: ...


@dataclass(frozen=True)
class _PairNeighbours:
    """Distance-band neighbours as a sparse binary matrix with ones on the diagonal."""

    matrix: sparse.csr_matrix
    cardinality: NDArray[np.float64]

    def local_sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((self.matrix @ values.T).T, dtype=np.float64)


@dataclass(frozen=True)
class _GridNeighbours:
    """Distance-band neighbours of lattice cells as a disc kernel over a dense raster."""

    iy: NDArray[np.intp]
    ix: NDArray[np.intp]
    shape: tuple[int, int]
    kernel: NDArray[np.float64]
    cardinality: NDArray[np.float64]

    def local_sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        lead = values.shape[:-1]
        raster = np.zeros((*lead, *self.shape), dtype=np.float64)
        raster[..., self.iy, self.ix] = values
        summed = _disc_sum(raster, self.kernel)
        return summed[..., self.iy, self.ix]


def _disc_sum(raster: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    """Sum of ``raster`` over the ``kernel`` footprint around every cell (zeros outside)."""
    if int(kernel.sum()) <= _DIRECT_MAX_OFFSETS:
        from scipy import ndimage

        k = kernel.reshape((1,) * (raster.ndim - 2) + kernel.shape)
        return np.asarray(ndimage.correlate(raster, k, mode="constant", cval=0.0))
    # Row decomposition: the disc is, for each row offset dy, a horizontal run [-h, h].
    ky, kx = kernel.shape
    ry, rx = ky // 2, kx // 2
    ny, nx = raster.shape[-2:]
    pad = [(0, 0)] * (raster.ndim - 2) + [(ry, ry), (rx + 1, rx)]
    padded = np.pad(raster, pad)
    prefix = np.cumsum(padded, axis=-1)  # prefix[..., c] = sum of padded[..., :c + 1]
    out = np.zeros_like(raster)
    cols = np.arange(nx) + rx + 1  # column of each cell in the padded raster
    for dy in range(-ry, ry + 1):
        row = kernel[dy + ry]
        if not row.any():
            continue
        h = int(np.flatnonzero(row).max()) - rx
        rows = slice(ry + dy, ry + dy + ny)
        out += prefix[..., rows, cols + h] - prefix[..., rows, cols - h - 1]
    return out


def _lattice_step(coord: NDArray[np.float64]) -> tuple[float, NDArray[np.intp]] | None:
    """Spacing and integer index of coordinates on a regular 1-D lattice, else ``None``."""
    unique = np.unique(coord)
    if unique.size == 1:
        return 0.0, np.zeros(coord.shape, dtype=np.intp)
    step = float(np.diff(unique).min())
    scale = float(np.abs(unique).max())
    k = (coord - unique[0]) / step
    idx = np.rint(k)
    # Off-lattice by less than a millionth of a step, or by float rounding of the coordinates.
    tol = _LATTICE_RTOL * step + 16 * np.finfo(np.float64).eps * scale
    if not np.all(np.abs(k - idx) * step <= tol):
        return None
    return step, idx.astype(np.intp)


def _grid_neighbours(xy: NDArray[np.float64], distance: float) -> _GridNeighbours | None:
    """Build lattice neighbours if ``xy`` are distinct cells of one regular lattice."""
    n = xy.shape[0]
    lx = _lattice_step(xy[:, 0])
    ly = _lattice_step(xy[:, 1])
    if lx is None or ly is None:
        return None
    (sx, ix), (sy, iy) = lx, ly
    if sx == 0.0 and sy == 0.0:
        return None  # a single distinct location; nothing to gain
    sx = sx or sy
    sy = sy or sx
    nx, ny = int(ix.max()) + 1, int(iy.max()) + 1
    if nx * ny > _MAX_RASTER_FILL * n + 4096:
        return None
    occupancy = np.zeros((ny, nx), dtype=np.int64)
    np.add.at(occupancy, (iy, ix), 1)
    if occupancy.max() > 1:
        return None  # duplicate locations: the raster cannot hold them
    rx = min(math.floor(distance / sx), nx - 1)
    ry = min(math.floor(distance / sy), ny - 1)
    oy, ox = np.mgrid[-ry : ry + 1, -rx : rx + 1]
    dx, dy = ox * sx, oy * sy
    kernel = (dx * dx + dy * dy <= distance * distance).astype(np.float64)
    cardinality = _disc_sum(occupancy.astype(np.float64), kernel)[iy, ix]
    return _GridNeighbours(iy, ix, (ny, nx), kernel, np.rint(cardinality))


def _pair_neighbours(xy: NDArray[np.float64], distance: float) -> _PairNeighbours:
    from scipy import sparse
    from scipy.spatial import cKDTree

    n = xy.shape[0]
    pairs = cKDTree(xy).query_pairs(distance, p=2.0, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    diag = np.arange(n)
    rows = np.concatenate([i, j, diag])
    cols = np.concatenate([j, i, diag])
    matrix = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    cardinality = (np.bincount(i, minlength=n) + np.bincount(j, minlength=n) + 1).astype(np.float64)
    return _PairNeighbours(matrix, cardinality)


def _neighbours(xy: NDArray[np.float64], distance: float, method: Method) -> _Neighbours:
    if method not in ("auto", "grid", "kdtree"):
        raise ValueError(f"method must be 'auto', 'grid' or 'kdtree', got {method!r}")
    if method != "kdtree":
        grid = _grid_neighbours(xy, distance)
        if grid is not None:
            return grid
        if method == "grid":
            raise ValueError(
                "method='grid' needs distinct locations on one regular lattice "
                "(cell corners or centres from harmscope.places.grid)"
            )
    return _pair_neighbours(xy, distance)


def _validate(
    values: ArrayLike, xy: ArrayLike, distance: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y = np.asarray(values, dtype=np.float64)
    pts = np.asarray(xy, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"xy must have shape (n, 2), got {pts.shape}")
    n = pts.shape[0]
    if y.ndim not in (1, 2) or y.shape[-1] != n:
        raise ValueError(f"values must have shape ({n},) or (periods, {n}), got {y.shape}")
    if n < 2:
        raise ValueError("Gi* needs at least two locations")
    if not np.all(np.isfinite(pts)):
        raise ValueError("xy holds NaN or infinite coordinates")
    if not np.all(np.isfinite(y)):
        raise ValueError("values hold NaN or infinite entries; use 0 for cells with no harm")
    if not (math.isfinite(distance) and distance >= 0):
        raise ValueError(f"distance must be a finite band >= 0 in coordinate units, got {distance}")
    return y, pts


def _z_scores(y: NDArray[np.float64], nb: _Neighbours) -> NDArray[np.float64]:
    n = y.shape[-1]
    centred = y - y.mean(axis=-1, keepdims=True)
    s = np.sqrt(np.mean(centred * centred, axis=-1, keepdims=True))
    local = nb.local_sum(centred)
    w = nb.cardinality
    spread = np.sqrt(w * (n - w) / (n - 1))
    den = s * spread
    z = np.zeros(np.broadcast_shapes(local.shape, den.shape), dtype=np.float64)
    np.divide(local, den, out=z, where=den > 0)
    return z


def gi_star(
    values: ArrayLike, xy: ArrayLike, distance: float, *, method: Method = "auto"
) -> NDArray[np.float64]:
    """Standardised Getis–Ord Gi* (z-score) with binary distance-band weights, self included.

    Parameters
    ----------
    values : array_like, shape (n,) or (periods, n)
        Value of every study-area location (e.g. harm in days per cell), zeros included.
        Rows of a 2-D array are independent periods sharing the same locations.
    xy : array_like, shape (n, 2)
        Location coordinates, metres (EPSG:27700) for grid cells.
    distance : float
        Distance band, same unit as ``xy``: locations at most this far apart are neighbours
        (inclusive). With 250 m cells, 375 m (1.5 cells) gives the 3 × 3 block.
    method : {'auto', 'grid', 'kdtree'}, default 'auto'
        Neighbour-sum strategy; ``'auto'`` uses the raster when ``xy`` are distinct cells of one
        regular lattice and the KD-tree otherwise. The result does not depend on it.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``values``
        Gi* z-scores; 0 where the statistic is undefined (constant values, or a band that covers
        every location).

    Raises
    ------
    ValueError
        On shape mismatch, non-finite input, a negative band, or ``method='grid'`` for
        locations that are not a lattice.

    See Also
    --------
    gi_star_test : z with two-sided p, FDR-adjusted p and hot/cold categories.

    References
    ----------
    Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional
    issues and an application. *Geographical Analysis*, 27(4), 286–306.

    Examples
    --------
    The reference check of DESIGN §6:

    >>> xy = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    >>> gi_star([2, 3, 3.2, 5, 8, 7], xy, 15).round(8).tolist()
    [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]
    """
    y, pts = _validate(values, xy, distance)
    return _z_scores(y, _neighbours(pts, float(distance), method))


@dataclass(frozen=True)
class GiStarResult:
    """Gi* z-scores with their inference, aligned with the input locations.

    Attributes
    ----------
    z : numpy.ndarray of float64
        Gi* z-scores, shape ``(n,)`` or ``(periods, n)``.
    p : numpy.ndarray of float64
        Two-sided p-value under the normal approximation, :math:`2\\,(1 - \\Phi(|z|))`.
    p_fdr : numpy.ndarray of float64
        Benjamini–Hochberg adjusted p-value, computed per period (per row).
    gi_bin : numpy.ndarray of int8
        +3/+2/+1 for hot spots with ``p_fdr`` at most 0.01/0.05/0.10, the negative mirror for
        cold spots, 0 otherwise (Esri's ``Gi_Bin`` with FDR correction).
    category : numpy.ndarray of str
        Label of ``gi_bin`` from :data:`CATEGORIES` (``'hot_99'`` … ``'cold_99'``).
    cardinality : numpy.ndarray of int64, shape (n,)
        :math:`W_i`: locations in the band around each location, itself included.
    """

    z: NDArray[np.float64]
    p: NDArray[np.float64]
    p_fdr: NDArray[np.float64]
    gi_bin: NDArray[np.int8]
    category: NDArray[np.str_]
    cardinality: NDArray[np.int64]


def gi_bins(z: ArrayLike, p_fdr: ArrayLike) -> NDArray[np.int8]:
    """Confidence bins from z and adjusted p: ±3 (99 %), ±2 (95 %), ±1 (90 %), 0.

    Parameters
    ----------
    z : array_like
        Gi* z-scores (only the sign is used).
    p_fdr : array_like
        Adjusted p-values, same shape.

    Returns
    -------
    numpy.ndarray of int8
        Signed confidence level of each location.
    """
    za = np.asarray(z, dtype=np.float64)
    pa = np.asarray(p_fdr, dtype=np.float64)
    level = (pa <= 0.10).astype(np.int8) + (pa <= 0.05) + (pa <= 0.01)
    return (np.sign(za).astype(np.int8) * level).astype(np.int8)


def two_sided_p(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided normal p-value of each z: ``2 * P(Z > |z|)``.

    Bit for bit ``2 * scipy.stats.norm.sf(abs(z))`` (whose survival function is
    ``scipy.special.ndtr(-x)``), without importing :mod:`scipy.stats`.
    """
    from scipy.special import ndtr

    return np.asarray(2.0 * ndtr(-np.abs(z)), dtype=np.float64)


def _bh_adjust(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p over the last axis: the steps of
    ``scipy.stats.false_discovery_control(p, axis=-1, method='bh')`` (SciPy 1.16), the same
    floating-point operations in the same order, without importing :mod:`scipy.stats`."""
    ps = np.asarray(p)
    if not (np.issubdtype(ps.dtype, np.number) and np.all(ps == np.clip(ps, 0, 1))):
        raise ValueError("`ps` must include only numbers between 0 and 1.")
    if ps.size <= 1 or ps.shape[-1] <= 1:
        return np.asarray(ps[()], dtype=np.float64)
    m = ps.shape[-1]
    order = np.argsort(ps, axis=-1)
    ps = np.take_along_axis(ps, order, axis=-1)  # a copy
    i = np.arange(1, m + 1)
    ps *= m / i
    np.minimum.accumulate(ps[..., ::-1], out=ps[..., ::-1], axis=-1)
    np.put_along_axis(ps, order, values=ps.copy(), axis=-1)
    return np.asarray(np.clip(ps, 0, 1), dtype=np.float64)


def gi_star_test(
    values: ArrayLike, xy: ArrayLike, distance: float, *, method: Method = "auto"
) -> GiStarResult:
    """Gi* z-scores with two-sided p, Benjamini–Hochberg FDR p and hot/cold categories.

    Parameters
    ----------
    values : array_like, shape (n,) or (periods, n)
        Value of every study-area location, zeros included; one row per period if 2-D.
    xy : array_like, shape (n, 2)
        Location coordinates (metres for grid cells).
    distance : float
        Inclusive distance band, same unit as ``xy``.
    method : {'auto', 'grid', 'kdtree'}, default 'auto'
        Neighbour-sum strategy (see :func:`gi_star`).

    Returns
    -------
    GiStarResult
        ``z``, ``p``, ``p_fdr``, ``gi_bin``, ``category`` and ``cardinality``.

    Notes
    -----
    The false discovery rate is controlled over the locations of one period (Benjamini &
    Hochberg 1995, as ``scipy.stats.false_discovery_control(method='bh')``), as Esri's hot spot
    tools do with their FDR option; the category uses the adjusted p, so "hot_95" means the
    location is a hot spot at a 5 % false discovery rate.

    Examples
    --------
    >>> xy = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
    >>> r = gi_star_test([2, 3, 3.2, 5, 8, 7], xy, 15)
    >>> r.p.round(4).tolist()
    [0.1623, 0.7724, 0.5153, 0.7724, 0.217, 0.0429]
    >>> r.category.tolist()
    ['not_significant', 'not_significant', 'not_significant', 'not_significant', \
'not_significant', 'not_significant']
    """
    y, pts = _validate(values, xy, distance)
    nb = _neighbours(pts, float(distance), method)
    z = _z_scores(y, nb)
    p = two_sided_p(z)
    p_fdr = _bh_adjust(p)
    bins = gi_bins(z, p_fdr)
    labels = np.array([CATEGORIES[k] for k in range(-3, 4)])
    return GiStarResult(
        z=z,
        p=p,
        p_fdr=p_fdr,
        gi_bin=bins,
        category=labels[bins.astype(np.intp) + 3],
        cardinality=nb.cardinality.astype(np.int64),
    )
