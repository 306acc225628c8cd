"""LSOA reference data: Census 2011 population, IMD 2019, ONS boundary centroids."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import duckdb
import pytest

from harmscope.errors import InputError
from harmscope.sources.areas import (
    CENSUS,
    IMD,
    load_areas_csv,
    load_reference_areas,
    read_census_population,
    read_imd,
)
from harmscope.warehouse import connect

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)


def test_census_population_reads_thousands_separators() -> None:
    pop = read_census_population(SHARED / CENSUS)
    assert len(pop) == 34753
    assert pop["E01020634"] == 1563  # published as "1,563"
    assert pop["E01020635"] == 1379
    # Independent total: the first 'Persons' column, commas removed.
    with gzip.open(SHARED / CENSUS, "rt", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    col = rows[0].index("Persons")
    assert sum(pop.values()) == sum(int(r[col].replace(",", "")) for r in rows[1:])


def test_imd_reads_bom_and_ranks() -> None:
    imd = read_imd(SHARED / IMD)
    assert len(imd) == 32844
    name, lad, lad_name, rank, decile = imd["E01000001"]
    assert (name, lad, lad_name, rank, decile) == (
        "City of London 001A",
        "E09000001",
        "City of London",
        29199,
        9,
    )
    assert {d for *_, d in imd.values()} == set(range(1, 11))


@pytest.fixture(scope="module")
def areas_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("areas") / "w.duckdb"
    con = connect(db)
    assert load_reference_areas(con, SHARED) == 34753
    con.close()
    return db


def test_reference_areas_table(areas_db: Path) -> None:
    with duckdb.connect(str(areas_db), read_only=True) as con:
        n, welsh_no_imd, e_with_imd = con.execute(
            "SELECT count(*), count(*) FILTER (lsoa_code LIKE 'W%' AND imd_decile IS NULL), "
            "count(*) FILTER (lsoa_code LIKE 'E%' AND imd_decile IS NOT NULL) FROM areas"
        ).fetchone()  # type: ignore[misc]
        row = con.execute(
            "SELECT lsoa_name, population, imd_decile, x, y FROM areas WHERE lsoa_code = 'E01000001'"
        ).fetchone()
    assert (n, welsh_no_imd, e_with_imd) == (34753, 1909, 32844)
    assert row == ("City of London 001A", 1465, 9, 532129.0, 181625.0)


def test_areas_csv_round_trip_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "areas.csv"
    good.write_text('lsoa_code,lsoa_name,population,imd_decile\nE01900001,Test 001A,"1,200",3\n')
    db = tmp_path / "w.duckdb"
    con = connect(db)
    assert load_areas_csv(con, good) == 1
    assert con.execute("SELECT population, imd_decile FROM areas").fetchone() == (1200, 3)
    bad = tmp_path / "bad.csv"
    bad.write_text("lsoa_code,population\nE01900002,many\n")
    with pytest.raises(InputError, match=r"bad.csv, line 2, column 2 \(population\)"):
        load_areas_csv(con, bad)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("lsoa_code,colour\nE01900002,red\n")
    with pytest.raises(InputError, match=r"line 1, column 2: unexpected column 'colour'"):
        load_areas_csv(con, unknown)
    # Nothing half-written: the first load is intact, the failed ones added nothing.
    assert con.execute("SELECT count(*) FROM areas").fetchone() == (1,)
    con.close()
