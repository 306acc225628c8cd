"""Shared CLI output helpers: strict JSON and safe error messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner, Result

from harmscope.app.serialise import records
from harmscope.app.serialise import write_json as emit_json
from harmscope.cli import app
from harmscope.cli._common import fail, print_table

runner = CliRunner()


def test_json_is_strict_with_nan_inf_and_numpy(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    emit_json(
        {
            "a": float("nan"),
            "b": [1.0, float("inf")],
            "c": np.float64("nan"),
            "d": (np.int64(3),),
            "e": {"f": -float("inf")},
        },
        out,
    )
    assert json.loads(out.read_text()) == {
        "a": None,
        "b": [1.0, None],
        "c": None,
        "d": [3],
        "e": {"f": None},
    }


def test_records_months_and_missing_values() -> None:
    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2020-01-01", "2020-02-15"]),
            "v": [1.5, np.nan],
            "n": np.array([1, 2], dtype=np.int64),
        }
    )
    assert records(frame) == [
        {"month": "2020-01", "v": 1.5, "n": 1},
        {"month": "2020-02-15T00:00:00", "v": None, "n": 2},
    ]


def test_fail_prints_user_text_verbatim() -> None:
    console = Console(record=True, width=200)
    with pytest.raises(typer.Exit) as info:
        fail(console, ValueError("bad value '[/]' and [bold]x[/bold]"))
    assert info.value.exit_code == 2
    assert "bad value '[/]' and [bold]x[/bold]" in console.export_text()


def test_version_prints_the_package_version() -> None:
    from typer.testing import CliRunner

    from harmscope import __version__
    from harmscope.cli import app

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"harmscope {__version__}"


# Every command that answers for a period, with the arguments it needs besides --from/--to.
PERIOD_COMMANDS = {
    "matrix": ["matrix"],
    "areas": ["areas"],
    "hotspots": ["hotspots"],
    "emerging": ["emerging"],
    "concentration": ["concentration"],
    "markets": ["markets"],
    "priorities": ["priorities", "--lens", "places"],
    "validate-forecast": ["validate-forecast"],
    "scorecard": ["scorecard"],
    "report": ["report", "--out", "{tmp}/r.html"],
    "export": ["export", "events", "--out", "{tmp}/e.csv"],
    "surface": ["surface", "--format", "tif", "--out", "{tmp}/s.tif"],
}


def _args(name: str, tmp_path: Path, db: Path, *more: str) -> list[str]:
    args = [a.format(tmp=tmp_path) for a in PERIOD_COMMANDS[name]]
    return [*args, "--db", str(db), *more]


@pytest.mark.parametrize("name", sorted(PERIOD_COMMANDS))
def test_period_outside_the_data_is_refused_with_the_months_covered(
    name: str, city_db: Path, tmp_path: Path
) -> None:
    """The City fixture holds 2019-01..2019-06: a 2025 period has no answer, not harm 0.0."""
    res = runner.invoke(app, _args(name, tmp_path, city_db, "--from", "2025-01", "--to", "2025-03"))
    assert res.exit_code == 2, res.output
    assert "no data for 2025-01 to 2025-03" in res.stderr
    assert "covers 2019-01 to 2019-06" in res.stderr
    assert res.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("name", sorted(PERIOD_COMMANDS))
@pytest.mark.parametrize("option", ["--from", "--to"])
def test_day_is_not_a_month(name: str, option: str, city_db: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, _args(name, tmp_path, city_db, option, "2019-01-01"))
    assert res.exit_code == 2, res.output
    assert "'2019-01-01': expected YYYY-MM" in res.stderr
    assert res.stdout == ""


def test_period_reaching_past_the_data_warns_and_answers_for_the_overlap(city_db: Path) -> None:
    def matrix(*period: str) -> Result:
        return runner.invoke(app, ["matrix", "--db", str(city_db), "--format", "json", *period])

    wide = matrix("--from", "2018-06", "--to", "2019-02")
    inside = matrix("--from", "2019-01", "--to", "2019-02")
    assert wide.exit_code == inside.exit_code == 0
    assert "covers 2019-01 to 2019-06" in wide.stderr
    assert "the figures cover 2019-01 to 2019-02 only" in wide.stderr
    assert "covers" not in inside.stderr  # no period warning (a strays note may remain)
    assert {**json.loads(wide.stdout), "from": None} == {**json.loads(inside.stdout), "from": None}
    assert json.loads(inside.stdout)["total"] > 0


def _ingest_like_table() -> Table:
    table = Table(title="Ingest batch 1")
    for col in HEADERS:
        table.add_column(col, justify="right")
    table.add_row("72", "0", "30537", "30264", "273", "0", "0")
    table.add_row("E01032739", "0", "1", "2", "3", "4", "City of London 001F")
    return table


HEADERS = (
    "files",
    "skipped (already loaded)",
    "rows read",
    "loaded",
    "folded (dup. Crime ID)",
    "quarantined",
    "superseded",
)


@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_print_table_never_cuts_a_word(width: int) -> None:
    console = Console(record=True, width=width)
    print_table(_ingest_like_table(), console)
    text = console.export_text()
    assert "…" not in text
    words = set(text.split())
    # Every header word appears whole: in the table, or in the note naming hidden columns.
    for value in " ".join(HEADERS).split():
        assert value.strip(",;") in {w.strip(",;") for w in words}, (width, value)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "files" in text.split("hidden to fit")[0].split()  # the first column stays
    if width >= 80:  # the ingest summary fits whole in 80 columns, wrapped
        assert "hidden" not in text
        for value in ("30537", "E01032739", "001F"):
            assert value in words, (width, value)
    else:
        assert "hidden to fit" in text and "--wide" in words
    # Rich's own layout cuts these headers at 80 columns (the reason print_table exists).
    plain = Console(record=True, width=80)
    plain.print(_ingest_like_table())
    assert "…" in plain.export_text()


def test_print_table_hides_the_last_columns_and_wide_shows_them_all() -> None:
    def table() -> Table:
        t = Table(title="markets")
        for col in ("id", "status", "harm", "top harm types"):
            t.add_column(col)
        reasons = "; ".join(f"Violence and sexual offences {k}%" for k in range(9))
        t.add_row("mkt-2267ac4c", "candidate", "82,700", reasons)
        return t

    narrow = Console(record=True, width=80)
    print_table(table(), narrow)
    text = narrow.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    # The reasons would wrap to more than MAX_CELL_LINES lines: hidden, and said so.
    assert "(1 column hidden to fit 80 characters: top harm types; --wide shows" in text
    assert "Violence" not in text
    assert {"mkt-2267ac4c", "candidate", "82,700"} <= set(text.split())
    wide = Console(record=True, width=80)
    print_table(table(), wide, wide=True)
    shown = wide.export_text()
    assert "hidden" not in shown and "…" not in shown
    lines = shown.splitlines()
    # Full width: the reasons on one line, longer than the terminal.
    assert any("Violence and sexual offences 0%; Violence" in line for line in lines)
    assert max(len(line) for line in lines) > 80


def test_ingest_table_shows_every_header_whole_in_80_columns(tmp_path: Path) -> None:
    shared = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[3] / "shared" / "data"
    street = base / "policeuk-city-of-london-2018-12_2021-11" / "street"
    street = street / "2019-01-city-of-london-street.csv"
    res = runner.invoke(
        app, ["ingest", str(street), "--db", str(tmp_path / "w.duckdb")], env={"COLUMNS": "80"}
    )
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout
    for header in ("quarantined", "superseded", "loaded", "files"):
        assert header in res.stdout.split()
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
