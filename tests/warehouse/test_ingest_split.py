"""The single-pass ingest never misses a fold, and still names the file's own lines.

Strict ingest writes street rows whose (Crime ID, month) cannot repeat straight into
``events`` and folds only the rows set apart (``warehouse/ingest_local.py``). These tests
build batches from real police.uk files where repeats hide where the byte test could miss
them (across files, behind white space or quotes) and recompute the expected rows with the
csv module, independently of the code under test.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path

import duckdb
import pytest

from harmscope.errors import InputError
from harmscope.warehouse.ingest import ingest_paths

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
NATIONAL = SHARED / "policeuk-39-forces-2018-10_2019-02_geoinfo" / "street"
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11" / "street"


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        records = list(csv.reader(fh))
    return records[0], records[1:]


def _write(
    path: Path, header: list[str], rows: list[list[str]], *, quote_all: bool = False
) -> None:
    buf = io.StringIO()
    csv.writer(
        buf, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    ).writerows([header, *rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(buf.getvalue().encode()))
    else:
        path.write_text(buf.getvalue(), encoding="utf-8")


def _expected(files: list[tuple[list[str], list[list[str]]]]) -> tuple[int, int]:
    """Rows kept and folded: one row per non-blank (trimmed Crime ID, Month)."""
    keys: set[tuple[str, str]] = set()
    kept = folded = 0
    for header, rows in files:
        ci, mi = header.index("Crime ID"), header.index("Month")
        for r in rows:
            cid = r[ci].strip(" ")
            if not cid:
                kept += 1
            elif (cid, r[mi]) in keys:
                folded += 1
            else:
                keys.add((cid, r[mi]))
                kept += 1
    return kept, folded


def _loaded(db: Path) -> list[tuple[str, str, float | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT crime_id, strftime(month, '%Y-%m'), longitude FROM events "
            "WHERE crime_id IS NOT NULL ORDER BY ALL"
        ).fetchall()


def test_repeats_across_files_behind_spaces_and_quotes_fold(tmp_path: Path) -> None:
    """A key repeated in another force's file, with spaces, or quoted, still folds."""
    header, rows = _rows(NATIONAL / "2018-10-lincolnshire-street.csv.gz")
    ci, lon = header.index("Crime ID"), header.index("Longitude")
    keyed = [r for r in rows if r[ci]]
    # Three keys repeated elsewhere, each without a location, so the located row wins.
    twins = []
    for r in keyed[:3]:
        twin = list(r)
        twin[lon] = twin[lon + 1] = ""
        twins.append(twin)
    twins[1][ci] = f"  {twins[1][ci]} "  # white space the reader's trim removes
    other = [*twins[:2], *rows[:5]]  # plus rows repeating whole rows of the first file
    files = [
        (header, rows),
        (header, other),
        (header, [twins[2]]),
    ]
    _write(tmp_path / "a" / "2018-10-lincolnshire-street.csv.gz", header, rows)
    _write(tmp_path / "b" / "2018-10-nottinghamshire-street.csv", header, other)
    _write(tmp_path / "c" / "2018-10-leicestershire-street.csv", header, [twins[2]], quote_all=True)
    report = ingest_paths(
        [tmp_path / "a", tmp_path / "b", tmp_path / "c"], db=tmp_path / "w.duckdb"
    )
    kept, folded = _expected(files)
    assert folded == 3 + sum(1 for r in rows[:5] if r[ci])  # twins + repeated keyed rows
    assert (report.rows_loaded, report.rows_folded) == (kept, folded)
    got = _loaded(tmp_path / "w.duckdb")
    assert len(got) == len({(c, m) for c, m, _ in got})  # no key twice
    for r in keyed[:3]:  # the located row was kept for each twin
        match = [g for g in got if g[0] == r[ci] and g[1] == r[header.index("Month")]]
        assert len(match) == 1 and match[0][2] == pytest.approx(float(r[lon]))


def test_fold_keeps_the_same_rows_as_folding_everything(tmp_path: Path) -> None:
    """City of London (273 folds): the rows kept equal a pandas-free fold of the CSVs."""
    files = sorted(CITY.glob("*.csv"))[:12]
    report = ingest_paths(files, db=tmp_path / "w.duckdb")
    parsed = [_rows(f) for f in files]
    kept, folded = _expected(parsed)
    assert (report.rows_loaded, report.rows_folded) == (kept, folded)
    # The row kept per key: the first located one in file order, else the first.
    best: dict[tuple[str, str], str | None] = {}
    for header, rows in parsed:
        ci, mi, lon = header.index("Crime ID"), header.index("Month"), header.index("Longitude")
        for r in rows:
            key = (r[ci], r[mi])
            if r[ci] and (key not in best or (best[key] is None and r[lon])):
                best[key] = r[lon] or None
    got = {(c, m): x for c, m, x in _loaded(tmp_path / "w.duckdb")}
    assert got.keys() == best.keys()
    assert all(
        (got[k] is None) == (v is None) and (v is None or got[k] == pytest.approx(float(v)))
        for k, v in best.items()
    )


def test_bad_row_after_set_apart_rows_names_its_own_line(tmp_path: Path) -> None:
    """Set-apart rows do not shift the line a bad row is reported on."""
    header, rows = _rows(NATIONAL / "2018-10-lincolnshire-street.csv.gz")
    ci, mi = header.index("Crime ID"), header.index("Month")
    first = next(i for i, r in enumerate(rows) if r[ci])
    rows = [rows[first], rows[first], *rows]  # a repeated key on lines 2 and 3
    bad = 40
    rows[bad][mi] = "2018-13"
    path = tmp_path / "2018-10-lincolnshire-street.csv.gz"
    _write(path, header, rows)
    with pytest.raises(InputError) as err:
        ingest_paths([path], db=tmp_path / "w.duckdb")
    assert err.value.line == bad + 2  # header is line 1
    assert err.value.column == mi + 1
    assert "2018-13" in str(err.value)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
