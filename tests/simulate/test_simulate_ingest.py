"""The simulated archive ingests cleanly, and the truth joins what the warehouse holds."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from harmscope.simulate import HARM_DAYS, SimResult
from harmscope.simulate.params import ACTIVITY_TYPES
from harmscope.warehouse.ingest import ingest_paths


@pytest.fixture(scope="module")
def warehouse(small_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("wh") / "sim.duckdb"
    ingest_paths(sorted(small_dir.glob("20*")), db=db)  # strict: raises on any bad row
    return db


def test_ingests_every_row_with_no_errors(warehouse: Path, small_sim: SimResult) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = dict(con.sql("SELECT source, count(*) FROM events GROUP BY source").fetchall())
        assert counts == {
            "street": len(small_sim.street),
            "outcome": len(small_sim.outcomes),
            "stop_search": len(small_sim.stop_search),
        }
        assert con.sql("SELECT count(*) FROM quarantine").fetchone() == (0,)
        folded = con.sql(
            "SELECT sum(rows_folded), sum(rows_quarantined) FROM ingest_files"
        ).fetchone()
        assert folded == (0, 0)
        missing_xy = con.sql(
            "SELECT count(*) FROM events WHERE source <> 'stop_search' AND x IS NULL"
        ).fetchone()
        assert missing_xy == (0,)
    finally:
        con.close()


def test_ingesting_again_adds_nothing(warehouse: Path, small_dir: Path) -> None:
    report = ingest_paths(sorted(small_dir.glob("20*")), db=warehouse)
    assert report.rows_loaded == 0


def test_truth_joins_the_warehouse_cell_by_cell(warehouse: Path, small_sim: SimResult) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ev = con.sql(
            "SELECT strftime(month, '%Y-%m') AS month, event_type, "
            "CAST(floor(x / 250) * 250 AS BIGINT) AS cell_x, CAST(floor(y / 250) * 250 AS BIGINT) AS cell_y "
            "FROM events WHERE source = 'street'"
        ).df()
    finally:
        con.close()
    ev["harm"] = (
        ev["event_type"].map(HARM_DAYS).where(~ev["event_type"].isin(list(ACTIVITY_TYPES)), 0.0)
    )
    got = ev.groupby(["month", "cell_x", "cell_y"])["harm"].sum()
    truth = small_sim.truth["places"].set_index(["month", "cell_x", "cell_y"])["recorded_harm"]
    truth = truth[truth > 0]
    got = got[got > 0]
    joined = pd.concat([got.rename("warehouse"), truth.rename("truth")], axis=1)
    assert joined.notna().all().all()  # the same cells, months
    np.testing.assert_allclose(joined["warehouse"], joined["truth"], rtol=1e-9, atol=1e-3)
