"""Supersession by file identity, future search dates, and files passed over (issue 8, 1-3).

The late-search case uses City of London's real stop-and-search files: January 2019 as
published, and February 2019 with its first row re-dated to 2019-01-31T23:30:00+00:00, a late
search listed in the next month's file. Expected figures are recomputed here with the csv
module and pandas from the files themselves.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner
from wh_testdata import city, snapshot

from harmscope.cli import app
from harmscope.errors import InputError
from harmscope.warehouse import connect
from harmscope.warehouse.ingest import ingest_paths

runner = CliRunner()
LATE = "2019-01-31T23:30:00+00:00"


def _redate(src: Path, dest: Path, row: int, date: str) -> str:
    """Copy ``src`` to ``dest`` with the Date of data row ``row`` (0-based) set to ``date``.

    Only that one field changes: every other byte, line end included, is as published.
    """
    text = src.read_text(encoding="utf-8")
    lines = text.split("\n")
    fields = next(csv.reader([lines[row + 1]]))
    old = fields[1]
    assert lines[row + 1].count(old) == 1
    lines[row + 1] = lines[row + 1].replace(old, date)
    dest.write_text("\n".join(lines), encoding="utf-8", newline="")
    return old


@pytest.fixture
def late_pair(tmp_path: Path) -> tuple[Path, Path]:
    """The real January file and the February file with one late (January-dated) search."""
    folder = tmp_path / "files"
    folder.mkdir()
    jan = folder / city("stop-and-search", "2019-01").name
    shutil.copyfile(city("stop-and-search", "2019-01"), jan)
    feb = folder / city("stop-and-search", "2019-02").name
    old = _redate(city("stop-and-search", "2019-02"), feb, 0, LATE)
    assert old[:7] == "2019-02"
    return jan, feb


def _expected_months(*files: Path) -> Counter[str]:
    """Rows per UTC month of the search date, computed with pandas from the files."""
    dates = pd.concat([pd.read_csv(f, dtype=str)["Date"] for f in files])
    return Counter(pd.to_datetime(dates, utc=True).dt.strftime("%Y-%m"))


def _months(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return dict(
            con.execute(
                "SELECT strftime(month, '%Y-%m'), count(*) FROM events GROUP BY 1"
            ).fetchall()
        )


def _rows(path: Path) -> int:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def test_late_search_keeps_its_month_in_one_batch(
    late_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jan, feb = late_pair
    n_jan, n_feb = _rows(jan), _rows(feb)
    assert n_jan + n_feb == 300
    db = tmp_path / "w.duckdb"
    report = ingest_paths([jan, feb], db=db)
    assert (report.rows_read, report.rows_loaded, report.rows_superseded) == (300, 300, 0)
    assert report.rows_outside_month == 1
    by_file = {Path(f.path).name: f.rows_outside_month for f in report.files}
    assert by_file == {jan.name: 0, feb.name: 1}
    # The late search counts in January, under its own date; nothing is lost.
    expected = _expected_months(jan, feb)
    assert expected == {"2019-01": n_jan + 1, "2019-02": n_feb - 1}
    assert _months(db) == dict(expected)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "SELECT kind, file_force, strftime(file_month, '%Y-%m'), rows_outside_month "
            "FROM ingest_files ORDER BY file_id"
        ).fetchall()
    assert stored == [
        ("stop_search", "city-of-london", "2019-01", 0),
        ("stop_search", "city-of-london", "2019-02", 1),
    ]


def test_late_search_keeps_its_month_across_two_batches_in_either_order(
    late_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jan, feb = late_pair
    expected = dict(_expected_months(jan, feb))
    for order in ((jan, feb), (feb, jan)):
        db = tmp_path / f"{order[0].name[:7]}-first.duckdb"
        first = ingest_paths([order[0]], db=db)
        second = ingest_paths([order[1]], db=db)
        assert first.rows_superseded == second.rows_superseded == 0
        assert first.rows_loaded + second.rows_loaded == 300
        assert first.rows_outside_month + second.rows_outside_month == 1
        assert _months(db) == expected


def test_cli_shows_rows_outside_their_file_month(
    late_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    jan, feb = late_pair
    result = runner.invoke(app, ["ingest", str(jan), str(feb), "--db", str(tmp_path / "w.db")])
    assert result.exit_code == 0, result.output
    row = [line for line in result.stdout.splitlines() if line.startswith("│")][-1]
    # files, skipped, rows read, loaded, folded, quarantined, superseded
    assert [int(c) for c in row.strip("│ ").split("│")] == [2, 0, 300, 300, 0, 0, 0]
    assert "outside file month: 1 row(s) dated outside their file's month" in result.stdout
    assert f"{feb} (1)" in result.stdout
    # Without such rows the line is not printed.
    again = runner.invoke(
        app, ["ingest", str(city("stop-and-search", "2019-03")), "--db", str(tmp_path / "w.db")]
    )
    assert again.exit_code == 0, again.output
    assert "outside file month" not in again.stdout


def test_a_later_download_of_the_same_file_still_supersedes(
    late_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """A re-download of January (one search re-dated into December) replaces January."""
    jan, feb = late_pair
    db = tmp_path / "w.duckdb"
    ingest_paths([jan, feb], db=db)
    again = tmp_path / "again"
    again.mkdir()
    redownload = again / jan.name
    _redate(jan, redownload, 5, "2018-12-31T22:00:00+00:00")
    report = ingest_paths([redownload], db=db)
    n_jan = _rows(jan)
    assert (report.rows_loaded, report.rows_superseded, report.rows_outside_month) == (
        n_jan,
        n_jan,
        1,
    )
    assert _months(db) == dict(_expected_months(redownload, feb))
    # A third download, inside a data.police.uk zip (YYYY-MM/ folder): the same file again.
    third = tmp_path / "third.csv"
    _redate(jan, third, 7, "2019-01-15T12:00:00+00:00")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(third, f"2019-01/{jan.name}")
    zipped = ingest_paths([archive], db=db)
    assert (zipped.rows_loaded, zipped.rows_superseded) == (n_jan, n_jan)
    assert _months(db) == dict(_expected_months(jan, feb))


def test_month_from_the_archive_folder_when_the_name_has_none(tmp_path: Path) -> None:
    """``2019-01/city-of-london-stop-and-search.csv`` is the January file of that force."""
    jan = city("stop-and-search", "2019-01")
    revised = tmp_path / "revised.csv"
    _redate(jan, revised, 0, "2019-01-01T00:05:00+00:00")
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(revised, "2019-01/city-of-london-stop-and-search.csv")
        zf.write(revised, "no-month/city-of-london-stop-and-search.csv")  # no identity
    db = tmp_path / "w.duckdb"
    ingest_paths([jan], db=db)
    report = ingest_paths([archive], db=db)
    assert report.files_passed_over == 1
    assert report.passed_over_names == [f"{archive}!no-month/city-of-london-stop-and-search.csv"]
    assert [f.path for f in report.files] == [
        f"{archive}!2019-01/city-of-london-stop-and-search.csv"
    ]
    assert report.rows_loaded == report.rows_superseded == _rows(jan)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (_rows(jan),)


def test_file_without_identity_supersedes_nothing(tmp_path: Path) -> None:
    jan = city("stop-and-search", "2019-01")
    db = tmp_path / "w.duckdb"
    ingest_paths([jan], db=db)
    export = tmp_path / "my-export.csv"
    _redate(jan, export, 0, "2019-01-01T00:05:00+00:00")  # other bytes, same searches
    report = ingest_paths([export], db=db)
    assert report.files_without_identity == 1
    assert (report.rows_loaded, report.rows_superseded, report.rows_outside_month) == (
        _rows(jan),
        0,
        0,
    )
    result = runner.invoke(app, ["ingest", str(export), "--db", str(tmp_path / "x.duckdb")])
    assert "no file identity: 1 file(s)" in result.stdout


def test_a_warehouse_from_before_file_identity_is_upgraded(tmp_path: Path) -> None:
    """An old ``ingest_files`` (no identity columns) gets them, filled from the file names."""
    jan = city("stop-and-search", "2019-01")
    db = tmp_path / "old.duckdb"
    ingest_paths([jan, city("street", "2019-01")], db=db)
    with duckdb.connect(str(db)) as con:
        for col in ("file_force", "file_month", "rows_outside_month"):
            con.execute(f"ALTER TABLE ingest_files DROP COLUMN {col}")
        con.execute("UPDATE warehouse_meta SET schema_version = 1")  # as the release before
    connect(db).close()
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "SELECT kind, file_force, strftime(file_month, '%Y-%m') FROM ingest_files ORDER BY kind"
        ).fetchall()
    assert got == [
        ("stop_search", "city-of-london", "2019-01"),
        ("street", "city-of-london", "2019-01"),
    ]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT schema_version FROM warehouse_meta").fetchall() == [(2,)]
        # not counted before the upgrade: unknown, never 0
        assert con.execute("SELECT count(rows_outside_month) FROM ingest_files").fetchone() == (0,)
    redownload = tmp_path / jan.name
    _redate(jan, redownload, 0, "2019-01-01T00:05:00+00:00")
    report = ingest_paths([redownload], db=db)
    assert report.rows_superseded == report.rows_loaded == _rows(jan)


# -- 2. future stop-and-search dates ------------------------------------------------------------
def _future_file(tmp_path: Path, date: str) -> tuple[Path, str]:
    path = tmp_path / "2019-11-city-of-london-stop-and-search.csv"
    old = _redate(city("stop-and-search", "2019-11"), path, 2, date)
    return path, old


@pytest.mark.parametrize("days_ahead", [3, 365 * 900])
def test_future_search_date_is_refused_with_file_line_column(
    days_ahead: int, tmp_path: Path, db: Path, before: dict[str, object]
) -> None:
    when = (datetime.now(UTC) + timedelta(days=days_ahead)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path, _ = _future_file(tmp_path, when)
    with pytest.raises(InputError) as info:
        ingest_paths([path], db=db)
    assert str(info.value) == (
        f"{path}, line 4, column 2 (Date): date in the future: expected a date-time no later "
        f"than today; found {when!r}"
    )
    assert snapshot(db) == before
    result = runner.invoke(app, ["ingest", str(path), "--db", str(db)])
    assert result.exit_code == 2
    assert f"{path}, line 4, column 2 (Date): date in the future" in result.stderr
    assert snapshot(db) == before


def test_future_search_date_is_quarantined_when_lenient(tmp_path: Path, db: Path) -> None:
    path, _ = _future_file(tmp_path, "2999-01-01T00:00:00+00:00")
    report = ingest_paths([path], db=db, lenient=True)
    n = _rows(path)
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (n, n - 1, 1)
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT line, column_name, reason FROM quarantine WHERE file_id = "
            "(SELECT max(file_id) FROM ingest_files)"
        ).fetchall()
    assert row == [
        (4, "occurred_at", "date in the future: expected a date-time no later than today")
    ]


def test_search_dated_an_hour_ago_is_accepted(tmp_path: Path) -> None:
    when = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path, _ = _future_file(tmp_path, when)
    report = ingest_paths([path], db=tmp_path / "w.duckdb")
    assert report.rows_loaded == _rows(path)
    assert report.rows_outside_month == 1  # not November 2019, so counted, and kept


# -- 3. files passed over in a folder -------------------------------------------------------
def test_folder_ingest_reports_the_files_it_passed_over(tmp_path: Path) -> None:
    folder = tmp_path / "download"
    (folder / "truth").mkdir(parents=True)
    for family, month in (("street", "2019-01"), ("stop-and-search", "2019-01")):
        shutil.copyfile(city(family, month), folder / city(family, month).name)
    others = ["README.txt", "notes.md", "street-jan.csv", "truth/places.csv", "truth/people.csv"]
    others += [f"truth/extra-{k}.csv" for k in range(3)]
    for name in others:
        (folder / name).write_text("not police.uk\n")
    archive = folder / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("LICENCE.txt", "OGL")
        zf.write(city("street", "2019-02"), f"2019-02/{city('street', '2019-02').name}")
    db = tmp_path / "w.duckdb"
    report = ingest_paths([folder], db=db)
    # Every file in the tree, minus the three police.uk files and the archive itself.
    on_disk = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    skipped = [p for p in on_disk if p.endswith((".txt", ".md")) or "truth" in p or "-jan" in p]
    assert len(skipped) == len(others) == 8
    assert report.files_passed_over == len(others) + 1  # + LICENCE.txt in the archive
    assert len(report.passed_over_names) == 5
    assert set(report.passed_over_names) <= set(skipped) | {f"{archive}!LICENCE.txt"}
    assert len(report.files) == 3 and report.rows_read == sum(
        _rows(city(f, m)) for f, m in (("street", "2019-01"), ("stop-and-search", "2019-01"))
    ) + _rows(city("street", "2019-02"))

    result = runner.invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "cli.duckdb")])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("passed over:"))
    assert line.startswith("passed over: 9 file(s) not named the police.uk way")
    assert line.endswith(", ...")
    assert all(name in line for name in report.passed_over_names)


def test_folder_of_only_police_uk_files_passes_nothing_over(tmp_path: Path) -> None:
    folder = tmp_path / "clean"
    folder.mkdir()
    for month in ("2019-01", "2019-02"):
        shutil.copyfile(city("street", month), folder / city("street", month).name)
    report = ingest_paths([folder], db=tmp_path / "w.duckdb")
    assert report.files_passed_over == 0 and report.passed_over_names == []
    assert len(report.files) == 2
    result = runner.invoke(app, ["ingest", str(folder), "--db", str(tmp_path / "c.duckdb")])
    assert result.exit_code == 0 and "passed over" not in result.stdout


def test_street_rows_outside_their_file_month_are_counted_once_folded(tmp_path: Path) -> None:
    """Two copies of a crime dated a month early in January's street file: kept once, counted once."""
    src = city("street", "2019-01")
    with open(src, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    extra = next(r for r in body if r[0] and r[4])[:]
    extra[0] = "f" * 64  # a Crime ID of its own
    extra[1] = "2018-12"
    unlocated = [*extra[:4], "", "", *extra[6:]]
    path = tmp_path / src.name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *body, extra, unlocated])
    report = ingest_paths([path], db=tmp_path / "w.duckdb")
    pairs = Counter((r[0], r[1]) for r in body if r[0])
    folded = sum(n - 1 for n in pairs.values())
    assert report.rows_folded == folded + 1
    assert report.rows_outside_month == 1
    assert report.rows_loaded == len(body) + 2 - folded - 1
    months = _months(tmp_path / "w.duckdb")
    assert months["2018-12"] == 1
