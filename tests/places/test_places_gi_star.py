"""Gi*: the DESIGN §6 reference values, equality with esda, both neighbour strategies, FDR."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from esda.getisord import G_Local
from hypothesis import given, settings
from hypothesis import strategies as st
from libpysal.weights import DistanceBand
from numpy.testing import assert_allclose, assert_array_equal

from harmscope.places.gi_star import CATEGORIES, gi_bins, gi_star, gi_star_test
from harmscope.places.grid import cell_coordinates, study_area_cells, values_on_cells

REF_XY = [(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)]
REF_Y = [2, 3, 3.2, 5, 8, 7]
REF_Z = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331]


def esda_z(values: np.ndarray, xy: np.ndarray, distance: float) -> np.ndarray:
    with warnings.catch_warnings():  # islands are expected in a study area with holes
        warnings.simplefilter("ignore", UserWarning)
        w = DistanceBand(xy, threshold=distance, binary=True, silence_warnings=True)
        return G_Local(values, w, transform="B", star=True, permutations=0).Zs


def lattice(nx: int, ny: int, size: float = 250.0) -> np.ndarray:
    gy, gx = np.divmod(np.arange(nx * ny), nx)
    return np.column_stack([530_000 + gx * size, 180_000 + gy * size]).astype(np.float64)


@pytest.mark.parametrize("method", ["auto", "grid", "kdtree"])
def test_design_reference_values(method: str) -> None:
    # The six points happen to sit on a 5 x 10 lattice, so 'grid' applies too.
    assert_allclose(gi_star(REF_Y, REF_XY, 15, method=method), REF_Z, atol=5e-9)  # type: ignore[arg-type]


def test_design_reference_equals_esda() -> None:
    xy = np.array(REF_XY, dtype=float)
    assert_allclose(esda_z(np.array(REF_Y, dtype=float), xy, 15), REF_Z, atol=5e-9)


@pytest.mark.parametrize(
    ("band", "nx", "ny"),
    [(250.0, 40, 30), (375.0, 40, 30), (600.0, 40, 30), (1250.0, 30, 25), (2600.0, 24, 18)],
)
def test_lattice_equals_esda(band: float, nx: int, ny: int) -> None:
    # Bands from rook (250 m) through 3 x 3 (375 m) to a disc of 10 cells radius, which uses
    # the summed-area path rather than the direct correlation.
    rng = np.random.default_rng(7)
    xy = lattice(nx, ny)
    harm = rng.poisson(0.4, xy.shape[0]) * rng.choice([1.0, 2.0, 230.89, 365.0], xy.shape[0])
    expected = esda_z(harm, xy, band)
    for method in ("grid", "kdtree"):
        assert_allclose(gi_star(harm, xy, band, method=method), expected, rtol=0, atol=1e-9)  # type: ignore[arg-type]


def test_irregular_points_equal_esda() -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 2_000, size=(400, 2))
    y = rng.gamma(0.5, 10.0, size=400)
    z = gi_star(y, xy, 300.0)
    assert_allclose(z, esda_z(y, xy, 300.0), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="regular lattice"):
        gi_star(y, xy, 300.0, method="grid")


def test_lattice_with_holes_keeps_missing_cells_outside(city_events: pd.DataFrame) -> None:
    # Real data: City of London street crime, 250 m cells within 500 m of any event, so the
    # study area is an irregular set of lattice cells (holes where the far-off strays are).
    cx, cy = cell_coordinates(city_events["x"], city_events["y"])
    ax, ay = study_area_cells(cx, cy, within=500)
    counts = values_on_cells(cx, cy, np.ones(cx.size), ax, ay)
    xy = np.column_stack([ax, ay])
    for band in (375.0, 750.0):
        expected = esda_z(counts, xy, band)
        assert_allclose(gi_star(counts, xy, band), expected, rtol=0, atol=1e-9)
        assert_allclose(gi_star(counts, xy, band, method="kdtree"), expected, rtol=0, atol=1e-9)
    # The busiest cells of the City (around Bank and Liverpool Street) are hot spots.
    r = gi_star_test(counts, xy, 375.0)
    assert r.category[np.argmax(counts)] == "hot_99"


@settings(max_examples=40, deadline=None)
@given(
    nx=st.integers(2, 12),
    ny=st.integers(1, 12),
    band_cells=st.floats(0.0, 7.0),  # above ~5.1 cells: summed-area path
    seed=st.integers(0, 2**32 - 1),
    drop=st.floats(0.0, 0.5),
)
def test_grid_and_kdtree_agree(nx: int, ny: int, band_cells: float, seed: int, drop: float) -> None:
    rng = np.random.default_rng(seed)
    xy = lattice(nx, ny, size=100.0)
    keep = rng.random(xy.shape[0]) >= drop
    keep[:2] = True
    xy = xy[keep]
    values = rng.poisson(2.0, size=(3, xy.shape[0])).astype(float)
    a = gi_star(values, xy, band_cells * 100.0, method="kdtree")
    b = gi_star(values, xy, band_cells * 100.0)
    assert_allclose(b, a, rtol=0, atol=1e-9)


def test_periods_equal_separate_calls() -> None:
    rng = np.random.default_rng(11)
    xy = lattice(15, 9)
    values = rng.poisson(1.0, size=(4, xy.shape[0])).astype(float)
    stacked = gi_star(values, xy, 375.0)
    for t in range(4):
        assert_array_equal(stacked[t], gi_star(values[t], xy, 375.0))
    r = gi_star_test(values, xy, 375.0)
    for t in range(4):
        assert_array_equal(r.p_fdr[t], gi_star_test(values[t], xy, 375.0).p_fdr)


def test_variance_is_numerically_stable_under_a_large_offset() -> None:
    # z is invariant to adding a constant; the textbook E[y^2] - mean^2 form loses every
    # digit at an offset of 1e9 while the centred form keeps them.
    rng = np.random.default_rng(5)
    xy = lattice(20, 20)
    y = rng.poisson(3.0, xy.shape[0]).astype(float)
    assert_allclose(gi_star(y + 1e9, xy, 375.0), gi_star(y, xy, 375.0), rtol=0, atol=1e-6)


def test_undefined_statistic_is_zero() -> None:
    xy = lattice(4, 4)
    assert_array_equal(gi_star(np.full(16, 3.0), xy, 375.0), np.zeros(16))
    # A band covering the whole area: W_i = n for every cell.
    assert_array_equal(gi_star(np.arange(16.0), xy, 10_000.0), np.zeros(16))


def test_band_smaller_than_cells_is_standardised_value() -> None:
    # W_i = 1: z_i = (y_i - mean) / s.
    y = np.array([1.0, 2.0, 3.0, 10.0])
    z = gi_star(y, lattice(2, 2), 10.0)
    assert_allclose(z, (y - y.mean()) / y.std(), atol=1e-12)


def test_p_values_and_benjamini_hochberg() -> None:
    r = gi_star_test(REF_Y, REF_XY, 15)
    # Two-sided normal p = erfc(|z| / sqrt 2) of the reference z.
    assert_allclose(r.p, [math.erfc(abs(z) / math.sqrt(2)) for z in REF_Z], rtol=1e-7)
    # BH by hand: sorted p times n / rank, then a running minimum from the largest.
    order = np.argsort(r.p)
    ranked = r.p[order] * 6 / np.arange(1, 7)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    expected = np.empty(6)
    expected[order] = np.minimum(adjusted, 1.0)
    assert_allclose(r.p_fdr, expected, atol=1e-15)
    # By hand: 0.042945 x 6 = 0.257671; 0.162331 x 3 = 0.48699 and 0.217009 x 2 = 0.434018
    # -> both 0.434018; 0.515273 x 1.5 = 0.77291 and the two 0.772445 -> 0.772445.
    assert_allclose(
        r.p_fdr, [0.434018, 0.772445, 0.772445, 0.772445, 0.434018, 0.257671], atol=1e-6
    )
    assert r.cardinality.tolist() == [3, 4, 2, 4, 5, 2]
    assert set(r.category) == {"not_significant"}


def test_confidence_bins_and_labels() -> None:
    z = np.array([4.0, 2.5, 1.8, 0.3, -1.8, -2.5, -4.0, 1.0])
    p = np.array([0.001, 0.03, 0.08, 0.7, 0.09, 0.04, 0.005, 0.10])
    assert gi_bins(z, p).tolist() == [3, 2, 1, 0, -1, -2, -3, 1]
    assert [CATEGORIES[b] for b in gi_bins(z, p)] == [
        "hot_99",
        "hot_95",
        "hot_90",
        "not_significant",
        "cold_90",
        "cold_95",
        "cold_99",
        "hot_90",
    ]


def test_strong_cluster_is_a_hot_spot_and_fdr_is_per_period() -> None:
    xy = lattice(30, 30)
    y = np.zeros((2, 900))
    centre = 15 * 30 + 15
    block = [centre + dy * 30 + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    y[0, block] = 50.0
    y[1, ::7] = 1.0  # no cluster in the second period
    r = gi_star_test(y, xy, 375.0)
    assert r.category[0, centre] == "hot_99"
    assert r.gi_bin[0, centre] == 3
    assert (r.gi_bin[1] == 0).all()


@pytest.mark.parametrize(
    ("values", "xy", "distance", "match"),
    [
        ([1.0, 2.0], [(0, 0), (1, 1), (2, 2)], 1.0, "values must have shape"),
        ([1.0, 2.0], [0, 1], 1.0, "xy must have shape"),
        ([1.0], [(0, 0)], 1.0, "at least two"),
        ([1.0, np.nan], [(0, 0), (1, 1)], 1.0, "NaN"),
        ([1.0, 2.0], [(0, 0), (np.inf, 1)], 1.0, "NaN or infinite"),
        ([1.0, 2.0], [(0, 0), (1, 1)], -1.0, "band"),
    ],
)
def test_bad_input(values: object, xy: object, distance: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gi_star(values, xy, distance)  # type: ignore[arg-type]


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="method"):
        gi_star(REF_Y, REF_XY, 15, method="fft")  # type: ignore[arg-type]


def test_tails_and_fdr_are_scipy_stats_bit_for_bit() -> None:
    # gi_star_test and mann_kendall avoid importing scipy.stats (a second of start-up); their
    # p and FDR p must stay exactly what scipy.stats gives.
    from scipy import stats

    from harmscope.places.gi_star import _bh_adjust, two_sided_p

    rng = np.random.default_rng(7)
    z = rng.normal(0, 3, size=(4, 500))
    z[:, :20] = 0.0  # ties and p = 1
    z[0, 20:30] = [40.0, -40.0, 1e-12, -1e-12, 5, 5, 5, -5, np.inf, -np.inf]
    p = two_sided_p(z)
    assert_array_equal(p, 2.0 * stats.norm.sf(np.abs(z)))
    assert_array_equal(
        _bh_adjust(p), np.asarray(stats.false_discovery_control(p, axis=-1, method="bh"))
    )
    assert_array_equal(
        _bh_adjust(p[1]), np.asarray(stats.false_discovery_control(p[1], method="bh"))
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        _bh_adjust(np.array([0.5, np.nan]))
