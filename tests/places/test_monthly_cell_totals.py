"""One ``monthly_cell_totals`` for hot spots and the forecast harness, on real City data.

Expected per-cell, per-month figures are recomputed with plain SQL over the events table and
the DESIGN §3 cchi weights (a Python dict here, not the scheme loader).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.places.forecast import monthly_cell_totals as forecast_totals
from harmscope.places.hotspots import monthly_cell_totals
from harmscope.warehouse import ibis_connect

# DESIGN §3: cchi category weights (days); Drugs and Possession of weapons are activity.
HARM_DAYS = {
    "Violence and sexual offences": 230.89,
    "Robbery": 365.00,
    "Burglary": 247.28,
    "Criminal damage and arson": 10.39,
    "Public order": 7.50,
    "Other crime": 10.00,
    "Vehicle crime": 5.00,
    "Theft from the person": 2.00,
    "Bicycle theft": 2.00,
    "Other theft": 2.00,
    "Shoplifting": 1.00,
    "Anti-social behaviour": 1.00,
}
KEYS = ["cell_x", "cell_y", "month"]


@pytest.fixture(scope="module")
def expected(city_db: Path) -> pd.DataFrame:
    con = duckdb.connect(str(city_db), read_only=True)
    try:
        weights = pd.DataFrame({"event_type": list(HARM_DAYS), "w": list(HARM_DAYS.values())})
        con.register("weights", weights)
        return con.execute(
            """
            SELECT floor(x / 250) * 250 AS cell_x, floor(y / 250) * 250 AS cell_y, month,
                   sum(w) AS harm, count(w) AS harm_events
            FROM events JOIN weights USING (event_type)
            WHERE source = 'street' AND x IS NOT NULL AND y IS NOT NULL
            GROUP BY ALL
            """
        ).df()
    finally:
        con.close()


def _frame(city_db: Path, **kw: Any) -> pd.DataFrame:
    backend = ibis_connect(city_db)
    try:
        return monthly_cell_totals(backend.table("events"), **kw).to_pandas()
    finally:
        backend.disconnect()


def test_figures_match_plain_sql(city_db: Path, expected: pd.DataFrame) -> None:
    got = _frame(city_db, harm="all")  # every crime's harm, as the SQL weighs it
    assert list(got.columns[:3]) == KEYS
    got = got[got.harm_events > 0]
    got["month"] = pd.to_datetime(got["month"])
    expected = expected.assign(month=pd.to_datetime(expected["month"]))
    merged = expected.merge(got, on=KEYS, how="outer", suffixes=("_sql", ""), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert_allclose(merged["harm"], merged["harm_sql"], rtol=1e-9)
    assert (merged["harm_events"] == merged["harm_events_sql"]).all()


def test_month_first_only_reorders(city_db: Path) -> None:
    cells_first = _frame(city_db, months=("2019-02", "2019-04"))
    month_first = _frame(city_db, months=("2019-02", "2019-04"), month_first=True)
    assert list(month_first.columns[:3]) == ["month", "cell_x", "cell_y"]
    assert set(cells_first["month"].astype(str)) == {"2019-02-01", "2019-03-01", "2019-04-01"}
    a = cells_first.sort_values(KEYS).reset_index(drop=True)
    b = month_first[list(cells_first.columns)].sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_forecast_uses_the_same_function() -> None:
    assert forecast_totals is monthly_cell_totals
