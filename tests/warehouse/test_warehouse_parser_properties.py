"""Property-based tests of the police.uk street parser (Hypothesis).

Valid rows, however generated, load exactly; one corruption at a random record fails the
batch with that record's physical line (and the column the corruption defines), leaving the
warehouse as it was.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wh_testdata import STREET_FIELDS, STREET_HEADER, snapshot

from harmscope.errors import InputError
from harmscope.sources.policeuk import CRIME_TYPES, LEGACY_CRIME_TYPES
from harmscope.warehouse.ingest import ingest_paths

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FORCES = (
    "Avon and Somerset Constabulary",
    "Metropolitan Police Service",
    "Police Service of Northern Ireland",
    "British Transport Police",
    "Dyfed-Powys Police",
)
# Printable text with the characters that need CSV quoting and a few formula starters.
TEXT = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,\"'=+-@;:|/éłø")), min_size=0, max_size=12)


@st.composite
def street_row(draw: st.DrawFn) -> dict[str, str]:
    """One valid street row (Crime ID left for the caller to make unique)."""
    year = draw(st.integers(2010, 2024))
    month = draw(st.integers(1, 12))
    located = draw(st.booleans())
    lon = f"{draw(st.floats(-8.7, 1.8)):.6f}" if located else ""
    lat = f"{draw(st.floats(49.9, 60.9)):.6f}" if located else ""
    lsoa = draw(st.one_of(st.just(""), st.from_regex(r"[EWSN][0-9]{8}", fullmatch=True)))
    location = draw(st.one_of(TEXT, TEXT.map(lambda t: "On or near\n" + t)))  # quoted line break
    force = draw(st.sampled_from(FORCES))
    return {
        "Crime ID": "",
        "Month": f"{year:04d}-{month:02d}",
        "Reported by": force,
        "Falls within": force,
        "Longitude": lon,
        "Latitude": lat,
        "Location": location,
        "LSOA code": lsoa,
        "LSOA name": draw(TEXT),
        "Crime type": draw(st.sampled_from(CRIME_TYPES + LEGACY_CRIME_TYPES)),
        "Last outcome category": draw(TEXT),
        "Context": draw(st.one_of(st.just(""), TEXT)),
    }


@st.composite
def street_rows(draw: st.DrawFn, min_size: int = 0) -> list[dict[str, str]]:
    rows = draw(st.lists(street_row(), min_size=min_size, max_size=12))
    for i, row in enumerate(rows):
        if row["Crime type"] != "Anti-social behaviour":  # ASB rows have no Crime ID
            row["Crime ID"] = f"{i:064x}"  # unique, so no row is folded
    return rows


def _csv_record(values: list[str], newline: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerow(values)
    return buf.getvalue()


@dataclass
class Built:
    data: bytes
    lines: list[int]  # physical line on which each data record starts


def _build(rows: list[list[str]], *, newline: str, bom: bool) -> Built:
    text = STREET_HEADER + newline
    lines = []
    for values in rows:
        lines.append(text.count("\n") + 1)
        text += _csv_record(values, newline)
    # surrogateescape: a lone surrogate U+DC80..U+DCFF becomes that raw (non-UTF-8) byte.
    return Built(
        ("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogateescape"), lines
    )


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding one small batch."""
    folder = tmp_path_factory.mktemp("props")
    first = folder / "2018-01-seed-street.csv"
    row = [
        "s1",
        "2018-01",
        "Kent Police",
        "Kent Police",
        "0.522",
        "51.271",
        "On or near High Street",
        "E01024430",
        "Maidstone 001A",
        "Burglary",
        "",
        "",
    ]
    first.write_text(STREET_HEADER + "\n" + ",".join(row) + "\n")
    db = folder / "seed.duckdb"
    ingest_paths([first], db=db)
    return db


@SETTINGS
@given(rows=street_rows(), newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_valid_rows_load_exactly(
    rows: list[dict[str, str]], newline: str, bom: bool, small_db: Path
) -> None:
    built = _build([[r[f] for f in STREET_FIELDS] for r in rows], newline=newline, bom=bom)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        shutil.copyfile(small_db, db)
        path = Path(tmp) / "2019-01-generated-street.csv"
        path.write_bytes(built.data)
        report = ingest_paths([path], db=db)
        assert (report.rows_read, report.rows_loaded, report.rows_folded) == (
            len(rows),
            len(rows),
            0,
        )
        with duckdb.connect(str(db), read_only=True) as con:
            got = con.execute(
                "SELECT event_type, strftime(month, '%Y-%m'), coalesce(crime_id, ''), "
                "coalesce(lsoa_code, ''), x IS NOT NULL, coalesce(location, '') "
                "FROM events WHERE file_id = (SELECT max(file_id) FROM ingest_files)"
            ).fetchall()
            seed = con.execute("SELECT count(*) FROM events WHERE crime_id = 's1'").fetchone()
    want = [
        (
            r["Crime type"],
            r["Month"],
            r["Crime ID"],
            r["LSOA code"],
            r["Longitude"] != "",
            r["Location"].strip(" "),
        )  # the warehouse trims spaces
        for r in rows
    ]
    assert Counter(got) == Counter(want)
    assert seed == (1,)


# -- one corruption ---------------------------------------------------------------------------
BAD_MONTHS = ("2019-13", "2019-00", "1899-01", "2999-01", "19-01", "2019/01", "Jan 2019", "")
NOT_NUMBERS = ("abc", "1,5", "-2.5O9", "51°N", "--1", "NaN?")


@st.composite
def corrupted(draw: st.DrawFn) -> tuple[list[list[str]], int, int, str]:
    """Valid rows with one corruption: (rows, record index, expected column, kind)."""
    rows = [[r[f] for f in STREET_FIELDS] for r in draw(street_rows(min_size=1))]
    k = draw(st.integers(0, len(rows) - 1))
    row = rows[k]
    kind = draw(
        st.sampled_from(
            [
                "drop_field",
                "add_field",
                "month",
                "longitude",
                "latitude",
                "out_of_uk",
                "lsoa",
                "non_utf8",
            ]
        )
    )
    if kind == "drop_field":
        del row[draw(st.integers(0, len(row) - 1))]
        column = 12  # the reader counts 11 fields: the 12th is missing
    elif kind == "add_field":
        # DuckDB's reader, like most, ignores empty fields after the last column (a trailing
        # comma), so the record is made to end in a value: then the extra field must be seen.
        row[-1] = "x"
        row.insert(draw(st.integers(0, len(row) - 1)), draw(TEXT))
        column = 13
    elif kind == "month":
        row[1] = draw(st.sampled_from(BAD_MONTHS))
        column = 2
    elif kind in ("longitude", "latitude"):
        row[4], row[5] = "-1.5", "52.5"
        column = 5 if kind == "longitude" else 6
        row[column - 1] = draw(st.sampled_from(NOT_NUMBERS))
    elif kind == "out_of_uk":
        row[4], row[5] = "-1.5", "52.5"
        column = draw(st.sampled_from([5, 6]))
        row[column - 1] = draw(
            st.sampled_from(["-74.0", "2.35", "-9.5"] if column == 5 else ["40.7", "48.85", "61.5"])
        )
    elif kind == "lsoa":
        bad = draw(TEXT.filter(lambda t: t.strip() != ""))
        row[7] = draw(st.sampled_from([bad, "E0100000", "E010000011", "X01000001", "e01000001"]))
        column = 8
    else:  # non_utf8: a byte that cannot start a UTF-8 character, inside the Location
        column = 7
        row[6] = "On or near " + chr(0xDC00 + draw(st.integers(0x80, 0xFF))) + "x"
    return rows, k, column, kind


@SETTINGS
@given(case=corrupted(), newline=st.sampled_from(["\n", "\r\n"]))
def test_one_corruption_names_its_line_and_column(
    case: tuple[list[list[str]], int, int, str], newline: str, small_db: Path
) -> None:
    rows, k, column, kind = case
    built = _build(rows, newline=newline, bom=False)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        shutil.copyfile(small_db, db)
        before = snapshot(db)
        path = Path(tmp) / "2019-01-corrupted-street.csv"
        path.write_bytes(built.data)
        with pytest.raises(InputError) as info:
            ingest_paths([path], db=db)
        err = info.value
        assert (err.line, err.column) == (built.lines[k], column), (kind, str(err))
        assert str(err).startswith(f"{path}, line {built.lines[k]}, column {column}")
        assert snapshot(db) == before
