"""``harmscope markets`` and ``harmscope markets decide`` through CliRunner."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.markets import MARKET_COLUMNS, load_decisions, markets
from harmscope.warehouse.ingest import ingest_paths

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
    assert tuple(frame.columns) == (*MARKET_COLUMNS, "harm_unit", "harm_view")
    assert len(frame) == len(expected)
    assert set(frame["harm_unit"]) == {"days of imprisonment"}
    assert set(frame["harm_view"]) == {"drug-attributed harm"}
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


# --------------------------------------------------------------------------- options and totals

# Every option of `harmscope markets` (the listing): base arguments and the same with the option,
# whose outputs must differ. A new option not listed here fails test_every_listing_option_listed.
LISTING_CHANGES: dict[str, list[str]] = {
    "--scheme": ["--scheme", "count"],
    "--harm": ["--harm", "all"],
    "--type": ["--type", "Violence and sexual offences"],
    "--from": ["--from", "2019-04"],
    "--to": ["--to", "2019-03"],
    "--cell-size": ["--cell-size", "500"],
    "--buffer": ["--buffer", "0"],
    "--alpha": ["--alpha", "0.001"],
    "--include-rejected": ["--include-rejected"],
    "--format": ["--format", "json"],
    "--area": ["--area", "AREA"],
    "--unfound-weight": ["--unfound-weight", "1"],
    "--wide": ["--wide"],  # the table, 80 columns wide: the last column shows
    "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
}
LISTING_SPECIAL = {"--db", "--out"}


def _listing_options() -> set[str]:
    import typer.main

    group = typer.main.get_command(app).commands["markets"]  # type: ignore[attr-defined]
    return {
        max(p.opts, key=len) for p in group.params if p.param_type_name == "option" and p.opts
    } - {"--help"}


def test_every_listing_option_listed() -> None:
    assert _listing_options() == set(LISTING_CHANGES) | LISTING_SPECIAL


@pytest.mark.parametrize("option", sorted(LISTING_CHANGES))
def test_each_listing_option_changes_the_output(db: Path, option: str, tmp_path: Path) -> None:
    if option == "--include-rejected":
        # one rejected market, so that --include-rejected has something to show
        first = markets(db)[0]
        rejected = runner.invoke(app, ["markets", "decide", first.id, "--db", str(db), "--reject"])
        assert rejected.exit_code == 0, rejected.output
    area = tmp_path / "west.geojson"
    ring = [[531500, 180750], [532500, 180750], [532500, 181750], [531500, 181750]]
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    area.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {}, "geometry": geometry}],
            }
        ),
        "utf-8",
    )
    args = [str(area) if a == "AREA" else a for a in LISTING_CHANGES[option]]
    base = runner.invoke(app, ["markets", "--db", str(db), "--format", "csv"])
    if option == "--wide":  # a table option: compare tables, in an 80-column terminal
        base = runner.invoke(app, ["markets", "--db", str(db)], env={"COLUMNS": "80"})
        changed = runner.invoke(app, ["markets", "--db", str(db), *args], env={"COLUMNS": "80"})
    elif option == "--format":
        changed = runner.invoke(app, ["markets", "--db", str(db), *args])
    else:
        changed = runner.invoke(app, ["markets", "--db", str(db), "--format", "csv", *args])
    if option == "--engine":  # another engine on a DuckDB file: refused, naming it
        assert changed.exit_code == 2 and "--engine postgres" in changed.stderr, changed.output
        return
    assert base.exit_code == 0 and changed.exit_code == 0, (base.output, changed.output)
    assert changed.stdout.strip()
    assert base.stdout != changed.stdout, f"{option} was accepted and ignored"


def test_out_writes_the_listing_to_a_file(db: Path, tmp_path: Path) -> None:
    base = runner.invoke(app, ["markets", "--db", str(db), "--format", "csv"])
    out = tmp_path / "m.csv"
    to_file = runner.invoke(app, ["markets", "--db", str(db), "--format", "csv", "--out", str(out)])
    assert to_file.exit_code == 0 and to_file.stdout == ""
    assert out.read_text("utf-8") == base.stdout


def test_listing_says_which_cells_were_split(tmp_path: Path) -> None:
    """36 City months, every drug search counted, occupied cells: two candidates reach the
    same cells; the listing says who ceded what (the table printer the command uses)."""
    from rich.console import Console

    from harmscope.cli.markets import _print_table

    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = base / "policeuk-city-of-london-2018-12_2021-11"
    db = tmp_path / "city36.duckdb"
    ingest_paths([folder / "street", folder / "stop-and-search"], db=db)
    found = markets(db, unfound_search_weight=1.0, within=0.0)
    assert any(m.ceded_cells for m in found)
    console = Console(record=True, width=200)
    _print_table(found, "cchi", console)
    text = " ".join(console.export_text().split())
    for m in found:
        if m.ceded_cells:
            assert (
                f"{m.id}: {m.ceded_cells} cell(s) of its footprint + buffer are counted in "
                f"{m.split_with[0]}" in text
            )
