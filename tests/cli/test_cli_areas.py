"""``harmscope areas`` on real City of London data: --top, --by-month and rate periods.

Expected figures are recomputed here in plain SQL and pandas from the warehouse rows and the
scheme's weights, not through ``places.area_harm``.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import load_scheme

runner = CliRunner()


@pytest.fixture(scope="module")
def expected(city_db: Path) -> pd.DataFrame:
    """cchi harm per LSOA and month: street rows of kind 'harm', weight per crime type, in the
    study area's LSOAs (the City's own six; strays' LSOAs in neighbouring boroughs get no row)."""
    weights = pd.DataFrame(
        [(w.event_type, w.weight) for w in load_scheme("cchi").weights if w.kind == "harm"],
        columns=["event_type", "weight"],
    )
    with duckdb.connect(str(city_db), read_only=True) as con:
        con.register("weights", weights)
        frame = con.execute(
            """
            SELECT e.lsoa_code, strftime(e.month, '%Y-%m') AS month, sum(w.weight) AS harm
            FROM events e JOIN weights w USING (event_type)
            WHERE e.source = 'street' AND e.lsoa_code IS NOT NULL
              AND e.lsoa_name LIKE 'City of London %'
            GROUP BY ALL
            """
        ).df()
    return frame


def _areas(db: Path, *args: str) -> list[dict[str, object]]:
    # all crime harm: the expected figures weigh every crime (the default is drug-attributed)
    res = runner.invoke(app, ["areas", "--db", str(db), "--format", "json", "--harm", "all", *args])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows, "no rows"
    return rows  # type: ignore[no-any-return]


def test_top_by_month_is_top_n_of_each_month(city_db: Path, expected: pd.DataFrame) -> None:
    rows = _areas(city_db, "--by-month", "--top", "3")
    # harm to 1e-6 days: the warehouse sums in fixed point (harm.weigh.repeatable_sum), the
    # expected figures in DuckDB's floats
    got = [(r["month"], r["lsoa_code"], pytest.approx(float(r["harm"]), abs=1e-6)) for r in rows]  # type: ignore[arg-type]
    want = [
        (m, lsoa, h)
        for m, group in expected.groupby("month")
        for lsoa, h in group.sort_values(["harm", "lsoa_code"], ascending=[False, True])
        .head(3)[["lsoa_code", "harm"]]
        .itertuples(index=False)
    ]
    assert got == want
    assert {r["month"] for r in rows} == {f"2019-0{m}" for m in range(1, 7)}  # not month 1 only
    everything = _areas(city_db, "--by-month")
    harmful = [r for r in everything if float(r["harm"]) > 0]  # type: ignore[arg-type]
    assert len(harmful) == len(expected)
    assert len(everything) > len(rows) == 18  # --top changes the output


def test_top_without_months_is_the_overall_top_n(city_db: Path, expected: pd.DataFrame) -> None:
    rows = _areas(city_db, "--top", "4")
    totals = expected.groupby("lsoa_code")["harm"].sum().reset_index()
    want = totals.sort_values(["harm", "lsoa_code"], ascending=[False, True]).head(4)
    assert [r["lsoa_code"] for r in rows] == want["lsoa_code"].tolist()
    assert [r["harm"] for r in rows] == pytest.approx(want["harm"].tolist())
    assert {r["rate_period"] for r in rows} == {"2019-01 to 2019-06"}  # each rate's period


def test_table_states_the_period_of_each_rate(city_db: Path) -> None:
    whole = runner.invoke(
        app, ["areas", "--db", str(city_db), "--top", "2"], env={"COLUMNS": "200"}
    )
    assert whole.exit_code == 0, whole.output
    assert "per 1,000 residents 2019-01 to 2019-06" in whole.stdout
    part = runner.invoke(
        app,
        ["areas", "--db", str(city_db), "--top", "2", "--from", "2019-02", "--to", "2019-03"],
        env={"COLUMNS": "200"},
    )
    assert "per 1,000 residents 2019-02 to 2019-03" in part.stdout
    monthly = runner.invoke(
        app, ["areas", "--db", str(city_db), "--top", "1", "--by-month"], env={"COLUMNS": "200"}
    )
    assert "per 1,000 residents in the month" in monthly.stdout


def test_negative_top_is_refused(city_db: Path) -> None:
    res = runner.invoke(app, ["areas", "--db", str(city_db), "--top", "-1"])
    assert res.exit_code == 2
    assert "--top" in res.output and "greater than or equal to 0" in res.output  # by name
