"""One study area per command: ``one_area_per_command`` computes each dataset's area once and
never hands one dataset's area to another (another file, filter, cell size or ``--area``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pytest

from harmscope.places import study_area
from harmscope.places.study_area import AreaCells, dataset_area, one_area_per_command
from harmscope.warehouse import ibis_connect


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every real computation of an area, in order."""
    calls: list[Any] = []
    real = study_area._dataset_area

    def counting(wh: Any, area: Any, **kw: Any) -> AreaCells:
        calls.append(area)
        return real(wh, area, **kw)

    monkeypatch.setattr(study_area, "_dataset_area", counting)
    return calls


def _same(a: AreaCells, b: AreaCells) -> None:
    assert a == b  # label, rule, counts, cell size (the arrays are compared below)
    np.testing.assert_array_equal(a.cell_x, b.cell_x)
    np.testing.assert_array_equal(a.cell_y, b.cell_y)


def test_one_computation_for_every_way_of_naming_the_same_data(
    city_db: Path, computed: list[Any]
) -> None:
    plain = dataset_area(city_db)
    assert len(computed) == 1
    with one_area_per_command():
        by_path = dataset_area(city_db)
        by_table = dataset_area(ibis_connect(city_db).table("events"))  # another connection
        by_backend = dataset_area(ibis_connect(city_db))
    assert len(computed) == 2
    for found in (by_path, by_table, by_backend):
        _same(found, plain)
    # Outside the block every call computes again.
    dataset_area(city_db)
    assert len(computed) == 3


def test_a_filter_a_cell_size_or_an_area_is_other_data(
    city_db: Path, tmp_path: Path, computed: list[Any]
) -> None:
    square = tmp_path / "square.geojson"
    square.write_text(
        json.dumps(
            {
                "type": "Feature",
                "crs": {"type": "name", "properties": {"name": "EPSG:27700"}},
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[531500, 181000], [533000, 181000], [533000, 182000], [531500, 181000]]
                    ],
                },
            }
        )
    )
    events = ibis_connect(city_db).table("events")
    other = ibis_connect(city_db).table("events")
    spring = events.filter(events.month >= ibis.date("2019-04-01"))
    with one_area_per_command():
        whole = dataset_area(events)
        part = dataset_area(spring)
        again = dataset_area(other.filter(other.month >= ibis.date("2019-04-01")))
        coarse = dataset_area(events, cell_size=500)
        drawn = dataset_area(events, str(square))
        drawn_again = dataset_area(other, str(square))
    assert computed == [None, None, None, str(square)]
    _same(part, dataset_area(spring))
    _same(again, part)
    assert part.located < whole.located
    assert coarse.cell_size == 500 and coarse.cells < whole.cells
    _same(drawn_again, drawn)
    assert 0 < drawn.cells < whole.cells


def test_another_warehouse_gets_its_own_area(
    city_db: Path, tmp_path: Path, computed: list[Any]
) -> None:
    other = tmp_path / "other.duckdb"
    shutil.copy(city_db, other)
    with duckdb.connect(str(other)) as con:
        con.execute("DELETE FROM events WHERE month < '2019-04-01'")
    with one_area_per_command():
        first = dataset_area(city_db)
        second = dataset_area(other)
    assert len(computed) == 2
    assert second.located < first.located
    _same(second, dataset_area(other))


def test_in_memory_tables_are_told_apart_by_connection(computed: list[Any]) -> None:
    def warehouse(xs: list[float]) -> Any:
        con = ibis.duckdb.connect()
        con.create_table(
            "events",
            ibis.memtable({"x": xs, "y": [100.0] * len(xs), "source": ["street"] * len(xs)}),
        )
        return con

    with one_area_per_command():
        a = dataset_area(warehouse([100.0, 600.0]))
        b = dataset_area(warehouse([100.0, 1100.0, 2100.0]))
    assert len(computed) == 2
    assert a.cells == 2 and b.cells == 3


def test_callers_get_their_own_arrays(city_db: Path) -> None:
    with one_area_per_command():
        first = dataset_area(city_db)
        kept = first.cell_x.copy()
        first.cell_x[:] = -1.0
        np.testing.assert_array_equal(dataset_area(city_db).cell_x, kept)
