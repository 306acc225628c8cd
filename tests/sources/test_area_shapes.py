"""LSOA boundaries in the warehouse ``area_shapes`` table: ONS file, simulator, CLI, atomicity."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, shape
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import InputError
from harmscope.places.study_area import cells_in
from harmscope.simulate import simulate
from harmscope.sources.areas import (
    BOUNDARIES,
    load_areas_csv,
    load_areas_geojson,
    load_reference_areas,
    read_boundaries,
)
from harmscope.warehouse import connect

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
runner = CliRunner()


def _raw_features() -> dict[str, dict[str, object]]:
    with gzip.open(SHARED / BOUNDARIES, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    return {f["properties"]["LSOA11CD"]: f for f in doc["features"]}


@pytest.fixture(scope="module")
def raw_features() -> dict[str, dict[str, object]]:
    return _raw_features()


@pytest.fixture(scope="module")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("shapes") / "w.duckdb"
    con = connect(db)
    assert load_reference_areas(con, SHARED) == 34753
    con.close()
    return db


def _shapes(db: Path, where: str = "") -> dict[str, shapely.Geometry]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f"SELECT lsoa_code, geometry FROM area_shapes {where}").fetchall()
    return {code: shapely.from_wkb(bytes(blob)) for code, blob in rows}


def test_every_national_lsoa_has_a_valid_boundary(reference_db: Path) -> None:
    with duckdb.connect(str(reference_db), read_only=True) as con:
        n_shapes, n_without = con.execute(
            "SELECT (SELECT count(*) FROM area_shapes), "
            "(SELECT count(*) FROM areas a ANTI JOIN area_shapes s USING (lsoa_code))"
        ).fetchone()  # type: ignore[misc]
        rows = con.execute(
            "SELECT a.x, a.y, s.geometry FROM areas a JOIN area_shapes s USING (lsoa_code)"
        ).fetchall()
    assert (n_shapes, n_without) == (34753, 0)
    geoms = shapely.from_wkb([bytes(r[2]) for r in rows])
    assert shapely.is_valid(geoms).all()
    assert set(shapely.get_type_id(geoms)) <= {3, 6}  # Polygon, MultiPolygon
    # The population-weighted centroids (published in BNG metres) fall in their own projected
    # polygon: a swapped axis or a wrong projection would put almost none inside.
    x = np.array([r[0] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    assert shapely.contains_xy(geoms, x, y).mean() > 0.99


def test_e01000001_area_matches_an_independent_projection(
    reference_db: Path, raw_features: dict[str, dict[str, object]]
) -> None:
    stored = _shapes(reference_db, "WHERE lsoa_code = 'E01000001'")["E01000001"]
    feature = raw_features["E01000001"]
    geometry = feature["geometry"]
    assert isinstance(geometry, dict) and geometry["type"] == "Polygon"
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rings = [[to_bng.transform(lon, lat) for lon, lat in ring] for ring in geometry["coordinates"]]
    independent = Polygon(rings[0], rings[1:])
    assert stored.area == pytest.approx(independent.area, rel=1e-9)
    assert stored.symmetric_difference(independent).area < 1e-3
    # Shape__Area is the source layer's area in square metres of British National Grid (the
    # ONS layer is held in EPSG:27700): the median ratio over all LSOAs is 1.00001.
    props = feature["properties"]
    assert isinstance(props, dict)
    assert stored.area == pytest.approx(float(props["Shape__Area"]), rel=1e-3)
    assert 150_000 < stored.area < 165_000  # about 0.16 km2


def test_all_areas_agree_with_shape_area_including_repaired_nested_shells(
    reference_db: Path, raw_features: dict[str, dict[str, object]]
) -> None:
    shapes = _shapes(reference_db)
    codes = sorted(shapes)
    area = shapely.area(np.array([shapes[c] for c in codes]))
    published = np.array([float(raw_features[c]["properties"]["Shape__Area"]) for c in codes])  # type: ignore[index]
    ratio = area / published
    assert ratio.min() > 0.999 and ratio.max() < 1.001
    # E01018992 is published as a MultiPolygon with a shell nested in another; read as a hole,
    # its area is the published one (as two shells it would be 5.8% larger).
    raw = shape(raw_features["E01018992"]["geometry"])
    assert not raw.is_valid
    assert shapes["E01018992"].area == pytest.approx(23_224_731.07, rel=1e-4)


def _simulated(tmp_path: Path) -> tuple[Path, dict[str, set[tuple[float, float]]]]:
    res = simulate(seed=5, months=6, size="small")
    folder = tmp_path / "sim"
    res.write(folder)
    city = res.city
    cells: dict[str, set[tuple[float, float]]] = {}
    for i, code in enumerate(city.areas["lsoa_code"]):
        k = np.flatnonzero(city.cell_lsoa == i)
        cells[str(code)] = set(zip(city.cell_x[k].tolist(), city.cell_y[k].tolist(), strict=True))
    return folder, cells


def test_simulator_areas_geojson_round_trips_to_its_cells(tmp_path: Path) -> None:
    folder, truth = _simulated(tmp_path)
    doc = json.loads((folder / "areas.geojson").read_text())
    assert "crs" not in doc  # WGS84 by RFC 7946; detected from the coordinate ranges
    assert {f["properties"]["lsoa_code"] for f in doc["features"]} == set(truth)
    con = connect(tmp_path / "w.duckdb")
    assert load_areas_geojson(con, folder / "areas.geojson") == len(truth)
    con.close()
    shapes = _shapes(tmp_path / "w.duckdb")
    assert set(shapes) == set(truth)
    for code, geom in shapes.items():
        # Each LSOA is written as its 250 m squares (touching parts: an invalid MultiPolygon);
        # loaded, it is their union, so the area and the cells come back exactly.
        assert geom.is_valid
        assert geom.area == pytest.approx(len(truth[code]) * 250.0**2, rel=1e-4)
        cx, cy = cells_in(geom, 250)
        assert set(zip(cx.tolist(), cy.tolist(), strict=True)) == truth[code], code


def test_bng_geojson_with_crs_member_is_stored_unprojected(tmp_path: Path) -> None:
    square = [
        [530000, 180000],
        [530500, 180000],
        [530500, 180500],
        [530000, 180500],
        [530000, 180000],
    ]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"LSOA11CD": "E01999999"},
                "geometry": {"type": "Polygon", "coordinates": [square]},
            },
        ],
    }
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(doc))
    con = connect(tmp_path / "w.duckdb")
    assert load_areas_geojson(con, path) == 1
    # Loading again replaces the row.
    doc["features"][0]["geometry"]["coordinates"] = [[[x + 500, y] for x, y in square]]  # type: ignore[index]
    path.write_text(json.dumps(doc))
    assert load_areas_geojson(con, path) == 1
    con.close()
    shapes = _shapes(tmp_path / "w.duckdb")
    assert list(shapes) == ["E01999999"]
    assert shapes["E01999999"].bounds == (530500.0, 180000.0, 531000.0, 180500.0)


def test_unsupported_crs_and_bad_features_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    base = {
        "type": "Feature",
        "properties": {"lsoa_code": "E01000001"},
        "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    }
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
                "features": [base],
            }
        )
    )
    with pytest.raises(InputError, match="unsupported GeoJSON crs 'EPSG:3857'"):
        read_boundaries(path)
    point = dict(base, geometry={"type": "Point", "coordinates": [0, 0]})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [base, point]}))
    with pytest.raises(InputError, match=r"feature 1 \(E01000001\): LSOA code given twice"):
        read_boundaries(path)
    other = dict(point, properties={"lsoa_code": "E01000002"})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [base, other]}))
    with pytest.raises(InputError, match=r"feature 1 \(E01000002\): expected a Polygon.*Point"):
        read_boundaries(path)
    nameless = dict(base, properties={"name": "x"})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [nameless]}))
    with pytest.raises(InputError, match="feature 0 has no LSOA code property"):
        read_boundaries(path)


def test_csv_with_bad_shapes_writes_nothing(tmp_path: Path) -> None:
    areas = tmp_path / "areas.csv"
    with open(areas, "w", newline="") as fh:
        csv.writer(fh).writerows([["lsoa_code", "population"], ["E01900001", "100"]])
    shapes = tmp_path / "areas.geojson"
    shapes.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"lsoa_code": "E01900001"}, "geometry": null}]}'
    )
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(InputError, match="expected a Polygon or MultiPolygon geometry"):
        load_areas_csv(con, areas, shapes=shapes)
    assert con.execute("SELECT count(*) FROM areas").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM area_shapes").fetchone() == (0,)
    con.close()


def test_cli_load_areas_csv_picks_up_areas_geojson(tmp_path: Path) -> None:
    folder, truth = _simulated(tmp_path)
    db = tmp_path / "cli.duckdb"
    result = runner.invoke(app, ["load-areas", "--db", str(db), "--csv", str(folder / "areas.csv")])
    assert result.exit_code == 0, result.output
    assert f"Loaded {len(truth)} areas, boundaries from" in result.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM area_shapes").fetchone() == (len(truth),)
        assert con.execute("SELECT count(*) FROM areas").fetchone() == (len(truth),)
    # Without an areas.geojson beside the CSV only the attributes load.
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "areas.csv").write_bytes((folder / "areas.csv").read_bytes())
    db2 = tmp_path / "cli2.duckdb"
    result = runner.invoke(app, ["load-areas", "--db", str(db2), "--csv", str(lone / "areas.csv")])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db2), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM area_shapes").fetchone() == (0,)
    # --geojson alone loads the boundaries only.
    result = runner.invoke(
        app, ["load-areas", "--db", str(db2), "--geojson", str(folder / "areas.geojson")]
    )
    assert result.exit_code == 0, result.output
    assert f"Loaded {len(truth)} area boundaries." in result.stdout
    result = runner.invoke(app, ["load-areas", "--db", str(db2)])
    assert result.exit_code == 2 and "give --reference DIR, --csv FILE or --geojson FILE" in (
        result.output
    )
