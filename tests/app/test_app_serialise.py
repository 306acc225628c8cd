"""The application layer's serialisation: strict JSON, months, numpy scalars, GeoJSON cells."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pyproj import Transformer

from harmscope.app.serialise import cells_geojson, records, to_json, write_csv_out, write_json


def test_non_finite_floats_become_null_at_any_depth() -> None:
    payload = {"a": float("nan"), "b": [1.5, np.float64("inf"), {"c": -np.inf}], 3: np.int64(7)}
    assert json.loads(to_json(payload)) == {"a": None, "b": [1.5, None, {"c": None}], "3": 7}


def test_months_print_as_analysts_write_them() -> None:
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2019-01-01", "2019-02-01"]),
            "at": pd.to_datetime(["2019-01-31 23:30", pd.NaT]),
            "n": [np.int64(3), np.nan],
            "ok": [np.bool_(True), False],
        }
    )
    rows = records(frame)
    assert rows == [
        {"month": "2019-01", "at": "2019-01-31T23:30:00", "n": 3.0, "ok": True},
        {"month": "2019-02", "at": None, "n": None, "ok": False},
    ]
    assert json.loads(to_json({"d": date(2020, 3, 1)})) == {"d": "2020-03"}


def test_write_json_and_csv_to_file(tmp_path: Path) -> None:
    write_json({"x": np.float32(0.5)}, tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 0.5}
    write_csv_out(pd.DataFrame({"name": ["=HYPERLINK(1)"], "v": [1]}), tmp_path / "a.csv")
    text = (tmp_path / "a.csv").read_text()
    assert "=HYPERLINK" in text and not text.splitlines()[1].startswith("=")


def test_cells_geojson_corners_round_trip_to_bng() -> None:
    frame = pd.DataFrame(
        {"cell_x": [533000.0, 533250.0], "cell_y": [181250.0, 181250.0], "h": [1, 2]}
    )
    fc = cells_geojson(frame, 250, name="hot")
    assert fc["name"] == "hot" and len(fc["features"]) == 2
    ring = fc["features"][1]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    back = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = back.transform([p[0] for p in ring[:4]], [p[1] for p in ring[:4]])
    assert_allclose(x, [533250, 533500, 533500, 533250], atol=0.02)
    assert_allclose(y, [181250, 181250, 181500, 181500], atol=0.02)
    assert fc["features"][1]["properties"] == {"cell_x": 533250.0, "cell_y": 181250.0, "h": 2}


@pytest.mark.parametrize("bad", [object()])
def test_unknown_objects_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        to_json({"x": bad})


def test_records_are_the_row_by_row_records() -> None:
    """Column-by-column records equal ``to_dict(orient="records")`` made JSON-ready row by row."""
    from harmscope.app.serialise import jsonable

    frame = pd.DataFrame(
        {
            "f": [0.5, np.nan, -0.0, np.inf],
            "i": [1, 2, 3, 4],
            "b": [True, False, True, False],
            "n": pd.array([1, None, 3, None], dtype="Int64"),
            "t": ["a", None, "c", "d"],
            "l": [["x", 1.5], [], None, [np.float64("nan")]],
            "m": pd.to_datetime(["2020-01-01", None, "2020-03-05", "2021-02-01"]),
            "o": [np.int64(7), 2.5, "z", {"k": np.nan}],
        }
    )
    clean = frame.astype(object).where(frame.notna(), None)
    by_rows = [jsonable(row) for row in clean.to_dict(orient="records")]
    assert to_json(records(frame)) == to_json(by_rows)
    assert records(frame) == by_rows
    assert records(frame[[]]) == [{}, {}, {}, {}]
    assert records(frame.iloc[:0]) == []
