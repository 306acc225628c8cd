"""The evaluation report maps its target, buffer and control areas (real City of London data)."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box

from harmscope.evaluate import AreaSpec, Intervention, Period, evaluate_intervention
from harmscope.report.area_map import COLOURS, area_shapes
from harmscope.report.evaluation import render_html, write_report
from harmscope.sources.areas import BOUNDARIES, load_areas_geojson
from harmscope.warehouse import connect

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
PRE, POST = Period.parse("2019-01:2019-03"), Period.parse("2019-04:2019-06")
TARGET = [(533000.0, 181250.0), (533250.0, 181250.0), (533000.0, 181500.0), (533250.0, 181500.0)]
CONTROL = [(531500.0, 181000.0), (531750.0, 181000.0)]


def map_svg(html: str) -> str:
    """The SVG of the page's area map (its <figure id="area-map">)."""
    found = re.search(r'<figure class="chart" id="area-map">(.*?)</figure>', html, re.S)
    assert found, "no area map in the report"
    return found.group(1)


def test_cells_ring_and_control_are_drawn_and_named(city_db: Path, tmp_path: Path) -> None:
    iv = Intervention(
        "Bishopsgate patrols",
        AreaSpec.from_cells(TARGET, cell_size=250),
        PRE,
        POST,
        buffer=AreaSpec.ring(250),
        control=AreaSpec.from_cells(CONTROL, cell_size=250),
    )
    ev = evaluate_intervention(iv, db=city_db)
    svg = map_svg(render_html(ev))
    assert svg.lstrip().startswith("<svg")
    # the three areas in the legend, as the areas table describes them
    for role in ("target", "buffer", "control"):
        label = f"{role}: {iv.areas[role].describe()}"
        assert label in svg.replace("&amp;", "&"), label
        # ... and each filled in its colour
        assert re.search(rf"<path[^>]*fill: {COLOURS[role]}", svg), role
    # The shapes drawn: the four target squares, a 250 m ring around them, the control squares.
    shapes = area_shapes(iv)
    target = shapely.union_all([box(x, y, x + 250, y + 250) for x, y in TARGET])
    assert shapes["target"][0].symmetric_difference(target).area == pytest.approx(0, abs=1e-6)
    ring = target.buffer(250).difference(target)
    assert shapes["buffer"][0].area == pytest.approx(ring.area, rel=1e-6)
    assert shapes["control"][0].area == pytest.approx(2 * 250 * 250)
    files = write_report(ev, tmp_path)
    assert "area-map" in files["html"].read_text(encoding="utf-8")


def test_lsoa_target_is_drawn_from_the_warehouse_boundaries(city_db: Path, tmp_path: Path) -> None:
    target = "E01032739"
    with gzip.open(SHARED / BOUNDARIES, "rt", encoding="utf-8") as fh:
        doc = json.load(fh)
    feature = next(f for f in doc["features"] if f["properties"]["LSOA11CD"] == target)
    shape_file = tmp_path / "target.geojson"
    shape_file.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    db = tmp_path / "copy.duckdb"
    shutil.copy(city_db, db)
    con = connect(db)
    assert load_areas_geojson(con, shape_file) == 1
    con.close()
    iv = Intervention(
        "LSOA",
        AreaSpec.from_lsoas([target]),
        PRE,
        POST,
        buffer=AreaSpec.ring(300),
        control=AreaSpec.everything(),
    )
    ev = evaluate_intervention(iv, db=db)
    # Without the warehouse the LSOA has no shape: no map, rather than an empty one.
    assert 'id="area-map"' not in render_html(ev)
    svg = map_svg(render_html(ev, db=db)).replace("&amp;", "&")
    assert f"target: {iv.target.describe()}" in svg
    assert "buffer: " in svg and "control: " in svg
    assert "not drawn: every event not in another area" in svg
    assert re.search(rf"<path[^>]*fill: {COLOURS['target']}", svg)
    assert re.search(rf"<path[^>]*fill: {COLOURS['buffer']}", svg)
    # Independently: the published polygon projected with pyproj, and its 300 m ring.
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rings = [np.asarray(r, dtype=float) for r in feature["geometry"]["coordinates"]]
    x, y = to_bng.transform(rings[0][:, 0], rings[0][:, 1])
    poly = shapely.Polygon(np.column_stack([x, y]))
    shapes = area_shapes(iv, db)
    assert shapes["target"][0].area == pytest.approx(poly.area, rel=1e-3)
    assert shapes["buffer"][0].area == pytest.approx(
        poly.buffer(300).difference(poly).area, rel=1e-3
    )
    assert shapes["control"] == (None, "every event not in another area")
