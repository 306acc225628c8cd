"""The bad-input corpus (tests/data/bad): each file fails with its exact file, line and column,
through the library and the CLI, and leaves the warehouse exactly as it was.

The warehouse under test already holds real City of London street and stop-and-search rows
and one lenient batch (so events, provenance and quarantine all have rows to lose).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from wh_testdata import BAD, STREET_HEADER, city, count, snapshot

from harmscope.cli import app
from harmscope.errors import InputError
from harmscope.warehouse.ingest import ingest_paths

runner = CliRunner()

# (file, where the message says the problem is, what it must say). ``where`` is the exact
# text between the file name and the reason: "line L, column C (NAME)", or less when the
# problem has no line or column (a missing column, a corrupt archive).
CASES = [
    # -- header --------------------------------------------------------------------------
    (
        "2019-01-unknown-column-street.csv",
        "line 1, column 12 (Colour)",
        "unexpected column 'Colour' in a police.uk street file",
    ),
    ("2019-01-missing-latitude-street.csv", "line 1", "missing required column(s) 'Latitude'"),
    ("2019-01-duplicate-column-street.csv", "line 1, column 13", "duplicate column 'Location'"),
    ("2019-01-empty-street.csv", "line 1", "empty file: expected a police.uk CSV header"),
    (
        "2019-01-semicolon-street.csv",
        "line 1",
        "header has a single column; it looks ';'-separated",
    ),
    # -- bytes and record shape ------------------------------------------------------------
    ("2019-01-latin1-street.csv", "line 4, column 7 (Location)", "bytes that are not UTF-8"),
    (
        "2019-01-truncated-last-line-street.csv",
        "line 4, column 10 (Crime type)",
        "truncated record: expected 12 comma-separated fields, found 9",
    ),
    (
        "2019-01-extra-field-street.csv",
        "line 3, column 13",
        "extra field(s): expected 12 comma-separated fields, found 13",
    ),
    (
        "2019-01-unterminated-quote-street.csv",
        "line 4, column 7 (Location)",
        "a quoted field is never closed (unterminated quote)",
    ),
    # -- values ----------------------------------------------------------------------------
    (
        "2019-13-impossible-month-street.csv",
        "line 3, column 2 (Month)",
        "impossible month: expected YYYY-MM between 2000-01 and this month; found '2019-13'",
    ),
    (
        "1899-01-ancient-month-street.csv",
        "line 2, column 2 (Month)",
        "impossible month: expected YYYY-MM between 2000-01 and this month; found '1899-01'",
    ),
    (
        "2999-01-future-month-street.csv",
        "line 4, column 2 (Month)",
        "impossible month: expected YYYY-MM between 2000-01 and this month; found '2999-01'",
    ),
    (
        "2019-01-non-numeric-longitude-street.csv",
        "line 4, column 5 (Longitude)",
        "longitude is not a number: expected decimal degrees (WGS84); found '-2.5O9126'",
    ),
    (
        "2019-01-outside-uk-street.csv",
        "line 3, column 5 (Longitude)",
        "longitude outside the UK: expected -8.75 to 1.9 degrees; found '-74.0'",
    ),
    (
        "2019-01-longitude-without-latitude-street.csv",
        "line 4, column 6 (Latitude)",
        "latitude is blank but longitude is not: expected both or neither; found blank",
    ),
    (
        "2019-01-bad-lsoa-street.csv",
        "line 3, column 8 (LSOA code)",
        "not an LSOA code: expected a letter E/W/S/N and 8 digits (e.g. E01000001) or blank; "
        "found 'E0101439'",
    ),
    (
        "2019-01-unknown-crime-type-street.csv",
        "line 5, column 10 (Crime type)",
        "unknown crime type: expected one of the 14 police.uk crime types; found 'Drug dealing'",
    ),
    # Line numbers are physical lines: BOM + CRLF, bare-CR line ends, a quoted line break.
    ("2019-01-crlf-bom-bad-month-street.csv", "line 4, column 2 (Month)", "found '2019-1'"),
    (
        "2019-01-cr-line-endings-bad-lsoa-street.csv",
        "line 3, column 8 (LSOA code)",
        "found 'E0101439'",
    ),
    (
        "2019-01-multiline-field-bad-lsoa-street.csv",
        "line 5, column 8 (LSOA code)",
        "found 'E01O14399'",
    ),
    # -- the other two families ---------------------------------------------------------------
    (
        "2019-01-bad-date-stop-and-search.csv",
        "line 3, column 2 (Date)",
        "impossible date: expected an ISO 8601 date-time like 2019-01-01T02:48:45+00:00; "
        "found '2019-02-30T10:00:00+00:00'",
    ),
    (
        "2019-01-maybe-stop-and-search.csv",
        "line 4, column 14 (Outcome linked to object of search)",
        "expected True, False or blank; found 'Maybe'",
    ),
    (
        "2019-01-blank-crime-id-outcomes.csv",
        "line 4, column 1 (Crime ID)",
        "blank Crime ID: an outcome needs its crime; found blank",
    ),
    # -- compression and archives ------------------------------------------------------------
    (
        "2019-01-truncated-street.csv.gz",
        "",
        "cannot decompress: truncated or corrupt gzip (Compressed file ended before the "
        "end-of-stream marker was reached)",
    ),
    ("2019-01-not-gzip-street.csv.gz", "line 1", "cannot decompress (Not a gzipped file"),
    ("2019-01-not-a-zip.zip", "", "not a readable zip archive (File is not a zip file)"),
]


def _expected_prefix(display: str, where: str) -> str:
    return f"{display}, {where}: " if where else f"{display}: "


def _assert_location(err: InputError, where: str) -> None:
    parts = dict(p.split(" ", 1) for p in where.split(", ")) if where else {}
    assert err.line == (int(parts["line"]) if "line" in parts else None)
    column = parts.get("column", "").split(" ")[0]
    assert err.column == (int(column) if column else None)


@pytest.mark.parametrize(("name", "where", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_file_names_file_line_column_and_changes_nothing(
    name: str, where: str, reason: str, db: Path, before: dict[str, object]
) -> None:
    path = BAD / name
    with pytest.raises(InputError) as info:
        ingest_paths([path], db=db)
    message = str(info.value)
    assert message.startswith(_expected_prefix(str(path), where)), message
    assert reason in message
    _assert_location(info.value, where)
    assert snapshot(db) == before

    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert _expected_prefix(str(path), where) in result.stderr
    assert reason in result.stderr
    assert snapshot(db) == before


def test_bad_member_of_a_police_uk_zip_is_named_inside_the_archive(
    db: Path, before: dict[str, object]
) -> None:
    path = BAD / "2019-02-archive-bad-member.zip"
    display = f"{path}!2019-02/2019-02-avon-and-somerset-outcomes.csv"
    with pytest.raises(InputError) as info:
        ingest_paths([path], db=db)
    assert str(info.value) == (
        f"{display}, line 3, column 10 (Outcome type): blank outcome type; found blank"
    )
    assert snapshot(db) == before
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 2
    assert f"{display}, line 3, column 10 (Outcome type)" in result.stderr
    assert snapshot(db) == before


def _big_line_file(tmp_path: Path) -> Path:
    force = "Avon and Somerset Constabulary"
    row = [
        "",
        "2019-01",
        force,
        force,
        "-2.511571",
        "51.409893",
        "On or near Orchard Close",
        "E01014399",
        "Bath and North East Somerset 001A",
        "Burglary",
        "",
        "",
    ]
    huge = list(row)
    huge[6] = "x" * 10_000_000
    path = tmp_path / "2019-01-ten-megabyte-line-street.csv"
    path.write_text("\n".join([STREET_HEADER, ",".join(row), ",".join(huge), ",".join(row)]) + "\n")
    return path


def test_ten_megabyte_line_is_refused_by_line(
    tmp_path: Path, db: Path, before: dict[str, object]
) -> None:
    path = _big_line_file(tmp_path)
    assert path.stat().st_size > 10_000_000
    with pytest.raises(InputError) as info:
        ingest_paths([path], db=db)
    assert str(info.value) == (
        f"{path}, line 3: record longer than the reader's 2 MB limit: not a police.uk row"
    )
    assert snapshot(db) == before
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 2
    assert f"{path}, line 3: record longer" in result.stderr
    assert snapshot(db) == before


def test_ten_megabyte_file_of_one_line_is_refused_at_its_header(
    tmp_path: Path, db: Path, before: dict[str, object]
) -> None:
    path = tmp_path / "2019-01-one-line-street.csv"
    path.write_bytes(STREET_HEADER.encode() + b"," * 10_000_000)  # no line break at all
    with pytest.raises(InputError) as info:
        ingest_paths([path], db=db)
    assert str(info.value).startswith(
        f"{path}, line 1, column 13: unexpected column '' in a police.uk street file"
    )
    assert snapshot(db) == before


def test_header_only_file_is_valid_and_loads_nothing(db: Path, before: dict[str, object]) -> None:
    """A month with no crimes is a real possibility: zero rows, recorded in provenance."""
    path = BAD / "2019-01-header-only-street.csv"
    report = ingest_paths([path], db=db)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (0, 0, 0)
    after = snapshot(db)
    assert after["events"] == before["events"]
    assert after["quarantine"] == before["quarantine"]
    assert after["ingest_files"][0] == before["ingest_files"][0] + 1  # type: ignore[index]
    assert count(db, f"SELECT rows_read FROM ingest_files WHERE path = '{path}'") == 0
    # Identical bytes again: skipped, nothing added, and the CLI says so.
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "nothing new" in result.stdout
    assert snapshot(db) == after


def test_good_file_and_bad_file_in_one_batch_load_nothing(
    db: Path, before: dict[str, object]
) -> None:
    good = city("street", "2019-12")  # not yet in the warehouse
    bad = BAD / "2019-01-outside-uk-street.csv"
    with pytest.raises(InputError, match=r"outside-uk-street\.csv, line 3, column 5 \(Longitude\)"):
        ingest_paths([good, bad], db=db)
    assert snapshot(db) == before
    result = runner.invoke(app, ["ingest", str(good), str(bad), "--db", str(db)])
    assert result.exit_code == 2
    assert snapshot(db) == before
    # The good file on its own does load: the batch above really did throw rows away.
    assert ingest_paths([good], db=db).rows_loaded > 800
    assert count(db, "SELECT count(*) FROM events WHERE month = DATE '2019-12-01'") > 800


@pytest.mark.parametrize(
    ("second", "where"),
    [
        # Same header as the first file: both are read by one DuckDB scan.
        ("2019-01-bad-lsoa-street.csv", "line 3, column 8 (LSOA code)"),
        ("2019-01-extra-field-street.csv", "line 3, column 13"),
        ("2019-01-latin1-street.csv", "line 4, column 7 (Location)"),
        # Another family, so another scan.
        (
            "2019-01-maybe-stop-and-search.csv",
            "line 4, column 14 (Outcome linked to object of search)",
        ),
    ],
)
def test_bad_row_in_the_second_file_of_a_batch(
    second: str, where: str, db: Path, before: dict[str, object]
) -> None:
    """Lines count from the top of the file that holds the bad row, not of the batch."""
    first = city("street", "2019-12")  # 882 good rows ahead of the bad file
    path = BAD / second
    with pytest.raises(InputError) as info:
        ingest_paths([first, path], db=db)
    assert str(info.value).startswith(_expected_prefix(str(path), where)), str(info.value)
    assert snapshot(db) == before


def test_missing_path_and_empty_folder(tmp_path: Path, db: Path, before: dict[str, object]) -> None:
    missing = tmp_path / "no-such-file.csv"
    result = runner.invoke(app, ["ingest", str(missing), "--db", str(db)])
    assert result.exit_code == 2
    assert f"{missing}: no such file or folder" in result.stderr
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(InputError, match=r"no police\.uk files in this folder"):
        ingest_paths([folder], db=db)
    assert snapshot(db) == before


# -- lenient ----------------------------------------------------------------------------------
# tests/data/bad/2019-03-several-bad-rows-street.csv: 11 records on 12 physical lines after
# the header (record 6 has a quoted line break). Physical line -> (column, reason start).
LENIENT_BAD = {
    3: ("month", "impossible month"),
    5: (None, "unreadable CSV record (TOO MANY COLUMNS)"),
    6: ("longitude", "longitude is not a number"),
    9: ("lsoa_code", "not an LSOA code"),
    10: ("event_type", "unknown crime type"),
    11: ("location", "unreadable CSV record (MISSING COLUMNS)"),
    13: ("location", "unreadable CSV record (INVALID ENCODING)"),
}


def test_lenient_quarantines_bad_rows_by_physical_line(
    tmp_path: Path, db: Path, before: dict[str, object]
) -> None:
    path = tmp_path / "2019-03-several-bad-rows-street.csv"
    shutil.copyfile(BAD / path.name, path)
    report = ingest_paths([path], db=db, lenient=True)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (11, 4, 7)

    con = duckdb.connect(str(db), read_only=True)
    try:
        file_id = con.execute(
            "SELECT max(file_id) FROM ingest_files WHERE path = ?", [str(path)]
        ).fetchone()[0]  # type: ignore[index]
        rows = con.execute(
            "SELECT line, column_name, reason, raw FROM quarantine WHERE file_id = ? ORDER BY line",
            [file_id],
        ).fetchall()
        loaded = con.execute(
            "SELECT crime_id, location FROM events WHERE file_id = ? ORDER BY location, crime_id",
            [file_id],
        ).fetchall()
        provenance = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM ingest_files WHERE file_id = ?",
            [file_id],
        ).fetchone()
        batch = con.execute(
            "SELECT mode, rows_loaded, rows_quarantined FROM ingest_batches "
            "ORDER BY batch_id DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert {line: (col, reason.split(":")[0]) for line, col, reason, _ in rows} == {
        line: (col, reason.split(":")[0]) for line, (col, reason) in LENIENT_BAD.items()
    }
    for line, _, reason, raw in rows:
        assert reason.startswith(LENIENT_BAD[line][1])
        assert raw  # the offending record is kept for the analyst
    assert sorted(loaded, key=repr) == [
        ("a1", "On or near X"),
        ("a2", "On or near X"),
        ("a3", "On or near X"),
        (None, "On or near\nTwo lines"),
    ]
    assert provenance == (11, 4, 7)
    assert batch == ("lenient", 4, 7)
    # Nothing else moved.
    after = snapshot(db)
    assert after["events"][0] == before["events"][0] + 4  # type: ignore[index]
    assert after["quarantine"][0] == before["quarantine"][0] + 7  # type: ignore[index]


def _summary_row(stdout: str) -> list[int]:
    """The numbers of the ingest summary table the CLI prints."""
    row = [line for line in stdout.splitlines() if line.startswith("│")][-1]
    return [int(cell) for cell in row.strip("│ ").split("│")]


def test_lenient_cli_reports_counts_and_identical_content_adds_nothing(
    db: Path, before: dict[str, object]
) -> None:
    path = BAD / "2019-03-several-bad-rows-street.csv"
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--lenient"])
    assert result.exit_code == 0, result.output
    # files, skipped, rows read, loaded, folded, quarantined, superseded
    assert _summary_row(result.stdout) == [1, 0, 11, 4, 0, 7, 0]
    after = snapshot(db)
    assert after["quarantine"][0] == before["quarantine"][0] + 7  # type: ignore[index]
    again = runner.invoke(app, ["ingest", str(path), "--db", str(db), "--lenient"])
    assert again.exit_code == 0
    assert _summary_row(again.stdout) == [1, 1, 0, 0, 0, 0, 0]
    assert snapshot(db) == after
