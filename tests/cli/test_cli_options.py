"""Every documented option of areas, report, export, demo, simulate and ingest changes the output.

For each command a base run is compared with one run per option; the test also lists the
options each command declares, so a new option fails here until a case shows what it does.
"Output" is the exit code, stdout, stderr and every file the run writes (names and contents;
the report's generation time and the run's scratch folder are blanked first).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from option_runs import captured_run, columns_for, declared

from harmscope.warehouse.ingest import ingest_paths

CITY = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
) / "policeuk-city-of-london-2018-12_2021-11"
STREET_JAN = str(CITY / "street" / "2019-01-city-of-london-street.csv")
STREET_FEB = str(CITY / "street" / "2019-02-city-of-london-street.csv")
BAD = str(
    Path(__file__).resolve().parents[1] / "data" / "bad" / "2019-03-several-bad-rows-street.csv"
)
BAD_SEARCH = str(
    Path(__file__).resolve().parents[1] / "data" / "bad" / "2019-01-bad-date-stop-and-search.csv"
)

# command -> (base arguments, {option: extra arguments, or (other base, extra arguments)}).
# "{db}" is the shared City warehouse (2019-01..06), "{db2}" a one-month one, "{run}" a fresh
# folder per run. The option "PATHS" is ingest's positional argument.
Case = tuple[list[str], dict[str, list[str] | tuple[list[str], list[str]]]]
CASES: dict[str, Case] = {
    "areas": (
        # The table format is the base: --out must write the table, not print it.
        ["areas", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--scheme": ["--scheme", "count"],
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            "--from": ["--from", "2019-03"],
            "--to": ["--to", "2019-02"],
            "--lsoa": ["--lsoa", "E01000001"],
            "--by-month": ["--by-month"],
            "--top": ["--top", "2"],
            "--format": ["--format", "csv"],
            "--out": ["--out", "{run}/areas.txt"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
        },
    ),
    "report": (
        ["report", "--db", "{db}", "--out", "{run}/r.html"],
        {
            "--out": ["--out", "{run}/other.html"],
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--scheme": ["--scheme", "count"],
            "--from": ["--from", "2019-03"],
            "--to": ["--to", "2019-02"],
            "--cell-size": ["--cell-size", "500"],
            "--title": ["--title", "Another title"],
            "--synthetic": ["--synthetic"],
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
        },
    ),
    "export events": (
        ["export", "events", "--db", "{db}", "--out", "{run}/e.csv"],
        {
            "--out": ["--out", "{run}/other.csv"],
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--from": ["--from", "2019-03"],
            "--to": ["--to", "2019-02"],
            "--source": ["--source", "stop_search"],
            "--type": ["--type", "Burglary"],
            "--scheme": ["--scheme", "count"],
            "--cell-size": ["--cell-size", "500"],
        },
    ),
    "simulate": (
        ["simulate", "--seed", "1", "--months", "2", "--out", "{run}/sim"],
        {
            "--seed": ["--seed", "2"],
            "--months": ["--months", "3"],
            "--out": ["--out", "{run}/other"],
            "--size": ["--size", "city"],
            "--start": ["--start", "2020-06"],
        },
    ),
    "ingest": (
        ["ingest", STREET_JAN, "--db", "{run}/w.duckdb"],
        {
            "PATHS": [STREET_FEB],  # a second file read in the same batch
            "--db": ["--db", "{run}/other.duckdb"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            # A file with bad rows: refused as a batch, loaded with its bad rows quarantined.
            "--lenient": (["ingest", BAD, "--db", "{run}/w.duckdb"], ["--lenient"]),
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS): headers wrap without it
        },
    ),
    "quarantine": (
        ["quarantine", "--db", "{qdb}"],
        {
            "--db": ["--db", "{db}"],  # nothing quarantined there
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--file": ["--file", Path(BAD_SEARCH).name],
            "--format": ["--format", "json"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS): the record shows
        },
    ),
    "demo": (
        ["demo", "--out", "{run}/d", "--months", "6", "--seed", "7"],
        {
            "--out": ["--out", "{run}/other"],
            "--seed": ["--seed", "8"],
            "--months": ["--months", "7"],
            "--real": ["--real", STREET_JAN],
        },
    ),
}
SLOW = {"report", "simulate", "demo"}


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_declared_option_has_a_case(command: str) -> None:
    assert set(CASES[command][1]) == declared(command)


@pytest.fixture(scope="module")
def qdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two files with bad rows, ingested leniently: rows in the quarantine table."""
    path = tmp_path_factory.mktemp("quarantine") / "w.duckdb"
    ingest_paths([BAD, BAD_SEARCH], db=path, lenient=True)
    return path


@pytest.fixture(scope="module")
def db2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("one-month") / "w.duckdb"
    ingest_paths([STREET_JAN], db=path)
    return path


def _cases() -> Iterator[object]:
    for command, (_, variants) in sorted(CASES.items()):
        for option in variants:
            marks = [pytest.mark.slow] if command in SLOW else []
            yield pytest.param(command, option, id=f"{command} {option}", marks=marks)


@pytest.mark.parametrize(("command", "option"), list(_cases()))
def test_option_changes_the_output(
    command: str, option: str, city_db: Path, db2: Path, qdb: Path, tmp_path: Path
) -> None:
    base_args, variants = CASES[command]
    variant = variants[option]
    if isinstance(variant, tuple):
        base_args, extra = variant
    else:
        extra = variant
    paths = {"db": city_db, "db2": db2, "qdb": qdb}
    width = columns_for(option)
    base = captured_run(base_args, tmp_path / "base", paths, columns=width)
    changed = captured_run([*base_args, *extra], tmp_path / "variant", paths, columns=width)
    code, stdout, stderr, files = base
    assert stdout or files or stderr, "the base run printed and wrote nothing"
    if option != "--lenient":
        assert code == 0, stderr
    if option == "--engine":  # another engine on a DuckDB file: refused (tests/engines runs them)
        assert changed[0] == 2 and "--engine postgres" in changed[2], changed
        return
    assert changed[0] == 0, changed[2]
    assert changed[1] or changed[3], "the run with the option printed and wrote nothing"
    assert changed != base, f"{command}: {option} did not change the output"
