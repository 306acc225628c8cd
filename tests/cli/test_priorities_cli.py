"""``harmscope priorities`` (DESIGN §5 contract) through CliRunner."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.priorities import LENSES, PLANNED_LENSES, Lens, rank_markets, rank_places
from harmscope.warehouse.ingest import ingest_paths

runner = CliRunner()


def _run(city_db: Path, *args: str) -> Any:
    return runner.invoke(app, ["priorities", "--db", str(city_db), *args])


@pytest.mark.parametrize("lens", ["places", "markets"])
def test_priorities_csv_and_json(city_db: Path, lens: str) -> None:
    result = _run(city_db, "--lens", lens)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:5]) == ["lens", "rank", "unit_id", "score", "reasons"]
    assert (frame["lens"] == lens).all()
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert frame["score"].is_monotonic_decreasing and len(frame) > 0
    # reasons in words (crime types, then harms), the matrix keys beside them
    assert frame["reasons"].str.contains(r"^[A-Z][\w ,-]+: \d+ % of harm; ").all()
    assert frame["reasons"].str.contains(r" harm to \w+, from \w+: [\d,]+ days \(\d+ %\)").all()
    assert frame["reason_cells"].str.fullmatch(r"\w+/\w+/\w+(?:; \w+/\w+/\w+)*").all()
    if lens == "places":
        assert {"cell_x", "cell_y"} <= set(frame.columns)
    as_json = _run(city_db, "--lens", lens, "--format", "json", "--top", "2")
    rows = json.loads(as_json.stdout)
    assert [r["rank"] for r in rows] == list(range(1, min(2, len(frame)) + 1))
    assert [r["unit_id"] for r in rows] == frame["unit_id"].head(2).tolist()
    assert isinstance(rows[0]["reasons"], list) and rows[0]["reasons"]


def test_priorities_options(city_db: Path) -> None:
    big = _run(
        city_db,
        *("--lens", "places", "--cell-size", "200", "--from", "2019-04", "--to", "2019-06"),
        *("--significance", "require", "--format", "json"),
    )
    rows = json.loads(big.stdout)
    assert rows and all(r["cell_x"] % 200 == 0 and r["p_fdr"] <= 0.05 for r in rows)


def test_lens_all_is_one_board_across_the_lenses_that_exist(city_db: Path) -> None:
    result = _run(city_db, "--lens", "all", "--buffer", "500", "--format", "json")
    assert result.exit_code == 0, result.output
    # the personal lenses are left out without --user/--reason, saying why
    assert "people (reads force records" in " ".join(result.stderr.split())
    assert "board score: score = H_b * (L / 5) * C * O" in " ".join(result.stderr.split())
    rows = json.loads(result.stdout)
    # the board holds both lenses' rows, each with its rank in its lens
    places = rank_places(city_db)
    found = rank_markets(city_db, buffer=500.0)
    expected = {
        (lens, u, r)
        for lens, frame in (("places", places), ("markets", found))
        for u, r in zip(frame["unit_id"], frame["rank"], strict=True)
    }
    assert {(r["lens"], r["unit_id"], r["lens_rank"]) for r in rows} == expected
    # ranked together by the board score; a place's is 5 h / max h x L/5 x 0.9 (no survey,
    # likelihood L from its trend, recency and forecast (the row's `likelihood`, recomputed in
    # tests/priorities/test_priorities_board.py), confidence 0.8, neutral position)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    top = float(places["harm"].max())
    by_id = {r["unit_id"]: r for r in rows}
    for u, h in zip(places["unit_id"], places["harm"], strict=True):
        like = by_id[u]["likelihood"]
        assert 1 <= like <= 5
        assert by_id[u]["score"] == pytest.approx(5 * h / top * like / 5 * 0.9)
    assert all(r["community_mix"] == 0.25 and r["top_cells"] and r["evidence"] for r in rows)
    top3 = json.loads(_run(city_db, "--lens", "all", "--top", "3", "--format", "json").stdout)
    assert [r["rank"] for r in top3] == [1, 2, 3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lens", "people"], "--lens people reads force records (personal data)"),
        (["--lens", "groups"], "give --user NAME and --reason TEXT"),
        (
            ["--lens", "behaviours", "--user", "A", "--reason", "B"],
            "no force records are loaded",
        ),
        (["--lens", "weather"], "unknown lens 'weather'"),
        (["--lens", "places", "--to", "19-01"], "expected YYYY-MM"),
        (["--lens", "markets", "--significance", "weight"], "--significance applies to"),
        (["--lens", "markets", "--significance", "none"], "--significance applies to"),
        (["--lens", "places", "--buffer", "500"], "--buffer applies to --lens markets"),
        (["--lens", "places", "--format", "xml"], "--format must be csv or json"),
    ],
)
def test_priorities_errors(city_db: Path, args: list[str], message: str) -> None:
    result = _run(city_db, *args)
    assert result.exit_code == 2 and message in " ".join(result.stderr.split())
    assert result.stdout == ""


# --------------------------------------------------------------------------- no ignored option

# Every option of `harmscope priorities`: (base arguments, the same with the option) whose
# outputs must differ, or (arguments, message) that must be refused. A new option that is not
# listed here fails test_every_option_is_listed: decide which it is before adding it.
CHANGES: dict[str, list[tuple[list[str], list[str]]]] = {
    "--lens": [(["--lens", "places"], ["--lens", "markets"])],
    "--scheme": [(["--lens", "places"], ["--lens", "places", "--scheme", "count"])],
    "--harm": [
        (["--lens", "places"], ["--lens", "places", "--harm", "all"]),
        (["--lens", "markets"], ["--lens", "markets", "--harm", "all"]),
    ],
    "--type": [
        (["--lens", "places"], ["--lens", "places", "--type", "Burglary"]),
        (["--lens", "all"], ["--lens", "all", "--type", "Violence and sexual offences"]),
    ],
    "--from": [(["--lens", "places"], ["--lens", "places", "--from", "2019-04"])],
    "--to": [(["--lens", "places"], ["--lens", "places", "--to", "2019-03"])],
    "--cell-size": [(["--lens", "places"], ["--lens", "places", "--cell-size", "500"])],
    "--top": [(["--lens", "places"], ["--lens", "places", "--top", "3"])],
    "--significance": [
        (["--lens", "places"], ["--lens", "places", "--significance", "weight"]),
        (["--lens", "all"], ["--lens", "all", "--significance", "require"]),
    ],
    "--buffer": [
        (["--lens", "markets"], ["--lens", "markets", "--buffer", "500"]),
        (["--lens", "all"], ["--lens", "all", "--buffer", "500"]),
    ],
    "--format": [(["--lens", "places"], ["--lens", "places", "--format", "json"])],
    "--area": [(["--lens", "places"], ["--lens", "places", "--area", "AREA"])],
    "--community-mix": [(["--lens", "places"], ["--lens", "places", "--community-mix", "0"])],
    "--morile": [(["--lens", "markets"], ["--lens", "markets", "--morile", "MORILE"])],
}
REFUSED: dict[str, list[tuple[list[str], str]]] = {
    "--significance": [(["--lens", "markets", "--significance", "weight"], "--significance")],
    "--buffer": [(["--lens", "places", "--buffer", "500"], "--buffer")],
    "--lens": [(["--lens", "groups"], "reads force records")],
    "--user": [
        (["--lens", "places", "--user", "A", "--reason", "B"], "--user and --reason apply to"),
        (["--lens", "all", "--user", "A"], "--user needs --reason too"),
    ],
    "--reason": [
        (["--lens", "places", "--reason", "B"], "--reason apply to lenses that read force records")
    ],
    # Another engine on a DuckDB file (tests/engines runs the board on each engine).
    "--engine": [(["--lens", "places", "--engine", "postgres"], "--engine postgres")],
}
# checked below: another warehouse, a file instead of stdout, snapshots (saved, then compared)
SPECIAL = {"--db", "--out", "--save-snapshot", "--compare-with"}


def _options() -> set[str]:
    command = typer.main.get_command(app).commands["priorities"]  # type: ignore[attr-defined]
    return {
        max(p.opts, key=len) for p in command.params if p.param_type_name == "option" and p.opts
    } - {"--help"}


def test_every_option_is_listed() -> None:
    assert _options() == set(CHANGES) | set(REFUSED) | SPECIAL


def _square(tmp_path: Path) -> str:
    """A BNG GeoJSON square over the east of the City (Bishopsgate), for --area."""
    ring = [[532750, 180750], [533750, 180750], [533750, 181750], [532750, 181750]]
    path = tmp_path / "east.geojson"
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    return str(path)


def _morile(tmp_path: Path) -> str:
    """A MoRiLE file: the force has no partner for markets (partnership gap 5)."""
    path = tmp_path / "force.toml"
    path.write_text("[position.lens.markets]\npartnership = 5\n", "utf-8")
    return str(path)


@pytest.mark.parametrize("option", sorted(CHANGES))
def test_each_option_changes_the_output(city_db: Path, option: str, tmp_path: Path) -> None:
    for base, given in CHANGES[option]:
        changed = [
            _square(tmp_path) if a == "AREA" else _morile(tmp_path) if a == "MORILE" else a
            for a in given
        ]
        a, b = _run(city_db, *base), _run(city_db, *changed)
        assert a.exit_code == 0 and b.exit_code == 0, (a.output, b.output)
        assert a.stdout.strip() and b.stdout.strip()
        assert a.stdout != b.stdout, f"{option} was accepted and ignored: {changed}"


@pytest.mark.parametrize("option", sorted(REFUSED))
def test_options_that_do_not_apply_are_refused(city_db: Path, option: str) -> None:
    for args, message in REFUSED[option]:
        result = _run(city_db, *args)
        assert result.exit_code == 2 and result.stdout == ""
        assert message in " ".join(result.stderr.split())


def test_db_and_out_change_where_rows_come_from_and_go(city_db: Path, tmp_path: Path) -> None:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base_dir = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    january = base_dir / "policeuk-city-of-london-2018-12_2021-11" / "street"
    other = tmp_path / "january.duckdb"
    ingest_paths([january / "2019-01-city-of-london-street.csv"], db=other)
    base = _run(city_db, "--lens", "places")
    elsewhere = runner.invoke(app, ["priorities", "--db", str(other), "--lens", "places"])
    assert elsewhere.exit_code == 0 and elsewhere.stdout.strip()
    assert elsewhere.stdout != base.stdout
    out = tmp_path / "rows.csv"
    to_file = _run(city_db, "--lens", "places", "--out", str(out))
    assert to_file.exit_code == 0 and to_file.stdout == ""
    assert out.read_text("utf-8") == base.stdout


def test_snapshot_saved_then_compared_through_the_cli(city_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "snap.duckdb"
    shutil.copy(city_db, db)
    first = runner.invoke(
        app,
        [
            "priorities",
            "--db",
            str(db),
            "--lens",
            "places",
            "--to",
            "2019-03",
            "--save-snapshot",
            "q1",
            "--format",
            "json",
        ],
    )
    assert first.exit_code == 0, first.output
    assert "saved as snapshot 'q1'" in first.stderr
    again = runner.invoke(
        app, ["priorities", "--db", str(db), "--lens", "places", "--save-snapshot", "q1"]
    )
    assert again.exit_code == 2 and "exists already" in again.stderr and again.stdout == ""
    later = runner.invoke(
        app,
        [
            "priorities",
            "--db",
            str(db),
            "--lens",
            "places",
            "--from",
            "2019-04",
            "--compare-with",
            "last",
            "--format",
            "json",
        ],
    )
    assert later.exit_code == 0, later.output
    was = {r["unit_id"]: r["rank"] for r in json.loads(first.stdout)}
    rows = json.loads(later.stdout)
    for r in rows:
        if r["unit_id"] in was:
            assert r["previous_rank"] == was[r["unit_id"]]
            assert r["rank_change"] == was[r["unit_id"]] - r["rank"]
            assert r["moved"].startswith(("up", "down", "same"))
        else:
            assert r["movement"] == "new" and r["previous_rank"] is None
    gone = set(was) - {r["unit_id"] for r in rows}
    if gone:
        assert "dropped since q1" in later.stderr
    missing = runner.invoke(
        app, ["priorities", "--db", str(db), "--lens", "places", "--compare-with", "q7"]
    )
    assert missing.exit_code == 2 and "no snapshot named 'q7' (saved: q1)" in missing.stderr


def test_user_and_reason_reach_a_personal_lens_only(
    city_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []

    def people(source: Any, **options: Any) -> pd.DataFrame:
        seen.append(options)
        frame = pd.DataFrame(
            {"rank": [1], "unit_id": ["N-1"], "score": [3.0], "reasons": [["x"]], "harm": [3.0]}
        )
        return frame

    monkeypatch.setitem(LENSES, "people", Lens("people", "test", people, personal=True))
    monkeypatch.delitem(PLANNED_LENSES, "people", raising=False)
    refused = _run(city_db, "--lens", "people")
    assert refused.exit_code == 2 and "give --user NAME and --reason TEXT" in refused.stderr
    left_out = _run(city_db, "--lens", "all", "--format", "json")
    assert left_out.exit_code == 0 and not seen
    assert "people (reads force records" in " ".join(left_out.stderr.split())
    held = _run(
        city_db, "--lens", "all", "--user", "A. Analyst", "--reason", "tasking", "--format", "json"
    )
    assert held.exit_code == 0, held.output
    assert seen[-1]["user"] == "A. Analyst" and seen[-1]["reason"] == "tasking"
    assert "N-1" in {r["unit_id"] for r in json.loads(held.stdout)}
    assert held.stdout != left_out.stdout


def test_markets_take_user_and_reason_and_run_without_records(city_db: Path) -> None:
    """The markets lens reads force records when given a user and a reason; on a warehouse
    without records it ranks as it does without them (the police.uk harm in the area)."""
    plain = _run(city_db, "--lens", "markets", "--format", "json")
    read = _run(
        city_db,
        "--lens",
        "markets",
        "--user",
        "A. Analyst",
        "--reason",
        "tasking",
        "--format",
        "json",
    )
    assert plain.exit_code == 0 and read.exit_code == 0, read.output
    rows = [(r["unit_id"], r["score"]) for r in json.loads(read.stdout)]
    assert rows and rows == [(r["unit_id"], r["score"]) for r in json.loads(plain.stdout)]
