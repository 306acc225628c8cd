"""``harmscope markets`` and ``harmscope markets decide`` through CliRunner."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.markets import MARKET_COLUMNS, load_decisions, markets

runner = CliRunner()


@pytest.fixture()
def db(city_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copy(city_db, copy)
    return copy


def test_markets_formats(db: Path) -> None:
    expected = markets(db)
    as_json = runner.invoke(app, ["markets", "--db", str(db), "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert [r["id"] for r in rows] == [m.id for m in expected]
    assert rows[0]["harm"] == pytest.approx(expected[0].harm)
    assert rows[0]["matrix"]["total"] == pytest.approx(expected[0].harm)
    assert {"cells", "trend", "top_types", "activity_harm_ratio"} <= set(rows[0])
    as_csv = runner.invoke(app, ["markets", "--db", str(db), "--format", "csv"])
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert tuple(frame.columns) == MARKET_COLUMNS and len(frame) == len(expected)
    table = runner.invoke(app, ["markets", "--db", str(db)])
    assert table.exit_code == 0 and expected[0].id[:6] in table.stdout


def test_decide_round_trip(db: Path) -> None:
    first, *rest = markets(db)
    result = runner.invoke(
        app,
        [
            "markets",
            "decide",
            first.id,
            "--db",
            str(db),
            "--confirm",
            "--rename",
            "Bishopsgate",
            "--set",
            "mode=street",
            "--set",
            "near_schools=no",
            "--by",
            "analyst1",
        ],
    )
    assert result.exit_code == 0, result.output
    log = load_decisions(db)
    assert [(d.action, d.key) for d in log] == [
        ("confirm", None),
        ("rename", None),
        ("set", "mode"),
        ("set", "near_schools"),
    ]
    assert {d.decided_by for d in log} == {"analyst1"}
    listed = json.loads(runner.invoke(app, ["markets", "--db", str(db), "--format", "json"]).stdout)
    top = next(r for r in listed if r["id"] == first.id)
    assert (top["name"], top["status"]) == ("Bishopsgate", "confirmed")
    assert top["characteristics"]["near_schools"]["value"] is False
    # by name, then reject: hidden unless asked
    rejected = runner.invoke(app, ["markets", "decide", "bishopsgate", "--db", str(db), "--reject"])
    assert rejected.exit_code == 0, rejected.output
    ids = [
        r["id"]
        for r in json.loads(
            runner.invoke(app, ["markets", "--db", str(db), "--format", "json"]).stdout
        )
    ]
    assert first.id not in ids
    shown = json.loads(
        runner.invoke(
            app, ["markets", "--db", str(db), "--format", "json", "--include-rejected"]
        ).stdout
    )
    assert any(r["id"] == first.id and r["status"] == "rejected" for r in shown)
    if rest:
        merged = runner.invoke(
            app,
            ["markets", "decide", first.id, "--db", str(db), "--confirm", "--merge", rest[0].id],
        )
        assert merged.exit_code == 0, merged.output
        after = json.loads(
            runner.invoke(app, ["markets", "--db", str(db), "--format", "json"]).stdout
        )
        one = next(r for r in after if r["id"] == first.id)
        assert one["merged_from"] == [rest[0].id]
        assert rest[0].id not in [r["id"] for r in after]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["mkt-nope", "--confirm"], "no market 'mkt-nope'"),
        (["{first}", "--set", "colour=red"], "unknown market characteristic 'colour'"),
        (["{first}", "--set", "firearms"], "expected KEY=VALUE"),
        (["{first}", "--confirm", "--reject"], "confirmed and rejected"),
        (["{first}"], "nothing to record"),
    ],
)
def test_decide_errors(db: Path, args: list[str], message: str) -> None:
    first = markets(db)[0].id
    result = runner.invoke(
        app, ["markets", "decide", *[a.format(first=first) for a in args], "--db", str(db)]
    )
    assert result.exit_code == 2 and message in result.stderr
    assert load_decisions(db) == []
