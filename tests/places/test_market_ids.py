"""Market ids named after the place: stable across periods and reruns, decisions stay attached.

Real data: the twelve 2019 months of City of London street crime and stop-and-search.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from harmscope.markets import Decision, candidate_id, decide, find_market, markets
from harmscope.warehouse.ingest import ingest_paths

FIRST, SECOND = ("2019-01", "2019-03"), ("2019-07", "2019-12")


def _city_folder() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


@pytest.fixture(scope="module")
def city19(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _city_folder()
    files = [
        f
        for sub in ("street", "stop-and-search")
        for f in sorted((folder / sub).glob("2019-*.csv"))
    ]
    assert len(files) == 24
    db = tmp_path_factory.mktemp("market_ids") / "city.duckdb"
    ingest_paths(files, db=db)
    return db


@pytest.fixture()
def writable(city19: Path, tmp_path: Path) -> Path:
    """A copy of the warehouse for a test that records decisions."""
    copy = tmp_path / "city.duckdb"
    shutil.copy(city19, copy)
    return copy


def market_activity_per_cell(db: Path) -> dict[tuple[float, float], float]:
    """Drug offences plus drug searches that found drugs, per 250 m cell, every month (SQL)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT floor(x / 250) * 250, floor(y / 250) * 250, count(*)
            FROM events
            WHERE x IS NOT NULL AND (
                (source = 'street' AND event_type = 'Drugs')
                OR (source = 'stop_search' AND object_of_search = 'Controlled drugs'
                    AND outcome_linked))
            GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    return {(float(x), float(y)): float(n) for x, y, n in rows}


def test_same_market_keeps_its_id_across_periods_and_reruns(city19: Path) -> None:
    first, second, whole = (markets(city19, months=p) for p in (FIRST, SECOND, (None, None)))
    assert len(first) == len(second) == len(whole) == 1
    a, b, c = first[0], second[0], whole[0]
    # The footprints differ with the period (5, 7 and 6 cells), so the old footprint hashes do.
    assert len({a.cells, b.cells, c.cells}) == 3
    assert len({candidate_id(m.cells, m.cell_size) for m in (a, b, c)}) == 3
    # The id names the place: the same in every period, and on a rerun.
    assert a.id == b.id == c.id
    assert [m.id for m in markets(city19, months=FIRST)] == [a.id]
    # ... the reference cell of the footprint cell with most market activity of all months
    activity = market_activity_per_cell(city19)
    for m in (a, b, c):
        peak = max(m.cells, key=lambda cell: (activity.get(cell, 0.0), -cell[1], -cell[0]))
        assert m.id == f"mkt-{peak[0]:.0f}-{peak[1]:.0f}"
    # Another cell size reads the id on the same 250 m reference grid.
    assert next(m.id for m in markets(city19, cell_size=125)).startswith("mkt-5")
    assert a.place.startswith("On or near ") and a.place.endswith("City of London 001F")


def test_a_decision_on_one_period_applies_on_another(writable: Path) -> None:
    (early,) = markets(writable, months=FIRST)
    decide(writable, early, confirm=True, rename="Bishopsgate market", by="analyst")
    decide(writable, early, characteristics={"mode": "street"}, by="analyst")
    (late,) = markets(writable, months=SECOND)
    assert late.cells != early.cells and late.id == early.id
    assert (late.status, late.name) == ("confirmed", "Bishopsgate market")
    assert late.characteristics["mode"]["value"] == "street"
    assert [d.market_id for d in late.decisions] == [early.id] * 3
    # the listing shows the analyst's name; the place name stays beside it
    assert late.label == "Bishopsgate market" and late.place.startswith("On or near ")
    assert find_market([late], "bishopsgate market") is late


def test_decisions_under_old_ids_still_attach(writable: Path) -> None:
    (early,) = markets(writable, months=FIRST)
    old = candidate_id(early.cells, early.cell_size)  # the id an earlier version listed
    stale = Decision(
        decision_id=1,
        market_id=old,
        action="reject",
        key=None,
        value=None,
        cells={old: early.cells},
        cell_size=early.cell_size,
        decided_by="analyst",
        decided_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    (late,) = markets(writable, months=SECOND, decisions=[stale], include_rejected=True)
    assert late.status == "rejected" and late.decisions == (stale,)
    # an old id copied from an old listing still finds the market
    assert find_market([late], old) is late
    assert find_market([early], old) is early
