"""hotspots(): ingested real police.uk data to one row per cell (DESIGN §5 contract)."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from harmscope.errors import WarehouseError
from harmscope.places.gi_star import gi_star
from harmscope.places.hotspots import HOTSPOT_COLUMNS, hotspots
from harmscope.warehouse import ibis_connect
from harmscope.warehouse.ingest import ingest_paths

# DESIGN §3: cchi category weights (days); Drugs and Possession of weapons are activity.
HARM_DAYS = {
    "Violence and sexual offences": 230.89,
    "Robbery": 365.00,
    "Burglary": 247.28,
    "Criminal damage and arson": 10.39,
    "Public order": 7.50,
    "Other crime": 10.00,
    "Vehicle crime": 5.00,
    "Theft from the person": 2.00,
    "Bicycle theft": 2.00,
    "Other theft": 2.00,
    "Shoplifting": 1.00,
    "Anti-social behaviour": 1.00,
}
ACTIVITY_DAYS = {"Drugs": 3.39, "Possession of weapons": 273.75}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, city_street_files: list[Path]) -> Path:
    """Six real months (2018-12 to 2019-05) of City of London street crime, ingested."""
    db = tmp_path_factory.mktemp("hotspots") / "w.duckdb"
    ingest_paths(city_street_files[:6], db=db)
    return db


@pytest.fixture(scope="module")
def result(warehouse: Path) -> pd.DataFrame:
    return hotspots(warehouse, harm="all")


@pytest.fixture(scope="module")
def street(warehouse: Path) -> pd.DataFrame:
    backend = ibis_connect(warehouse)
    try:
        t = backend.table("events")
        frame = (
            t.filter(t.source == "street")
            .select("event_type", "month", "x", "y", "lsoa_name")
            .to_pandas()
        )
    finally:
        backend.disconnect()
    frame["cell_x"] = np.floor(frame["x"] / 250) * 250
    frame["cell_y"] = np.floor(frame["y"] / 250) * 250
    return frame


@pytest.fixture(scope="module")
def area(street: pd.DataFrame) -> pd.DataFrame:
    """The study area recomputed by hand: no reference areas are loaded, so it is the cells
    holding a record that police.uk places in an LSOA of the City's own district."""
    own = street["lsoa_name"].fillna("").str.startswith("City of London ")
    return street.loc[own, ["cell_x", "cell_y"]].drop_duplicates()


def in_area(street: pd.DataFrame, area: pd.DataFrame) -> pd.DataFrame:
    """Located records in a study-area cell (the others are strays)."""
    return street.dropna(subset=["x", "y"]).merge(area, on=["cell_x", "cell_y"])


def test_contract_columns_and_one_row_per_cell(result: pd.DataFrame) -> None:
    assert tuple(result.columns) == HOTSPOT_COLUMNS
    assert tuple(result.columns[:7]) == (
        "cell_x",
        "cell_y",
        "name",
        "harm",
        "gi_z",
        "p_fdr",
        "category",
    )
    assert not result.duplicated(["cell_x", "cell_y"]).any()
    assert (result["cell_x"] % 250 == 0).all() and (result["cell_y"] % 250 == 0).all()
    assert result["gi_z"].is_monotonic_decreasing
    assert result.attrs["cells"] == len(result)


def test_study_area_is_the_forces_own_cells_and_strays_are_counted(
    result: pd.DataFrame, street: pd.DataFrame, area: pd.DataFrame
) -> None:
    got = set(zip(result["cell_x"].astype(float), result["cell_y"].astype(float), strict=True))
    assert got == set(zip(area["cell_x"], area["cell_y"], strict=True))
    info = result.attrs["study_area"]
    located = street.dropna(subset=["x", "y"])
    assert info["cells"] == len(area) == len(result)
    assert info["located"] == len(located)
    assert info["strays"] == len(located) - len(in_area(street, area)) > 0
    assert "City of London" in info["label"]


def test_harm_and_activity_totals_match_design_weights(
    result: pd.DataFrame, street: pd.DataFrame, area: pd.DataFrame
) -> None:
    located = in_area(street, area)
    harm = located["event_type"].map(HARM_DAYS).fillna(0).sum()
    # Police activity is counted, one per event, not weighed in days (issue 8 item 8).
    activity = located["event_type"].isin(ACTIVITY_DAYS).sum()
    assert set(located["event_type"]) <= set(HARM_DAYS) | set(ACTIVITY_DAYS)
    assert result["harm"].sum() == pytest.approx(harm, rel=1e-9)
    assert result["activity"].sum() == pytest.approx(activity, rel=1e-9)
    assert result["harm_events"].sum() == located["event_type"].isin(HARM_DAYS).sum()
    # Per cell too: the busiest harm cell recomputed by hand from the events.
    top = result.loc[result["harm"].idxmax()]
    in_cell = located[
        (np.floor(located["x"] / 250) * 250 == top["cell_x"])
        & (np.floor(located["y"] / 250) * 250 == top["cell_y"])
    ]
    assert top["harm"] == pytest.approx(in_cell["event_type"].map(HARM_DAYS).fillna(0).sum())


def test_gi_star_on_the_study_area_matches(result: pd.DataFrame) -> None:
    xy = result[["cell_x", "cell_y"]].to_numpy(dtype=float)
    assert_allclose(result["gi_z"], gi_star(result["harm"], xy, 375.0), rtol=0, atol=1e-12)
    hot = result[result["category"].str.startswith("hot")]
    assert (hot["p_fdr"] <= 0.10).all() and (hot["gi_z"] > 0).all()


def test_count_scheme_counts_events(warehouse: Path, result: pd.DataFrame) -> None:
    counted = hotspots(warehouse, harm="all", scheme="count")
    assert_array_equal(counted["harm"], counted["harm_events"])
    merged = counted.merge(result, on=["cell_x", "cell_y"], suffixes=("_count", "_cchi"))
    assert_array_equal(merged["harm_events_count"], merged["harm_events_cchi"])


def test_months_and_sources(warehouse: Path, street: pd.DataFrame, area: pd.DataFrame) -> None:
    backend = ibis_connect(warehouse)
    try:
        one = hotspots(backend, harm="all", months=("2019-01", "2019-01"))
        same = hotspots(backend.table("events"), harm="all", months=("2019-01", "2019-01"))
    finally:
        backend.disconnect()
    pd.testing.assert_frame_equal(one, same)
    located = in_area(street, area)
    jan = located[pd.to_datetime(located["month"]).dt.strftime("%Y-%m") == "2019-01"]
    assert one["harm"].sum() == pytest.approx(jan["event_type"].map(HARM_DAYS).fillna(0).sum())
    with pytest.raises(WarehouseError, match="no located events in 2030-01"):
        hotspots(warehouse, harm="all", months=("2030-01", None))
    with pytest.raises(TypeError, match="events table"):
        hotspots(42, harm="all")  # type: ignore[arg-type]


def test_cell_size_distance_mask_and_progress(
    warehouse: Path, result: pd.DataFrame, street: pd.DataFrame
) -> None:
    stages: list[tuple[str, int, int]] = []
    big = hotspots(
        warehouse,
        harm="all",
        cell_size=500,
        distance=500,
        within=None,
        progress=lambda *a: stages.append(a),
    )
    assert (big["cell_x"] % 500 == 0).all()
    # within=None: the bounding box of every located record, strays included.
    every = street.dropna(subset=["x", "y"])["event_type"].map(HARM_DAYS).fillna(0).sum()
    assert big["harm"].sum() == pytest.approx(every)
    assert big.attrs["distance"] == 500.0 and big.attrs["study_area"] is None
    assert ("gi_star", 1, 1) in stages and stages[0] == ("aggregate", 0, 1)
    # A mask of the 20 highest-harm 250 m cells: everything else is left out.
    top = result.nlargest(20, "harm")
    masked = hotspots(warehouse, harm="all", mask=(top["cell_x"], top["cell_y"]))
    assert len(masked) == 20
    assert masked["harm"].sum() == pytest.approx(top["harm"].sum())


def test_events_table_from_memtable() -> None:
    # A hand-made events table: three robberies in one cell, shoplifting elsewhere.
    t = ibis.memtable(
        {
            "source": ["street"] * 5,
            "event_type": ["Robbery"] * 3 + ["Shoplifting", "Drugs"],
            "month": pd.to_datetime(["2020-01-01"] * 5).date,
            "x": [100.0, 120.0, 249.0, 1_000.0, 1_010.0],
            "y": [100.0, 130.0, 10.0, 1_000.0, 1_020.0],
        }
    )
    out = hotspots(t, harm="all", within=1000).set_index(["cell_x", "cell_y"])
    assert out.loc[(0, 0), "harm"] == pytest.approx(3 * 365.0)
    assert out.loc[(1000, 1000), "harm"] == pytest.approx(1.0)
    assert out.loc[(1000, 1000), "activity"] == 1  # one drug offence, counted
    assert out.loc[(500, 500), "harm"] == 0.0
    # By default, with no LSOA to tell strays by, the area is the cells holding records.
    default = hotspots(t, harm="all")
    assert sorted(zip(default["cell_x"], default["cell_y"], strict=True)) == [(0, 0), (1000, 1000)]
    assert "strays cannot be told apart" in default.attrs["study_area"]["label"]
