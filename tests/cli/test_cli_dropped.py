"""No silent drops: a scheme that omits an event type says so, in every command and result.

Real data: six months of City of London street crime and stop-and-search (``city_db``), and a
copy of the packaged ``cchi`` scheme without its Shoplifting entry. Every expected count is
recomputed here with plain SQL on the warehouse file.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import Dropped, harm_matrix, load_scheme
from harmscope.harm.schemes import BUILTIN_SCHEMES_DIR
from harmscope.warehouse import ibis_connect

runner = CliRunner()
DROPPED_TYPE = "Shoplifting"


@pytest.fixture(scope="module")
def no_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cchi`` minus Shoplifting, as a user would write it: a TOML file of their own."""
    text = (BUILTIN_SCHEMES_DIR / "cchi.toml").read_text(encoding="utf-8")
    head, *blocks = text.split("[[weight]]")
    kept = [b for b in blocks if f'event_type = "{DROPPED_TYPE}"' not in b]
    assert len(kept) == len(blocks) - 1
    path = tmp_path_factory.mktemp("schemes") / "no-shop.toml"
    path.write_text(
        "[[weight]]".join([head.replace('name = "cchi"', 'name = "no-shop"'), *kept]),
        encoding="utf-8",
    )
    assert DROPPED_TYPE not in load_scheme(path).event_types
    return path


def _sql(db: Path, where: str = "") -> int:
    """Street rows of the dropped type, counted with plain SQL."""
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            "SELECT count(*) FROM events WHERE source = 'street' AND event_type = ? " + where,
            [DROPPED_TYPE],
        ).fetchone()
    assert row is not None
    return int(row[0])


def _says(stderr: str, n: int) -> None:
    assert "warning:" in stderr
    assert "'no-shop'" in stderr
    assert f"{DROPPED_TYPE} {n:,}" in stderr
    assert f"{n:,} events left out" in stderr


LOCATED = "AND x IS NOT NULL AND y IS NOT NULL"
SPRING = "AND month BETWEEN DATE '2019-03-01' AND DATE '2019-05-01'"


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["matrix", "--format", "json"], ""),
        (["matrix", "--from", "2019-03", "--to", "2019-05"], SPRING),
        # areas lists the study area's LSOAs only (the City's own six): strays' LSOAs get no row
        (["areas", "--top", "3", "--format", "json"], "AND lsoa_name LIKE 'City of London %'"),
        (["hotspots"], LOCATED),
        (["hotspots", "--from", "2019-03", "--to", "2019-05"], f"{LOCATED} {SPRING}"),
        (["emerging"], LOCATED),
        (["concentration", "--format", "json"], LOCATED),
        (["markets", "--format", "json"], LOCATED),
        (["priorities", "--lens", "places", "--top", "3"], LOCATED),
        (["priorities", "--lens", "markets"], LOCATED),
        (["validate-forecast", "--warmup", "3", "--format", "json"], LOCATED),
        (["scorecard", "--format", "json"], ""),
        (
            [
                "evaluate",
                "--target",
                "lsoa:E01000005",
                "--control",
                "all",
                "--pre",
                "2019-01:2019-03",
                "--post",
                "2019-04:2019-06",
                "--format",
                "json",
            ],
            "",
        ),
    ],
    ids=lambda v: v[0] if isinstance(v, list) else None,
)
def test_every_weighing_command_names_the_type_and_count(
    city_db: Path, no_shop: Path, args: list[str], where: str
) -> None:
    res = runner.invoke(app, [*args, "--db", str(city_db), "--scheme", str(no_shop)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip()
    expected = _sql(city_db, where)
    assert expected > 100  # the City records hundreds of shoplifting offences in six months
    _says(res.stderr, expected)


def test_the_default_scheme_warns_nothing(city_db: Path) -> None:
    for args in (["matrix"], ["hotspots"], ["concentration"]):
        res = runner.invoke(app, [*args, "--db", str(city_db)])
        assert res.exit_code == 0, res.output
        assert "warning:" not in res.stderr and "does not weigh" not in res.stderr


def test_json_results_carry_the_count(city_db: Path, no_shop: Path) -> None:
    n_all, n_located = _sql(city_db), _sql(city_db, LOCATED)
    expected = {"scheme": "no-shop", "events": n_all, "types": {DROPPED_TYPE: n_all}}
    res = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--scheme", str(no_shop), "--format", "json"]
    )
    assert json.loads(res.stdout)["dropped"] == expected
    res = runner.invoke(
        app, ["concentration", "--db", str(city_db), "--scheme", str(no_shop), "--format", "json"]
    )
    assert json.loads(res.stdout)["dropped"]["types"] == {DROPPED_TYPE: n_located}
    res = runner.invoke(
        app, ["scorecard", "--db", str(city_db), "--scheme", str(no_shop), "--format", "json"]
    )
    assert json.loads(res.stdout)["dropped"] == [expected]


def test_library_results_carry_the_count(city_db: Path, no_shop: Path, tmp_path: Path) -> None:
    from harmscope.evaluate.intervention import Intervention, evaluate_intervention
    from harmscope.evaluate.scorecard import scorecard
    from harmscope.places.concentration import place_concentration
    from harmscope.places.hotspots import hotspots
    from harmscope.priorities import rank
    from harmscope.report.evaluation import write_report
    from harmscope.report.overview import write_overview

    n_all, n_located = _sql(city_db), _sql(city_db, LOCATED)
    events = ibis_connect(city_db).table("events")
    assert harm_matrix(events, scheme=no_shop).dropped.by_type == {DROPPED_TYPE: n_all}
    spots = hotspots(events, scheme=no_shop)
    assert Dropped.from_dict(spots.attrs["dropped"]).by_type == {DROPPED_TYPE: n_located}
    assert place_concentration(events, scheme=no_shop).dropped.events == n_located
    places = rank("places", city_db, scheme=no_shop, top=3)
    assert Dropped.from_dict(places.attrs["dropped"]).events == n_located
    card = scorecard(db=city_db, schemes=("cchi", str(no_shop)))
    assert [d.events for d in card.dropped] == [0, n_all]
    iv = Intervention.from_dict(
        {
            "name": "drop check",
            "target": "lsoa:E01000005",
            "control": "all",
            "pre": "2019-01:2019-03",
            "post": "2019-04:2019-06",
            "scheme": str(no_shop),
        },
        base=tmp_path,
    )
    ev = evaluate_intervention(iv, db=city_db)
    assert ev.dropped.by_type == {DROPPED_TYPE: n_all}
    assert ev.to_dict()["dropped"]["events"] == n_all
    # ... and the reports state it.
    files = write_report(ev, tmp_path / "ev")
    assert f"{DROPPED_TYPE} {n_all:,}" in files["html"].read_text(encoding="utf-8")
    html = write_overview(tmp_path / "overview.html", db=city_db, scheme=str(no_shop))
    assert f"{DROPPED_TYPE} {n_all:,}" in html.read_text(encoding="utf-8")


def test_a_market_matrix_carries_the_count_of_its_own_cells(city_db: Path, no_shop: Path) -> None:
    from harmscope.places.markets import markets

    found = markets(city_db, scheme=no_shop)
    assert found, "the City has candidate markets in these six months"
    m = found[0]
    cells = ", ".join(f"({x:.0f}, {y:.0f})" for x, y in m.area_cells)
    size = m.cell_size
    expected = _sql(
        city_db,
        f"AND (floor(x / {size}) * {size}, floor(y / {size}) * {size}) IN ({cells})",
    )
    assert expected > 0  # shoplifting happens where the market is, too
    assert m.matrix.dropped.by_type == {DROPPED_TYPE: expected}


def test_warn_dropped_prints_nothing_when_nothing_was_left_out() -> None:
    from io import StringIO

    from rich.console import Console

    from harmscope.cli._common import warn_dropped

    buf = StringIO()
    console = Console(file=buf, width=40)
    warn_dropped(console, None)
    warn_dropped(console, Dropped(scheme="cchi"))
    assert buf.getvalue() == ""
    # A type named like Rich markup prints as written, on one line however narrow the console.
    warn_dropped(console, {"scheme": "x", "types": {"[bold]Fraud": 12_345}})
    assert buf.getvalue().count("\n") == 1
    assert "[bold]Fraud 12,345" in buf.getvalue()
