"""Grid cells (Ibis and numpy forms), study areas with zero cells, values on cells."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from harmscope.places.grid import (
    cell_coordinates,
    study_area_cells,
    values_on_cells,
    with_cells,
)


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def test_cell_corners_hand_computed() -> None:
    # Edges belong to the cell above/right; 249.999 stays in the first cell.
    cx, cy = cell_coordinates([0.0, 249.999, 250.0, 530_374.9, np.nan], [0, 0, 500, 181_500, 1])
    assert_array_equal(cx[:4], [0.0, 0.0, 250.0, 530_250.0])
    assert_array_equal(cy, [0.0, 0.0, 500.0, 181_500.0, 0.0])
    assert np.isnan(cx[4])


def test_cell_size_is_configurable() -> None:
    cx, cy = cell_coordinates([1_049.0, 1_050.0], [99.0, 100.0], cell_size=100)
    assert_array_equal(cx, [1_000.0, 1_000.0])
    assert_array_equal(cy, [0.0, 100.0])


def test_with_cells_matches_numpy_including_nulls(con: ibis.BaseBackend) -> None:
    x = [0.0, 249.999, 250.0, 530_374.9, None, -10.0]
    y = [0.0, 0.0, 500.0, 181_500.0, 7.0, -250.0]
    expr = with_cells(ibis.memtable({"x": x, "y": y}))
    assert expr.schema()["cell_x"].is_integer()
    out = con.execute(expr)
    expect_x, expect_y = cell_coordinates(np.array(x, dtype=float), np.array(y, dtype=float))
    got_x = out["cell_x"].astype("float64").to_numpy()
    got_y = out["cell_y"].astype("float64").to_numpy()
    assert_array_equal(got_x[[0, 1, 2, 3, 5]], expect_x[[0, 1, 2, 3, 5]])
    assert_array_equal(got_y, expect_y)
    assert pd.isna(out["cell_x"].iloc[4])


def test_with_cells_non_integer_size_gives_floats(con: ibis.BaseBackend) -> None:
    t = ibis.memtable({"x": [100.0, 187.6], "y": [0.0, 62.5]})
    out = con.execute(with_cells(t, cell_size=62.5, cell_x="cx", cell_y="cy"))
    assert out["cx"].tolist() == [62.5, 187.5]
    assert out["cy"].tolist() == [0.0, 62.5]


def test_with_cells_on_real_city_of_london_points(
    con: ibis.BaseBackend, city_events: pd.DataFrame
) -> None:
    events = city_events[["x", "y"]].reset_index(drop=True)
    out = con.execute(with_cells(ibis.memtable(events)).order_by(["x", "y"]))
    ordered = events.sort_values(["x", "y"]).reset_index(drop=True)
    cx, cy = cell_coordinates(ordered["x"], ordered["y"])
    assert_array_equal(out["cell_x"].to_numpy(dtype=float), cx)
    assert_array_equal(out["cell_y"].to_numpy(dtype=float), cy)
    # The City of London (about 3 km²): 99 % of located records fall in 530-534 km E,
    # 179.5-183 km N; a few are snapped far outside (e.g. 425 km E), so a bounding-box study
    # area of all cells would be mostly empty country.
    core = (cx >= 530_000) & (cx < 534_000) & (cy >= 179_500) & (cy < 183_000)
    assert core.mean() > 0.99
    assert 60 < len(set(zip(cx[core], cy[core], strict=True))) < 200
    ax, _ = study_area_cells(cx, cy)
    near, _ = study_area_cells(cx, cy, within=500)
    assert len(ax) > 40_000 and len(near) < 2_000


@pytest.mark.parametrize("bad", [0, -250, float("nan"), float("inf")])
def test_cell_size_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="cell_size"):
        cell_coordinates([1.0], [1.0], cell_size=bad)


def test_study_area_is_bounding_box_with_zero_cells() -> None:
    ax, ay = study_area_cells([0, 500, 500], [250, 0, 0])
    # 3 columns (0, 250, 500) x 2 rows (0, 250), row-major from the south-west.
    assert ax.tolist() == [0, 250, 500, 0, 250, 500]
    assert ay.tolist() == [0, 0, 0, 250, 250, 250]


def test_study_area_margin_widens_box() -> None:
    ax, ay = study_area_cells([1000], [1000], margin=1)
    assert len(ax) == 9
    assert (ax.min(), ax.max(), ay.min(), ay.max()) == (750, 1250, 750, 1250)


def test_study_area_within_distance_of_events() -> None:
    # Two occupied cells 2 km apart: within 250 m keeps each one's 4 rook neighbours (plus
    # itself), not the 9 x 1 box between them.
    ax, ay = study_area_cells([0, 2000], [0, 0], within=250, margin=1)
    cells = set(zip(ax.tolist(), ay.tolist(), strict=True))
    expected = {(0, 0), (250, 0), (-250, 0), (0, 250), (0, -250)}
    expected |= {(2000 + dx, dy) for dx, dy in expected}
    assert cells == expected


def test_study_area_mask_is_exact() -> None:
    ax, ay = study_area_cells([], [], mask=([500, 0, 0, 500], [0, 0, 250, 0]))
    assert list(zip(ax.tolist(), ay.tolist(), strict=True)) == [(0, 0), (500, 0), (0, 250)]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cell_x": [], "cell_y": []}, "empty"),
        ({"cell_x": [10], "cell_y": [0]}, "multiples"),
        ({"cell_x": [0], "cell_y": [0], "margin": -1}, "margin"),
        ({"cell_x": [0], "cell_y": [0], "within": -1.0}, "within"),
    ],
)
def test_study_area_errors(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        study_area_cells(**kwargs)  # type: ignore[arg-type]


def test_values_on_cells_fills_zeros_and_sums_duplicates() -> None:
    ax, ay = study_area_cells([0, 500], [0, 250])
    v = values_on_cells([500, 0, 500], [250, 0, 250], [2.0, 365.0, 3.0], ax, ay)
    assert v.tolist() == [365.0, 0.0, 0.0, 0.0, 0.0, 5.0]
    stacked = values_on_cells([500, 0], [250, 0], [[1.0, 2.0], [3.0, 4.0]], ax, ay)
    assert stacked.tolist() == [[2.0, 0, 0, 0, 0, 1.0], [4.0, 0, 0, 0, 0, 3.0]]


def test_values_outside_study_area_raise_unless_dropped() -> None:
    ax, ay = study_area_cells([0], [0])
    with pytest.raises(
        ValueError, match=r"1 cell\(s\) lie outside the study area, e\.g\. \(250, 0\)"
    ):
        values_on_cells([0, 250], [0, 0], [1.0, 9.0], ax, ay)
    kept = values_on_cells([0, 250], [0, 0], [1.0, 9.0], ax, ay, drop_outside=True)
    assert kept.tolist() == [1.0]
