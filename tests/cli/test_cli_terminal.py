"""The terminal (issue 10 item 7): every table fits 80 columns with every header word whole,
``--version`` and case-insensitive scheme and lens names.

Each command runs on the real City of London months (``city_db``) in an 80-column terminal
(``COLUMNS=80``, as Rich reads it). The headers a command gives its tables are recorded as it
adds them (``Table.add_column``), so the check does not depend on how the output looks: each
word of each header must appear whole in the output, in the table or in the note naming the
columns hidden to fit, and no line may be longer than 80 characters.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()
DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
STREET = DATA / "policeuk-city-of-london-2018-12_2021-11" / "street"
BAD = Path(__file__).resolve().parents[1] / "data" / "bad" / "2019-03-several-bad-rows-street.csv"

# command -> arguments ({db}: the City warehouse, {tmp}: a scratch folder); table format.
TABLE_COMMANDS: dict[str, list[str]] = {
    "ingest": ["ingest", str(STREET / "2019-01-city-of-london-street.csv"), "--db", "{tmp}/i.db"],
    "quarantine": ["quarantine", "--db", "{tmp}/q.db"],
    "matrix": ["matrix", "--db", "{db}"],
    "areas": ["areas", "--db", "{db}", "--top", "5"],
    "markets": ["markets", "--db", "{db}"],
    "concentration": ["concentration", "--db", "{db}"],
    "scorecard": ["scorecard", "--db", "{db}"],
    "validate-forecast": ["validate-forecast", "--db", "{db}", "--warmup", "3", "--window", "3"],
}


@pytest.fixture
def headers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every column header a command adds to a Rich table while it runs."""
    seen: list[str] = []
    add = Table.add_column

    def recording(self: Table, header: object = "", *args: object, **kwargs: object) -> None:
        seen.append(str(getattr(header, "plain", header)))
        add(self, header, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Table, "add_column", recording)
    yield seen


def _words(text: str) -> set[str]:
    return {w.strip(",;") for w in text.split()}


@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_every_table_fits_80_columns_with_every_header_word_whole(
    command: str, city_db: Path, tmp_path: Path, headers: list[str]
) -> None:
    if command == "quarantine":  # needs quarantined rows: a file with bad rows, lenient
        done = runner.invoke(app, ["ingest", "--lenient", str(BAD), "--db", f"{tmp_path}/q.db"])
        assert done.exit_code == 0, done.output
        headers.clear()
    args = [a.format(db=city_db, tmp=tmp_path) for a in TABLE_COMMANDS[command]]
    res = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.stderr
    assert headers, "no table printed"
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "…" not in res.stdout
    shown = _words(res.stdout)
    missing = {w for h in headers for w in _words(h)} - shown
    assert not missing, (missing, res.stdout)
    # --wide: every column shown, no note about hidden ones.
    wide = runner.invoke(app, [*args, "--wide"], env={"COLUMNS": "80"})
    if command == "ingest":
        wide = runner.invoke(app, [*args, "--db", f"{tmp_path}/j.db", "--wide"])
    assert wide.exit_code == 0, wide.stderr
    assert "hidden to fit" not in wide.stdout


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SYNTHETIC city: the validate-* checks need the simulator's ground truth."""
    folder = tmp_path_factory.mktemp("sim") / "sim"
    done = runner.invoke(app, ["simulate", "--seed", "1", "--months", "24", "--out", str(folder)])
    assert done.exit_code == 0, done.output
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["validate-priorities", "{sim}", "--k", "5"],
        ["validate-evaluation", "{sim}", "--operations", "3"],
    ],
    ids=["validate-priorities", "validate-evaluation"],
)
def test_validate_tables_fit_80_columns(args: list[str], sim: Path, headers: list[str]) -> None:
    res = runner.invoke(app, [a.format(sim=sim) for a in args], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.stderr
    assert headers
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    assert "…" not in res.stdout
    assert not {w for h in headers for w in _words(h)} - _words(res.stdout)


def test_version_is_the_installed_distribution_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0
    assert res.stdout == f"harmscope {importlib.metadata.version('harmscope')}\n"


@pytest.mark.parametrize("typed", ["CCHI", "Count"])
def test_scheme_names_ignore_case_in_every_command(typed: str, city_db: Path) -> None:
    lower = typed.lower()
    for args in (["matrix", "--format", "json"], ["hotspots"], ["markets", "--format", "csv"]):
        shouted = runner.invoke(app, [*args, "--db", str(city_db), "--scheme", typed])
        plain = runner.invoke(app, [*args, "--db", str(city_db), "--scheme", lower])
        assert shouted.exit_code == 0, shouted.stderr
        assert shouted.stdout == plain.stdout  # the same answer, labelled the one way
    matrix = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--scheme", typed, "--format", "json"]
    )
    assert json.loads(matrix.stdout)["scheme"] == lower


def test_wrong_scheme_name_lists_the_valid_ones(city_db: Path) -> None:
    res = runner.invoke(app, ["hotspots", "--db", str(city_db), "--scheme", "CCH"])
    assert res.exit_code == 2
    assert "--scheme: scheme 'CCH': unknown name (available: cchi, count;" in res.stderr
    assert res.stdout == ""


def test_lens_names_ignore_case(city_db: Path) -> None:
    def run(lens: str) -> object:
        return runner.invoke(
            app,
            ["priorities", "--db", str(city_db), "--lens", lens, "--format", "json", "--top", "3"],
        )

    upper, lower = run("Places"), run("places")
    assert upper.exit_code == 0, upper.stderr
    rows = json.loads(upper.stdout)
    assert rows == json.loads(lower.stdout) and len(rows) == 3
    assert {r["lens"] for r in rows} == {"places"}
    wrong = run("Placs")
    assert wrong.exit_code == 2
    assert wrong.stderr == (
        "error: --lens: unknown lens 'Placs' "
        "(available: behaviours, groups, markets, people, places, all)\n"
    )
