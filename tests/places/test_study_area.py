"""Study areas (LSOAs, a local authority, drawn GeoJSON) as grid cells, and ``--area``."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import WarehouseError
from harmscope.evaluate.areas import parse_area
from harmscope.places.forecast import validate_forecast
from harmscope.places.hotspots import emerging_cells, hotspots
from harmscope.places.markets import markets
from harmscope.places.study_area import (
    StudyArea,
    cells_in,
    dataset_area,
    events_in_cells,
    parse_study_area,
    read_geojson_area,
    study_area_mask,
)
from harmscope.sources.areas import BOUNDARIES, IMD, load_reference_areas
from harmscope.warehouse import connect, ibis_connect
from harmscope.warehouse.ingest import ingest_paths

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
MONTHS = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")
runner = CliRunner()
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six months of City of London street crime and searches, with every LSOA loaded."""
    folder = SHARED / "policeuk-city-of-london-2018-12_2021-11"
    files = [
        folder / sub / f"{m}-city-of-london-{sub}.csv"
        for m in MONTHS
        for sub in ("street", "stop-and-search")
    ]
    db = tmp_path_factory.mktemp("study") / "city.duckdb"
    ingest_paths(files, db=db)
    con = connect(db)
    load_reference_areas(con, SHARED)
    con.close()
    return db


def _pairs(cx: np.ndarray, cy: np.ndarray) -> list[tuple[float, float]]:
    return list(zip(cx.tolist(), cy.tolist(), strict=True))


def _square(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


# ---------------------------------------------------------------------- drawn areas ------
def test_hand_drawn_bng_square_gives_exactly_its_cells(tmp_path: Path) -> None:
    doc = {
        "type": "Feature",
        "crs": {"type": "name", "properties": {"name": "EPSG:27700"}},
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [_square(530000, 180000, 531000, 180500)]},
    }
    path = tmp_path / "square.geojson"
    path.write_text(json.dumps(doc))
    cx, cy = study_area_mask(str(path), cell_size=250)
    assert _pairs(cx, cy) == [
        (530000.0, 180000.0),
        (530250.0, 180000.0),
        (530500.0, 180000.0),
        (530750.0, 180000.0),
        (530000.0, 180250.0),
        (530250.0, 180250.0),
        (530500.0, 180250.0),
        (530750.0, 180250.0),
    ]
    # 100 m cells: 10 x 5.
    assert study_area_mask(str(path), cell_size=100)[0].size == 50


def test_wgs84_square_gives_the_same_cells(tmp_path: Path) -> None:
    corners = _square(530000, 180000, 531000, 180500)
    lon, lat = TO_WGS84.transform([c[0] for c in corners], [c[1] for c in corners])
    ring = [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp_path / "square_wgs84.geojson"
    path.write_text(json.dumps(doc))
    cx, cy = study_area_mask(str(path), cell_size=250)
    assert _pairs(cx, cy) == _pairs(*cells_in(box(530000, 180000, 531000, 180500), 250))
    assert cx.size == 8


def test_centres_decide_and_boundary_centres_are_outside() -> None:
    # Centres at x = 530125, 530375, 530625; y = 180125, 180375.
    cx, cy = cells_in(box(530100, 180100, 530600, 180400), 250)
    assert _pairs(cx, cy) == [
        (530000.0, 180000.0),
        (530250.0, 180000.0),
        (530000.0, 180250.0),
        (530250.0, 180250.0),
    ]
    # A square whose edges run through cell centres holds none of them.
    assert cells_in(box(530125, 180125, 530375, 180375), 250)[0].size == 0
    with pytest.raises(ValueError, match="no 250 m cell has its centre inside"):
        study_area_mask(StudyArea(geometry=box(530125, 180125, 530375, 180375), label="drawn"))
    # An L-shape: the notch is left out.
    ell = Polygon([(0, 0), (750, 0), (750, 250), (250, 250), (250, 500), (0, 500)])
    assert _pairs(*cells_in(ell, 250)) == [(0.0, 0.0), (250.0, 0.0), (500.0, 0.0), (0.0, 250.0)]


def test_large_area_is_processed_in_blocks_with_the_same_result() -> None:
    # 1,000 x 600 cells of 10 m = 600,000 candidate centres; a disc keeps those within 2.5 km.
    disc = Point(535000, 183000).buffer(2500, quad_segs=64)
    cx, cy = cells_in(disc, 10)
    d2 = (cx + 5 - 535000) ** 2 + (cy + 5 - 183000) ** 2
    assert (d2 < 2500**2).all()
    assert cx.size == pytest.approx(np.pi * 250**2, rel=2e-3)
    order = np.lexsort((cx, cy))
    assert (order == np.arange(cx.size)).all()  # row-major from the south-west


def test_evaluate_reads_the_same_geojson_geometry(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    ring = [
        [-0.095, 51.515],
        [-0.090, 51.515],
        [-0.090, 51.518],
        [-0.095, 51.518],
        [-0.095, 51.515],
    ]
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    geom = read_geojson_area(path)
    spec = parse_area(str(path))
    assert spec.kind == "polygons" and spec.polygon().equals(geom)
    independent = Polygon([TO_BNG.transform(lon, lat) for lon, lat in ring])
    assert geom.symmetric_difference(independent).area < 1e-6
    assert geom.area == pytest.approx(independent.area, rel=1e-12)


# ---------------------------------------------------------------------- LSOAs and LADs ---
def _independent_city_polygon() -> tuple[list[str], shapely.Geometry]:
    with open(SHARED / IMD, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    codes = sorted(
        r["LSOA code (2011)"]
        for r in rows
        if r["Local Authority District code (2019)"] == "E09000001"
    )
    with gzip.open(SHARED / BOUNDARIES, "rt", encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    polys = []
    for f in features:
        if f["properties"]["LSOA11CD"] in codes:
            assert f["geometry"]["type"] == "Polygon"
            ring = f["geometry"]["coordinates"][0]
            polys.append(Polygon([TO_BNG.transform(lon, lat) for lon, lat in ring]))
    return codes, shapely.union_all(polys)


def test_lad_city_of_london_cells(city_db: Path) -> None:
    codes, city = _independent_city_polygon()
    area = parse_study_area("lad:E09000001", city_db)
    assert list(area.lsoas) == codes and len(codes) == 6
    assert area.geometry.area == pytest.approx(city.area, rel=1e-6)
    assert 2.8e6 < area.geometry.area < 3.0e6  # the City is about 2.9 km2
    cx, cy = study_area_mask("lad:E09000001", city_db, cell_size=250)
    # Brute force: every cell of the bounding box, centre tested one by one.
    minx, miny, maxx, maxy = city.bounds
    expected = [
        (float(x), float(y))
        for y in range(int(miny // 250) * 250, int(maxy) + 1, 250)
        for x in range(int(minx // 250) * 250, int(maxx) + 1, 250)
        if city.contains(Point(x + 125, y + 125))
    ]
    assert _pairs(cx, cy) == expected and len(expected) == 46
    cells = set(expected)
    assert (532000.0, 181000.0) in cells  # St Paul's Cathedral (532100, 181130)
    assert (532750.0, 181250.0) in cells  # Bank junction (532800, 181300)
    assert (530000.0, 179500.0) not in cells  # Westminster
    # The name works too, and lsoa: with the same codes gives the same cells.
    by_name = study_area_mask("lad:City of London", city_db)
    by_codes = study_area_mask("lsoa:" + ",".join(codes), city_db)
    assert _pairs(*by_name) == expected and _pairs(*by_codes) == expected


def test_unknown_codes_and_missing_shapes_are_clear_errors(city_db: Path, tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no boundary in the warehouse for 1 LSOA"):
        parse_study_area("lsoa:E01000001,E01999999", city_db)
    with pytest.raises(WarehouseError, match="no LSOA of local authority 'E09999999'"):
        parse_study_area("lad:E09999999", city_db)
    with pytest.raises(ValueError, match="'E0100001' is not an LSOA code"):
        parse_study_area("lsoa:E0100001", city_db)
    with pytest.raises(ValueError, match="expected lsoa:CODE"):
        parse_study_area("somewhere", city_db)
    old = tmp_path / "old.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute("CREATE TABLE events (x DOUBLE, y DOUBLE)")
    with pytest.raises(
        WarehouseError, match=r"events table lacks .* not a warehouse HarmScope wrote"
    ):
        parse_study_area("lsoa:E01000001", old)


# ---------------------------------------------------------------------- analyses ---------
def test_events_in_cells_matches_a_numpy_filter(city_db: Path) -> None:
    mask = study_area_mask("lad:E09000001", city_db)
    backend = ibis_connect(city_db)
    try:
        events = backend.table("events")
        inside = events_in_cells(events, mask)
        n = inside.count().execute()
        assert inside.columns == events.columns
    finally:
        backend.disconnect()
    with duckdb.connect(str(city_db), read_only=True) as con:
        xy = con.execute("SELECT x, y FROM events WHERE x IS NOT NULL").fetchnumpy()
    cells = pd.MultiIndex.from_arrays(
        [np.floor(xy["x"] / 250) * 250, np.floor(xy["y"] / 250) * 250]
    )
    expected = int(cells.isin(pd.MultiIndex.from_arrays([mask[0], mask[1]])).sum())
    assert n == expected
    assert 0 < n < len(xy["x"])  # some City records are located outside the City


def test_hotspots_with_area_only_returns_cells_inside(city_db: Path) -> None:
    mask = study_area_mask("lad:E09000001", city_db)
    inside = set(_pairs(*mask))
    args = ["hotspots", "--db", str(city_db), "--area", "lad:E09000001", "--all-cells"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    got = set(zip(frame["cell_x"].astype(float), frame["cell_y"].astype(float), strict=True))
    assert got == inside  # exactly the study area: every inside cell, no outside cell
    everywhere = hotspots(city_db)
    assert len(everywhere) > len(frame)
    # Harm per inside cell is unchanged by the mask; only the Gi* reference set changes.
    merged = frame.merge(everywhere, on=["cell_x", "cell_y"], how="left", suffixes=("", "_all"))
    assert np.allclose(
        merged["harm"], merged["harm_all"].fillna(0.0), rtol=0, atol=0.05
    )  # CSV: 0.1
    outside = everywhere[
        ~pd.MultiIndex.from_frame(everywhere[["cell_x", "cell_y"]].astype(float)).isin(list(inside))
    ]
    assert outside["harm"].sum() > 0  # there was harm outside, and it was left out
    assert frame["harm"].sum() == pytest.approx(
        everywhere["harm"].sum() - outside["harm"].sum(), abs=0.05 * len(frame)
    )


def test_area_from_geojson_file_on_the_cli(city_db: Path, tmp_path: Path) -> None:
    corners = _square(532000, 181000, 532750, 181500)
    lon, lat = TO_WGS84.transform([c[0] for c in corners], [c[1] for c in corners])
    path = tmp_path / "drawn.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "Polygon",
                "coordinates": [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]],
            }
        )
    )
    result = runner.invoke(app, ["hotspots", "--db", str(city_db), "--area", str(path)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(zip(frame["cell_y"], frame["cell_x"], strict=True)) == [
        (y, x) for y in (181000, 181250) for x in (532000, 532250, 532500)
    ]
    bad = runner.invoke(
        app, ["hotspots", "--db", str(city_db), "--area", str(tmp_path / "no.geojson")]
    )
    assert bad.exit_code == 2 and "no such file" in bad.output


def test_emerging_markets_and_forecast_take_the_mask(city_db: Path) -> None:
    mask = study_area_mask("lad:E09000001", city_db)
    inside = set(_pairs(*mask))
    em = emerging_cells(city_db, mask=mask)
    assert set(zip(em["cell_x"].astype(float), em["cell_y"].astype(float), strict=True)) == inside
    found = markets(city_db, mask=mask)
    assert found, "the City has significant market activity in 2019-H1"
    for m in found:
        assert {(float(x), float(y)) for x, y in m.cells} <= inside
    unmasked = markets(city_db, within=0.0)  # every occupied cell, strays' cells included
    assert any(not {(float(x), float(y)) for x, y in m.cells} <= inside for m in unmasked)
    own = set(_pairs(*dataset_area(city_db).mask))  # the default: the force's own area
    assert inside <= own
    assert all({(float(x), float(y)) for x, y in m.cells} <= own for m in markets(city_db))
    check = validate_forecast(city_db, mask=mask, warmup=3, window=3)
    assert check.meta["cells"] == len(inside)


def test_cli_commands_accept_area(city_db: Path) -> None:
    inside = set(_pairs(*study_area_mask("lsoa:E01000001,E01000002,E01000003", city_db)))
    spec = "lsoa:E01000001,E01000002,E01000003"
    for command in (["emerging"], ["priorities", "--lens", "places"]):
        result = runner.invoke(app, [*command, "--db", str(city_db), "--area", spec])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(io.StringIO(result.stdout))
        got = set(zip(frame["cell_x"].astype(float), frame["cell_y"].astype(float), strict=True))
        assert got and got <= inside, command
    result = runner.invoke(
        app, ["priorities", "--lens", "markets", "--db", str(city_db), "--area", "lad:E09000001"]
    )
    assert result.exit_code == 0, result.output
    ranked = pd.read_csv(io.StringIO(result.stdout))
    assert len(ranked) == len(markets(city_db, mask=study_area_mask("lad:E09000001", city_db)))
    result = runner.invoke(
        app,
        ["markets", "--db", str(city_db), "--area", "lad:E09000001", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    city = set(_pairs(*study_area_mask("lad:E09000001", city_db)))
    for m in json.loads(result.stdout):
        assert {(float(x), float(y)) for x, y in m["cells"]} <= city
    result = runner.invoke(
        app,
        [
            "validate-forecast",
            "--db",
            str(city_db),
            "--area",
            "lad:E09000001",
            "--warmup",
            "3",
            "--window",
            "3",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["cells"] == 46
    bad = runner.invoke(app, ["markets", "--db", str(city_db), "--area", "lad:E09999999"])
    assert bad.exit_code == 2 and "no LSOA of local authority" in bad.output
