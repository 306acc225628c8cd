"""``harmscope load-records``: every option changes the output, refusals exit 2 naming the
missing option, and a bad file names file, line and column with nothing loaded.

Data: a SYNTHETIC simulated city's force records (no real force records are public).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from option_runs import captured_run, declared, runner

from harmscope.cli import app
from harmscope.sources.records.pseudonym import KEY_ENV

CASES: dict[str, list[str]] = {
    "PATHS": ["{sim}/records"],  # a second folder in the same batch
    "--db": ["--db", "{run}/other.duckdb"],
    "--engine": ["--engine", "postgres"],  # refused: records load into DuckDB only
    "--user": ["--user", "analyst2"],
    "--reason": ["--reason", "another reason"],
}
BASE = ["load-records", "{sim}/intel", "--db", "{run}/w.duckdb", "--user", "u1", "--reason", "r1"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim") / "c"
    done = runner.invoke(app, ["simulate", "--seed", "3", "--months", "6", "--out", str(folder)])
    assert done.exit_code == 0, done.output
    return folder


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "a key for the CLI tests, long enough")


def test_every_declared_option_has_a_case() -> None:
    assert set(CASES) == declared("load-records")


def _audit(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT user_name, reason FROM audit_log").fetchall()


@pytest.mark.parametrize("option", sorted(CASES))
def test_option_changes_the_output(sim: Path, tmp_path: Path, option: str) -> None:
    paths = {"sim": sim}
    base = captured_run(BASE, tmp_path / "base", paths)
    changed = captured_run([*BASE, *CASES[option]], tmp_path / "variant", paths)
    if option == "--engine":  # records load into the DuckDB warehouse only
        assert base[0] == 0 and changed[0] == 2, changed
        assert "--engine postgres" in changed[2]
        return
    assert base[0] == 0 and changed[0] == 0, (base[2], changed[2])
    if option in ("--user", "--reason"):
        # The same records: the change is in the audit log (the last --user/--reason wins).
        assert _audit(tmp_path / "base" / "w.duckdb") == [("u1", "r1")]
        want = ("analyst2", "r1") if option == "--user" else ("u1", "another reason")
        assert _audit(tmp_path / "variant" / "w.duckdb") == [want]
    elif option == "--db":
        assert (tmp_path / "variant" / "other.duckdb").exists()
        assert changed != base
    else:
        assert changed != base
        assert "crime_people" in changed[1] and "crime_people" not in base[1]


def test_the_table_counts_what_the_files_hold(sim: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    args = ["load-records", str(sim / "intel"), str(sim / "records"), "--db", str(db)]
    res = runner.invoke(app, [*args, "--user", "u", "--reason", "r"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.stderr
    for name, sub in (("nominals", "intel"), ("arrests", "records"), ("links", "intel")):
        n = len(pd.read_csv(sim / sub / f"{name}.csv"))
        assert f"{name}" in res.stdout and f"{n:,}" in res.stdout
    again = runner.invoke(app, [*args, "--user", "u", "--reason", "r"], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "nothing new" in again.stdout


def test_personal_data_without_user_or_reason_is_refused(sim: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    res = runner.invoke(app, ["load-records", str(sim / "intel"), "--db", str(db)])
    assert res.exit_code == 2
    assert "--user NAME --reason TEXT" in res.stderr
    assert not db.exists()


def test_a_bad_file_names_its_place_and_loads_nothing(sim: Path, tmp_path: Path) -> None:
    reports = pd.read_csv(sim / "intel/reports.csv", dtype=str, keep_default_na=False)
    reports.loc[2, "source_evaluation"] = "2"  # the old 1-3 coding: not 3x5x2
    bad = tmp_path / "reports.csv"
    reports.to_csv(bad, index=False)
    db = tmp_path / "w.duckdb"
    args = ["load-records", str(sim / "intel/nominals.csv"), str(bad), "--db", str(db)]
    res = runner.invoke(app, [*args, "--user", "u", "--reason", "r"])
    assert res.exit_code == 2
    column = list(reports).index("source_evaluation") + 1
    assert f"{bad}, line 4, column {column} (source_evaluation)" in res.stderr
    assert "expected one of A, B, C" in res.stderr
    assert not db.exists()  # every file is checked before the warehouse is opened
