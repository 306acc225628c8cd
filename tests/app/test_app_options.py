"""The application layer's option parsing: formats, months, the period check, the study area.

Expected figures are recomputed from the City of London police.uk files (pandas) or from the
warehouse with plain SQL, not with HarmScope's code.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from harmscope.app.options import check_format, check_month, check_period, months_arg, study_area
from harmscope.errors import HarmScopeError, WarehouseError
from harmscope.places.study_area import AreaCells


def city_folder() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


MONTHS = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")  # city_db's


def test_format_is_one_of_the_choices() -> None:
    assert check_format("json", ("csv", "json")) == "json"
    with pytest.raises(ValueError) as info:
        check_format("xml", ("csv", "geojson", "parquet"))
    assert str(info.value) == "--format must be csv, geojson or parquet, not 'xml'"


@pytest.mark.parametrize("bad", ["2019-01-01", "2019-13", "19-01", "January 2019"])
def test_a_month_is_written_yyyy_mm(bad: str) -> None:
    assert check_month("2019-04", "--from") == "2019-04"
    assert check_month(None, "--to") is None
    with pytest.raises(ValueError) as info:
        check_month(bad, "--to")
    assert str(info.value) == f"--to: month {bad!r}: expected YYYY-MM (e.g. 2019-04)"


def test_months_arg_is_none_only_when_neither_bound_is_given() -> None:
    assert months_arg(None, None) is None
    assert months_arg("2019-01", None) == ("2019-01", None)
    assert months_arg(None, "2019-03") == (None, "2019-03")


def _covered() -> tuple[str, str, int]:
    """First and last month of the City files city_db holds, and how many months have rows."""
    folder = city_folder()
    street = [
        pd.read_csv(folder / "street" / f"{m}-city-of-london-street.csv", usecols=["Month"])
        for m in MONTHS
    ]
    searches = [
        pd.read_csv(folder / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv")
        for m in MONTHS
    ]
    months = pd.concat([*(f["Month"] for f in street), *(f["Date"].str[:7] for f in searches)])
    return str(months.min()), str(months.max()), int(months.nunique())


def test_period_inside_the_data_passes(city_db: Path) -> None:
    assert check_period(city_db, "2019-02", "2019-05") is None


def test_period_reaching_past_the_data_warns_with_the_months_covered(city_db: Path) -> None:
    first, last, n = _covered()
    warning = check_period(city_db, "2018-06", "2019-02")
    assert warning is not None
    assert f"covers {first} to {last} ({n} months with data)" in warning
    assert warning.endswith(f"the figures cover {first} to 2019-02 only")


def test_period_with_no_data_is_refused(city_db: Path) -> None:
    first, last, n = _covered()
    with pytest.raises(WarehouseError) as info:
        check_period(city_db, "2030-01", None)
    assert str(info.value) == (
        f"no data for 2030-01 onwards: {city_db} covers {first} to {last} ({n} months with "
        "data); choose months inside that range"
    )


def test_no_period_opens_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    assert check_period(missing, None, None) is None
    assert not missing.exists()


def test_the_dataset_area_by_default(city_db: Path) -> None:
    area = study_area(None, city_db, 250)
    assert isinstance(area, AreaCells) and area.cell_size == 250
    con = duckdb.connect(str(city_db), read_only=True)
    try:
        # The force's LSOAs: those police.uk names after its own district.
        lsoas = sorted(
            r[0]
            for r in con.sql(
                "SELECT DISTINCT lsoa_code FROM events WHERE lsoa_name LIKE 'City of London %'"
            ).fetchall()
        )
        cells = pd.DataFrame({"cx": area.cell_x, "cy": area.cell_y})
        con.register("area_cells", cells)
        located, outside = con.sql(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM area_cells a
                       WHERE a.cx = floor(e.x / 250) * 250 AND a.cy = floor(e.y / 250) * 250))
            FROM events e WHERE e.x IS NOT NULL AND e.y IS NOT NULL
            """
        ).fetchone()
    finally:
        con.close()
    assert list(area.lsoas) == lsoas and len(lsoas) == 6
    assert (area.located, area.strays) == (located, outside)
    assert 0 < outside < located
    # Cells are aligned to the 250 m grid and listed once each.
    assert np.all(area.cell_x % 250 == 0) and np.all(area.cell_y % 250 == 0)
    assert len(cells.drop_duplicates()) == area.cells
    assert f"{area.cells} cells of 250 m; {outside:,} of {located:,} located" in area.describe()


def test_a_bad_area_is_refused_with_its_message(city_db: Path) -> None:
    with pytest.raises((HarmScopeError, ValueError)) as info:
        study_area("lsoa:NOPE", city_db, 250)
    assert "'NOPE' is not an LSOA code" in str(info.value)
