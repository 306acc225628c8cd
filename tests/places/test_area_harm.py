"""Harm per LSOA and per IMD decile on a simulated city, checked against plain SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from harmscope.harm import load_scheme
from harmscope.places.area_harm import area_harm, harm_by_imd_decile
from harmscope.simulate import simulate
from harmscope.sources.areas import load_areas_csv
from harmscope.warehouse import connect, ibis_connect
from harmscope.warehouse.ingest import ingest_paths


@pytest.fixture(scope="module")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(seed=11, months=4, size="small").write(out / "city")
    db = out / "w.duckdb"
    ingest_paths([out / "city"], db=db)
    con = connect(db)
    load_areas_csv(con, out / "city" / "areas.csv")
    con.close()
    return db


def _sql_harm_per_lsoa(db: Path) -> dict[str, tuple[float, int | None]]:
    """Harm per LSOA and population, written directly in SQL from the cchi weights."""
    weights = load_scheme("cchi").weights
    values = ", ".join(f"('{w.event_type}', {w.weight})" for w in weights if w.kind == "harm")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            f"""SELECT e.lsoa_code, sum(w.weight)::DOUBLE, any_value(a.population)
                FROM events e JOIN (VALUES {values}) w(t, weight) ON e.event_type = w.t
                LEFT JOIN areas a USING (lsoa_code)
                WHERE e.source = 'street' AND e.lsoa_code IS NOT NULL GROUP BY 1"""
        ).fetchall()
    return {code: (harm, pop) for code, harm, pop in rows}


def test_area_harm_and_rate_match_sql(sim_db: Path) -> None:
    con = ibis_connect(sim_db)
    got = area_harm(con.table("events"), con.table("areas"), harm="all").to_pandas()
    expected = _sql_harm_per_lsoa(sim_db)
    assert set(got["lsoa_code"]) == set(expected)
    for row in got.itertuples():
        harm, pop = expected[row.lsoa_code]
        assert row.harm == pytest.approx(harm)
        assert row.harm_per_1000 == pytest.approx(harm / pop * 1000)
    assert list(got["harm"]) == sorted(got["harm"], reverse=True)


def test_deciles_add_up(sim_db: Path) -> None:
    con = ibis_connect(sim_db)
    per_area = area_harm(con.table("events"), con.table("areas"))
    deciles = harm_by_imd_decile(per_area).to_pandas()
    areas = con.table("areas").to_pandas()
    assert deciles["harm"].sum() == pytest.approx(per_area.to_pandas()["harm"].sum())
    by_decile = areas.groupby("imd_decile")["population"].sum()
    in_events = set(per_area.to_pandas()["lsoa_code"])
    by_decile_seen = (
        areas[areas["lsoa_code"].isin(in_events)].groupby("imd_decile")["population"].sum()
    )
    for row in deciles.itertuples():
        assert row.population == by_decile_seen[row.imd_decile] <= by_decile[row.imd_decile]
        assert row.harm_per_1000 == pytest.approx(row.harm / row.population * 1000)
