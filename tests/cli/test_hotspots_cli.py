"""``harmscope hotspots`` and ``harmscope emerging`` through Typer's CliRunner on real data."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.app.sparse import cells_with_events
from harmscope.cli import app
from harmscope.places.emerging import EMERGING_CATEGORIES
from harmscope.places.hotspots import EMERGING_COLUMNS, HOTSPOT_COLUMNS, hotspots

runner = CliRunner()
CONTRACT = ["cell_x", "cell_y", "name", "harm", "gi_z", "p_fdr", "category"]


def test_hotspots_csv_matches_the_library(city_db: Path) -> None:
    result = runner.invoke(app, ["hotspots", "--db", str(city_db), "--from", "2019-02"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    # the library's columns, then their unit and which harm they hold (drug-attributed by default)
    assert list(frame.columns[:7]) == CONTRACT
    assert tuple(frame.columns) == (*HOTSPOT_COLUMNS, "harm_unit", "harm_view")
    assert set(frame["harm_unit"]) == {"days of imprisonment"}
    assert set(frame["harm_view"]) == {"drug-attributed harm"}
    expected = cells_with_events(hotspots(city_db, months=("2019-02", None)))
    assert len(frame) == len(expected)
    # CSV rounds harm to 0.1 day per cell.
    assert frame["harm"].sum() == pytest.approx(expected["harm"].sum(), abs=0.05 * len(frame))
    assert not frame.duplicated(["cell_x", "cell_y"]).any()


def test_hotspots_geojson_cells_are_wgs84_squares(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "h.geojson"
    result = runner.invoke(
        app,
        [
            "hotspots",
            "--db",
            str(city_db),
            "--cell-size",
            "500",
            "--format",
            "geojson",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["type"] == "FeatureCollection" and doc["features"]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    for feature in doc["features"][:20]:
        props = feature["properties"]
        assert set(CONTRACT) <= set(props)
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
        lon, lat = ring[0]
        assert -0.2 < lon < 0.0 and 51.4 < lat < 51.6  # the City of London
        x, y = to_bng.transform(lon, lat)
        assert (x, y) == pytest.approx((props["cell_x"], props["cell_y"]), abs=0.05)
        x2, y2 = to_bng.transform(*ring[2])
        assert (x2 - x, y2 - y) == pytest.approx((500, 500), abs=0.05)


def test_hotspots_parquet(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "h.parquet"
    result = runner.invoke(
        app, ["hotspots", "--db", str(city_db), "--format", "parquet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = gpd.read_parquet(out)  # GeoParquet: squares in EPSG:27700
    assert tuple(frame.columns) == (*HOTSPOT_COLUMNS, "harm_unit", "harm_view", "geometry")
    assert len(frame) > 0 and frame.crs.to_epsg() == 27700
    # The study area and the strays left out are reported on stderr.
    assert f"{len(frame)} cells of 250 m" in result.stderr and "left out" in result.stderr
    missing = runner.invoke(app, ["hotspots", "--db", str(city_db), "--format", "parquet"])
    assert missing.exit_code == 2 and "needs --out" in missing.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2019-13"], "month '2019-13': expected YYYY-MM"),
        (["--from", "2019-05", "--to", "2019-02"], "after to"),
        (["--format", "shapefile"], "--format must be csv, geojson, gpkg or parquet"),
        (["--from", "2025-01"], "covers 2019-01 to 2019-06"),
    ],
)
def test_hotspots_errors_exit_2_on_stderr(city_db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["hotspots", "--db", str(city_db), *args])
    assert result.exit_code == 2
    assert message in result.stderr and result.stdout == ""


def test_hotspots_missing_warehouse(tmp_path: Path) -> None:
    result = runner.invoke(app, ["hotspots", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no warehouse here yet" in result.stderr


def test_emerging_csv_and_json(city_db: Path) -> None:
    result = runner.invoke(app, ["emerging", "--db", str(city_db)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert tuple(frame.columns) == (*EMERGING_COLUMNS, "harm_unit", "harm_view")
    assert set(frame["category"]) <= set(EMERGING_CATEGORIES)
    assert (frame["periods"] == 6).all()
    assert (frame["hot_periods"] + frame["cold_periods"] <= 6).all()
    # The same study area as hotspots: one row per cell of it with events.
    spots = pd.read_csv(io.StringIO(runner.invoke(app, ["hotspots", "--db", str(city_db)]).stdout))
    assert set(zip(frame["cell_x"], frame["cell_y"], strict=True)) == set(
        zip(spots["cell_x"], spots["cell_y"], strict=True)
    )
    always = frame[frame["hot_periods"] == 6]
    assert set(always["category"]) <= {
        "persistent_hot_spot",
        "intensifying_hot_spot",
        "diminishing_hot_spot",
    }
    as_json = runner.invoke(app, ["emerging", "--db", str(city_db), "--format", "json"])
    rows = json.loads(as_json.stdout)
    assert len(rows) == len(frame) and set(rows[0]) == {*EMERGING_COLUMNS, "harm_unit", "harm_view"}
    one = runner.invoke(
        app, ["emerging", "--db", str(city_db), "--from", "2019-03", "--to", "2019-03"]
    )
    assert one.exit_code == 2 and "at least two months" in one.stderr
