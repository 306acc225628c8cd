"""Output renderers: a result as CSV, JSON, GeoJSON or Parquet.

The GeoJSON check is independent of HarmScope: events of the raw City of London files are
projected with pyproj, counted per 250 m cell with pandas, rendered, and each rendered polygon
must hold (shapely, in WGS84) exactly the events counted in its cell.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape

from harmscope.app.render import FORMATS, json_view, render, table_view


def city_folder() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


class _Result:
    """A result object with both views, as the library's results have."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def to_dict(self) -> dict[str, object]:
        return {"n": len(self.frame), "worst": float("nan")}

    def to_frame(self) -> pd.DataFrame:
        return self.frame


def test_views_of_frames_results_and_lists() -> None:
    frame = pd.DataFrame({"month": pd.to_datetime(["2019-03-01"]), "v": [np.nan]})
    assert json_view(frame) == [{"month": "2019-03", "v": None}]
    result = _Result(frame)
    views = json_view([result, result])
    assert [v["n"] for v in views] == [1, 1] and all(np.isnan(v["worst"]) for v in views)
    assert json_view({"a": 1}) == {"a": 1}
    assert table_view(result) is frame
    with pytest.raises(TypeError, match="no table form"):
        table_view(SimpleNamespace(to_dict=dict))


def test_csv_joins_list_cells_and_json_keeps_them(capsys: pytest.CaptureFixture[str]) -> None:
    frame = pd.DataFrame(
        {"rank": [1, 2], "reasons": [["a: 3 events", "b: 1 event"], []], "score": [2.5, 1.0]}
    )
    render(frame, "csv")
    back = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert list(back["reasons"]) == ["a: 3 events; b: 1 event", ""]
    assert list(frame["reasons"][0]) == ["a: 3 events", "b: 1 event"]  # the input is untouched
    render(frame, "json")
    assert json.loads(capsys.readouterr().out)[0]["reasons"] == ["a: 3 events", "b: 1 event"]
    render(_Result(frame), "json")
    assert capsys.readouterr().out == '{\n  "n": 2,\n  "worst": null\n}\n'


def test_parquet_needs_a_file_and_round_trips(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cell_x": [533000.0], "harm": [1.5]})
    with pytest.raises(ValueError, match="needs --out FILE"):
        render(frame, "parquet")
    render(frame, "parquet", tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), frame)


def test_unknown_format_and_geojson_without_cells_are_refused() -> None:
    frame = pd.DataFrame({"cell_x": [0.0], "cell_y": [0.0]})
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(frame, "xml")
    with pytest.raises(ValueError, match="cell size"):
        render(frame, "geojson")
    assert set(FORMATS) == {"csv", "json", "geojson", "parquet", "gpkg"}


def test_geojson_cells_hold_the_events_counted_in_them(tmp_path: Path) -> None:
    street = pd.read_csv(
        city_folder() / "street" / "2019-03-city-of-london-street.csv",
        usecols=["Longitude", "Latitude"],
    ).dropna()
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(street["Longitude"].to_numpy(), street["Latitude"].to_numpy())
    street["cell_x"] = np.floor(np.asarray(x) / 250) * 250
    street["cell_y"] = np.floor(np.asarray(y) / 250) * 250
    cells = street.groupby(["cell_x", "cell_y"]).size().rename("events").reset_index()
    out = tmp_path / "cells.geojson"
    render(cells, "geojson", out, cell_size=250, name="city march")
    text = out.read_text(encoding="utf-8")
    assert text.count("\n") == 1  # compact, one line, as GIS tools read it
    fc = json.loads(text)
    assert fc["type"] == "FeatureCollection" and fc["name"] == "city march"
    assert len(fc["features"]) == len(cells) > 10
    points = [Point(lo, la) for lo, la in zip(street["Longitude"], street["Latitude"], strict=True)]
    for feature in fc["features"]:
        polygon = shape(feature["geometry"])
        inside = sum(polygon.contains(p) for p in points)
        # Corners are rounded to 1e-7 degrees (about 1 cm): a point that close to an edge
        # could fall either side, so allow the count to differ by what lies within 2 cm.
        near = sum(polygon.exterior.distance(p) < 2e-7 for p in points)
        assert abs(inside - feature["properties"]["events"]) <= near, feature["properties"]
    assert sum(f["properties"]["events"] for f in fc["features"]) == len(street)
