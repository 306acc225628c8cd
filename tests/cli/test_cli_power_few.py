"""``harmscope power-few``: every option changes the output, and a read without --user or
--reason is refused (exit 2, nothing logged).

Data: SYNTHETIC simulated cities (no real force records are public), ingested and loaded
with the CLI as an analyst would. The figures themselves are recomputed independently in
``tests/people/test_power_few.py``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from option_runs import captured_run, declared, runner

from harmscope.cli import app
from harmscope.sources.records.pseudonym import KEY_ENV

KEY = "a key for the power-few CLI tests, long enough"
CASES: dict[str, list[str]] = {
    "--db": ["--db", "{other}"],
    "--scheme": ["--scheme", "count"],
    "--harm": ["--harm", "all"],
    "--role": ["--role", "victim"],
    "--top-list-size": ["--top-list-size", "3"],
    "--user": ["--user", "analyst2"],
    "--reason": ["--reason", "another reason"],
    "--format": ["--format", "json"],
}
BASE = ["power-few", "--db", "{db}", "--user", "u1", "--reason", "r1"]


def _warehouse(base: Path, seed: int) -> Path:
    folder, db = base / f"c{seed}", base / f"w{seed}.duckdb"
    made = runner.invoke(
        app, ["simulate", "--seed", str(seed), "--months", "24", "--out", str(folder)]
    )
    assert made.exit_code == 0, made.output
    for args in (
        ["ingest", *map(str, sorted(folder.glob("20*"))), "--db", str(db)],
        [
            "load-records",
            *(str(folder / sub) for sub in ("intel", "records")),
            *("--db", str(db), "--user", "loader", "--reason", "load"),
        ],
    ):
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
    return db


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pfcli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        return {"db": _warehouse(base, 3), "other": _warehouse(base, 5)}


def test_every_declared_option_has_a_case() -> None:
    assert set(CASES) == declared("power-few")


def _audit(db: Path) -> tuple[str, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT user_name, reason FROM audit_log ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


@pytest.mark.parametrize("option", sorted(CASES))
def test_option_changes_the_output(dbs: dict[str, Path], tmp_path: Path, option: str) -> None:
    base = captured_run(BASE, tmp_path / "base", dbs)
    assert base[0] == 0, base[2]
    assert _audit(dbs["db"]) == ("u1", "r1")
    changed = captured_run([*BASE, *CASES[option]], tmp_path / "variant", dbs)
    assert changed[0] == 0, changed[2]
    if option in ("--user", "--reason"):
        # The same figures: the change is who read, in the audit log (the last one wins).
        assert changed[1] == base[1]
        assert _audit(dbs["db"]) == (
            ("analyst2", "r1") if option == "--user" else ("u1", "another reason")
        )
    else:
        assert changed[1] != base[1]
    if option == "--role":
        assert "victims" in changed[1] and "victims" not in base[1]
    if option == "--format":
        assert changed[1].lstrip().startswith("{") and '"top_share"' in changed[1]


def test_csv_is_a_long_table(dbs: dict[str, Path]) -> None:
    args = [a.format(**dbs) for a in BASE]
    res = runner.invoke(app, [*args, "--format", "csv", "--harm", "all"])
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "role,measure,year,value"
    assert any(line.startswith("offender,top_share_0.01,,") for line in lines)
    assert any(line.startswith("offender,new_vs_earlier,2022,") for line in lines)


@pytest.mark.parametrize("missing", ["--user", "--reason"])
def test_a_read_without_user_or_reason_is_refused(dbs: dict[str, Path], missing: str) -> None:
    args = [a.format(**dbs) for a in BASE]
    i = args.index(missing)
    del args[i : i + 2]
    before = _audit(dbs["db"])
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "--user NAME --reason TEXT" in res.stderr
    assert res.stdout == ""
    assert _audit(dbs["db"]) == before
