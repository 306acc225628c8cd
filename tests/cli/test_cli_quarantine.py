"""``harmscope quarantine``: real City files made bad in a copy, ingested with --lenient.

The expected rows are the lines this test broke, found again with the csv module (not by
HarmScope), so the line numbers are checked independently of the ingest's own counting.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()
CITY = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
) / "policeuk-city-of-london-2018-12_2021-11"
STREET = CITY / "street" / "2019-01-city-of-london-street.csv"
SEARCH = CITY / "stop-and-search" / "2019-01-city-of-london-stop-and-search.csv"


def _break(src: Path, dest: Path, column: str, bad: dict[int, str]) -> list[int]:
    """Copy *src* to *dest* with *column* set to ``bad[k]`` on data row k (0-based); return
    the physical line of each broken row (header = line 1), counted by reading *dest*."""
    with src.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    col = rows[0].index(column)
    for k, value in bad.items():
        rows[k + 1][col] = value
    with dest.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    lines = dest.read_text(encoding="utf-8").splitlines()
    found = [i + 1 for i, line in enumerate(lines) if any(v in line for v in bad.values())]
    assert len(found) == len(bad)  # each bad value is on exactly one line
    return found


@pytest.fixture(scope="module")
def bad_db(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, Path, list[int], list[int]]:
    tmp = tmp_path_factory.mktemp("quarantine")
    street = tmp / STREET.name
    search = tmp / SEARCH.name
    street_lines = _break(STREET, street, "Month", {4: "2019-13", 250: "2019/01"})
    search_lines = _break(SEARCH, search, "Date", {6: "2999-01-01T10:00:00+00:00"})
    db = tmp / "w.duckdb"
    res = runner.invoke(app, ["ingest", "--lenient", str(street), str(search), "--db", str(db)])
    assert res.exit_code == 0, res.output
    return db, street, search, street_lines, search_lines


def test_lists_exactly_the_broken_rows_with_their_lines(bad_db) -> None:
    db, street, search, street_lines, search_lines = bad_db
    res = runner.invoke(app, ["quarantine", "--db", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    got = [(r["file"], r["line"], r["column"]) for r in rows]
    assert got == [
        *((str(street), line, "Month") for line in street_lines),
        *((str(search), line, "Date") for line in search_lines),
    ]
    assert all(r["reason"] and r["batch_id"] == 1 for r in rows)
    # The value found under the column: the one this test wrote there.
    assert [r["value"] for r in rows] == ["2019-13", "2019/01", "2999-01-01T10:00:00+00:00"]
    assert "2019-13" in rows[0]["record"] and "2999-01-01" in rows[-1]["record"]
    # The rest of each file loaded: the data rows less the quarantined ones.
    con = duckdb.connect(str(db), read_only=True)
    try:
        loaded = dict(
            con.sql("SELECT kind, rows_loaded + rows_folded FROM ingest_files").fetchall()
        )
    finally:
        con.close()
    street_rows = len(street.read_text(encoding="utf-8").splitlines()) - 1
    search_rows = len(search.read_text(encoding="utf-8").splitlines()) - 1
    assert loaded == {"street": street_rows - 2, "stop_search": search_rows - 1}


def test_file_option_keeps_one_file_and_names_the_others_when_wrong(bad_db) -> None:
    db, street, search, street_lines, _ = bad_db
    res = runner.invoke(
        app, ["quarantine", "--db", str(db), "--file", street.name, "--format", "csv"]
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0] == "batch_id,file,line,column,value,reason,record"
    assert [int(line.split(",")[2]) for line in lines[1:]] == street_lines
    wrong = runner.invoke(app, ["quarantine", "--db", str(db), "--file", "nope.csv"])
    assert wrong.exit_code == 2
    assert "--file nope.csv: no quarantined rows" in wrong.stderr
    assert search.name in wrong.stderr and street.name in wrong.stderr
    assert wrong.stdout == ""


def test_table_fits_80_columns_and_wide_shows_the_record(bad_db) -> None:
    db, street, _, street_lines, _ = bad_db
    args = ["quarantine", "--db", str(db), "--file", str(street)]
    narrow = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    words = narrow.stdout.split()
    for header in ("line", "column", "reason", "record;"):
        assert header in words
    assert "…" not in narrow.stdout
    rows = [line.split() for line in narrow.stdout.splitlines()]
    assert [int(r[0]) for r in rows if len(r) > 1 and r[1] == "Month"] == street_lines
    wide = runner.invoke(app, [*args, "--wide"], env={"COLUMNS": "80"})
    assert "2019-13" in wide.stdout and "hidden" not in wide.stdout


def test_empty_quarantine_and_missing_warehouse(city_db: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["quarantine", "--db", str(city_db), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    table = runner.invoke(app, ["quarantine", "--db", str(city_db)])
    assert "no quarantined rows" in table.stdout
    missing = runner.invoke(app, ["quarantine", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no such warehouse file" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_rows_stay_listed_when_the_file_is_gone(tmp_path: Path) -> None:
    street = tmp_path / STREET.name
    lines = _break(STREET, street, "LSOA code", {10: "Z9-bad"})
    db = tmp_path / "w.duckdb"
    assert runner.invoke(app, ["ingest", "--lenient", str(street), "--db", str(db)]).exit_code == 0
    before = json.loads(
        runner.invoke(app, ["quarantine", "--db", str(db), "--format", "json"]).stdout
    )
    assert [(r["line"], r["column"], r["value"]) for r in before] == [
        (lines[0], "LSOA code", "Z9-bad")
    ]
    street.unlink()  # the value cannot be read back any more; the rest is the warehouse's own
    after = json.loads(
        runner.invoke(app, ["quarantine", "--db", str(db), "--format", "json"]).stdout
    )
    assert [{**r, "value": "Z9-bad"} for r in after] == before
    assert after[0]["value"] == ""
