"""Formula-injection-safe CSV export: ``write_csv`` and ``harmscope export events``."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from wh_testdata import HERE_DATA, count, snapshot

from harmscope.cli import app
from harmscope.export import (
    EXPORT_EXTRA_COLUMNS,
    FORMULA_TRIGGERS,
    export_events,
    neutralise,
    neutralise_sql,
    write_csv,
)
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.schema import EVENT_COLUMNS

runner = CliRunner()
INJECTION = HERE_DATA / "2019-04-formula-injection-street.csv"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2+3", "'-2+3"),
        ("@x", "'@x"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("-1,234", "'-1,234"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-3.5", "-3.5"),
        ("+12", "+12"),
        ("-1e-3", "-1e-3"),
        ("-.5", "-.5"),
        ("a=b", "a=b"),
        ("On or near -3.5", "On or near -3.5"),
        (" =1+1", " =1+1"),
        ("", ""),
        (-3.5, -3.5),
        (np.float64(-2.0), np.float64(-2.0)),
        (np.int64(-7), np.int64(-7)),
        (True, True),
        (None, None),
    ],
)
def test_neutralise(value: object, written: object) -> None:
    assert neutralise(value) == written
    assert type(neutralise(value)) is type(written)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_neutralised_text_is_inert_and_reversible(text: str) -> None:
    out = neutralise(text)
    if text.startswith(FORMULA_TRIGGERS) and not _is_number(text):
        assert out == "'" + text
    else:
        assert out == text
    assert not str(out).startswith(FORMULA_TRIGGERS) or _is_number(str(out))


@settings(max_examples=60, deadline=None)
@given(
    # No lone surrogates ("Cs"): they are not text a UTF-8 file or DuckDB VARCHAR can hold.
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=12,
        ),
        max_size=30,
    )
)
def test_sql_and_python_rules_agree(texts: list[str]) -> None:
    """export_events neutralises in the engine; it must decide exactly as write_csv does."""
    examples = [*texts, "=1", "-2+3", "-3.5", "+.5e-3", "\t=x", "\r@", "-", "=\u0301x", "١"]
    with duckdb.connect() as con:
        got = con.execute(
            f"SELECT {neutralise_sql('t')} FROM (SELECT unnest(?::VARCHAR[]) AS t, "
            "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i",
            [examples, examples],
        ).fetchall()
    assert [g for (g,) in got] == [neutralise(t) for t in examples]


def _is_number(text: str) -> bool:
    """A plain decimal number: ASCII digits, sign, point and exponent only, as float() reads."""
    if not text or set(text) - set("0123456789+-.eE"):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_write_csv_frame_rows_and_mappings_agree() -> None:
    frame = pd.DataFrame(
        {
            "=label": ["=1+1", "@x", "fine", None],
            "lon": [-0.124342, -3.5, np.nan, 1.0],
            "n": [1, -2, 3, 4],
        }
    )
    outputs = []
    for data in (
        frame,
        frame.to_dict(orient="records"),
        frame.itertuples(index=False, name=None),
    ):
        buf = io.StringIO()
        n = write_csv(data, buf, list(frame.columns))
        assert n == 4
        outputs.append(buf.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].splitlines() == [
        "'=label,lon,n",
        "'=1+1,-0.124342,1",
        "'@x,-3.5,-2",
        "fine,,3",
        ",1.0,4",
    ]
    back = pd.read_csv(io.StringIO(outputs[0]))
    assert back["lon"].dtype == np.float64 and back["lon"].iloc[1] == -3.5
    assert back["n"].tolist() == [1, -2, 3, 4]


def test_write_csv_to_a_path_with_chosen_columns(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    rows = [{"a": "+1+1", "b": "-5", "c": "dropped"}]
    assert write_csv(rows, out, ["b", "a"]) == 1
    assert out.read_text(encoding="utf-8") == "b,a\n-5,'+1+1\n"
    assert write_csv([], out, ["b", "a"]) == 0
    assert out.read_text(encoding="utf-8") == "b,a\n"


# -- export of warehouse events ----------------------------------------------------------------
def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_injection_strings_ingest_and_export_inert(
    db: Path, before: dict[str, object], tmp_path: Path
) -> None:
    report = ingest_paths([INJECTION], db=db)
    assert report.rows_loaded == 5  # valid data: it is text police.uk could publish
    out = tmp_path / "events.csv"
    result = runner.invoke(
        app,
        [
            "export",
            "events",
            "--db",
            str(db),
            "--out",
            str(out),
            "--from",
            "2019-04",
            "--to",
            "2019-04",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "5 events written" in result.stderr
    rows = _read(out)
    assert list(rows[0]) == [*(n for n, _, _ in EVENT_COLUMNS), *EXPORT_EXTRA_COLUMNS]
    by_id = {r["crime_id"]: r for r in rows}
    assert by_id["f1"]["location"] == "'=cmd|' /C calc'!A0"
    assert by_id["f1"]["outcome"] == '\'=HYPERLINK("http://x")'
    assert by_id["f2"]["location"] == "'+SUM(1)"
    assert by_id["f2"]["lsoa_name"] == "'@x"
    assert by_id["f3"]["location"] == "'-2+3"
    assert by_id["f3"]["lsoa_name"] == "'-2+3"
    assert by_id["f3"]["context"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert by_id[""]["location"] == "'\t=1+1"
    assert by_id[""]["lsoa_name"] == "'=1+1"
    assert by_id["f4"]["outcome"] == "-3.5"  # a plain number stays a number
    assert by_id["f4"]["context"] == "'+44 20 7946 0000"
    # Negative coordinates are numbers, exactly as published.
    assert [float(by_id[k]["longitude"]) for k in ("f1", "f2", "f3", "")] == [
        -0.124342,
        -0.106038,
        -0.11,
        -3.5,
    ]
    assert by_id["f4"]["longitude"] == "" and by_id["f4"]["x"] == ""
    # No cell anywhere would start a formula.
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(FORMULA_TRIGGERS) or _is_number(cell), cell
    # The warehouse keeps the text as published; only the export is neutralised.
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute("SELECT location FROM events WHERE crime_id = 'f1'").fetchone()
    assert stored == ("=cmd|' /C calc'!A0",)


def test_export_filters_match_the_warehouse(db: Path, tmp_path: Path) -> None:
    ingest_paths([INJECTION], db=db)
    everything = tmp_path / "all.csv"
    n_all = export_events(db, out=everything)
    assert n_all == count(db, "SELECT count(*) FROM events") == len(_read(everything))

    street = tmp_path / "street-2019-11.csv"
    n = export_events(db, out=street, months=("2019-11", "2019-11"), source="street")
    want = count(
        db, "SELECT count(*) FROM events WHERE source = 'street' AND month = DATE '2019-11-01'"
    )
    rows = _read(street)
    assert n == len(rows) == want > 800
    assert {r["source"] for r in rows} == {"street"}
    assert {r["month"] for r in rows} == {"2019-11"}
    # Real City of London rows: negative longitudes come out as numbers.
    lons = [float(r["longitude"]) for r in rows if r["longitude"]]
    assert min(lons) < 0 and all(-1 < v < 1 for v in lons)

    searches = tmp_path / "stop-search.csv"
    with duckdb.connect(str(db), read_only=True) as con:
        n_ss = export_events(con, out=searches, months=("2019-11", None), source="stop_search")
    assert n_ss == count(db, "SELECT count(*) FROM events WHERE source = 'stop_search'") > 250
    assert {r["event_type"] for r in _read(searches)} == {"Stop and search"}

    nothing = tmp_path / "none.csv"
    assert export_events(db, out=nothing, months=(None, "2009-12")) == 0
    header = [*(n for n, _, _ in EVENT_COLUMNS), *EXPORT_EXTRA_COLUMNS]
    assert nothing.read_text().splitlines() == [",".join(header)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2019-13"], "month '2019-13': expected YYYY-MM"),
        (["--source", "street-crime"], "source 'street-crime': expected one of"),
    ],
)
def test_export_cli_bad_arguments(
    args: list[str], message: str, db: Path, before: dict[str, object], tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    result = runner.invoke(app, ["export", "events", "--db", str(db), "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not out.exists()
    assert snapshot(db) == before


def test_export_cli_without_a_warehouse(tmp_path: Path) -> None:
    missing = tmp_path / "none.duckdb"
    result = runner.invoke(
        app, ["export", "events", "--db", str(missing), "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert "no warehouse here yet" in result.stderr
    assert not missing.exists()


def test_frame_csv_is_the_row_by_row_csv() -> None:
    """The column-at-a-time frame path writes the bytes of the row path (mappings)."""
    import io

    import numpy as np
    import pandas as pd

    from harmscope.export import write_csv

    frame = pd.DataFrame(
        {
            "n": [1, 2, 3],
            "f": [0.1, np.nan, -0.0],
            "flag": [True, False, True],
            "text": ["=cmd()", "-3", None],
            "reasons": [["a"], [], None],
            "maybe": pd.array([1, None, 3], dtype="Int64"),
            "when": pd.to_datetime(["2020-01-01", None, "2021-02-03"]),
            "big": [np.inf, -np.inf, 1e-300],
            "zeros": [0.0, -0.0, 0.0],
            "said": ['a, "b"', "line\nbreak", "carriage\rreturn"],
            "mixed": [1, "x,y", 2.5],
        }
    )
    by_frame, by_rows = io.StringIO(), io.StringIO()
    assert write_csv(frame, by_frame) == 3
    write_csv(frame.to_dict("records"), by_rows)
    assert by_frame.getvalue() == by_rows.getvalue()
    assert "'=cmd()" in by_frame.getvalue() and ",-3," in by_frame.getvalue()
    for one in frame.columns:  # a one-column frame: the csv module's own rows
        by_frame, by_rows = io.StringIO(), io.StringIO()
        write_csv(frame[[one]], by_frame)
        write_csv(frame[[one]].to_dict("records"), by_rows)
        assert by_frame.getvalue() == by_rows.getvalue()


def test_frame_csv_quotes_every_character_as_the_csv_module() -> None:
    """Each code point inside a text cell is written as the csv module writes it."""
    import io
    import sys

    import pandas as pd

    from harmscope.export import write_csv

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    frame = pd.DataFrame({"text": [f"a{c}b" for c in chars], "n": range(len(chars))})
    by_frame, by_rows = io.StringIO(), io.StringIO()
    write_csv(frame, by_frame)
    write_csv(frame.itertuples(index=False, name=None), by_rows, ["text", "n"])
    assert by_frame.getvalue() == by_rows.getvalue()
