"""``harmscope priorities`` (DESIGN §5 contract) through CliRunner."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.priorities import rank_markets, rank_places
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
    assert "people" in result.stderr and "not available yet" in result.stderr
    rows = json.loads(result.stdout)
    # the board is the two lenses' own rankings merged by score, recomputed here
    places = rank_places(city_db)
    found = rank_markets(city_db, buffer=500.0)
    both = [
        (lens, u, s, r)
        for lens, frame in (("places", places), ("markets", found))
        for u, s, r in zip(frame["unit_id"], frame["score"], frame["rank"], strict=True)
    ]
    expected = sorted(both, key=lambda t: (-t[2], t[0], t[3]))
    assert [(r["lens"], r["unit_id"], r["lens_rank"]) for r in rows] == [
        (lens, unit, rank) for lens, unit, _s, rank in expected
    ]
    assert [r["score"] for r in rows] == pytest.approx([s for _l, _u, s, _r in expected])
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert {r["lens"] for r in rows} == {"places", "markets"}
    top = json.loads(_run(city_db, "--lens", "all", "--top", "3", "--format", "json").stdout)
    assert [r["rank"] for r in top] == [1, 2, 3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lens", "people"], "--lens people: not available yet"),
        (["--lens", "groups"], "--lens groups: not available yet"),
        (["--lens", "behaviours"], "--lens behaviours: not available yet"),
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
}
REFUSED: dict[str, list[tuple[list[str], str]]] = {
    "--significance": [(["--lens", "markets", "--significance", "weight"], "--significance")],
    "--buffer": [(["--lens", "places", "--buffer", "500"], "--buffer")],
    "--lens": [(["--lens", "groups"], "not available yet")],
    # Another engine on a DuckDB file (tests/engines runs the board on each engine).
    "--engine": [(["--lens", "places", "--engine", "postgres"], "--engine postgres")],
}
SPECIAL = {"--db", "--out"}  # checked below: another warehouse, and a file instead of stdout


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


@pytest.mark.parametrize("option", sorted(CHANGES))
def test_each_option_changes_the_output(city_db: Path, option: str, tmp_path: Path) -> None:
    for base, given in CHANGES[option]:
        changed = [_square(tmp_path) if a == "AREA" else a for a in given]
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
