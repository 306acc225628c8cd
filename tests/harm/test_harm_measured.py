"""Measured cells: partner indicators and harms of control, on real City of London records
and the real drug statistics; every figure recomputed with pandas, numpy or SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from harm_testdata import shared_data_dir
from numpy.testing import assert_allclose
from scipy.stats import gamma

from harmscope.errors import SchemeError
from harmscope.harm.control import (
    excess_after_surges,
    nil_find_searches,
    violence_after_enforcement,
)
from harmscope.harm.evidence import explain
from harmscope.harm.measured import (
    default_indicators,
    force_areas,
    load_indicators,
    measured_cells,
    poisson_interval,
)
from harmscope.warehouse import Warehouse

CITY = (shared_data_dir() or Path("missing")) / "policeuk-city-of-london-2018-12_2021-11"
SIX = [f"2019-0{m}" for m in range(1, 7)]


def test_poisson_interval_is_garwoods() -> None:
    # Published exact 95% limits (e.g. Garwood 1936 tables): 0 -> (0, 3.689), 10 -> (4.795,
    # 18.390); and the gamma form of the same interval for any count.
    assert_allclose(poisson_interval(0), (0.0, 3.688879), rtol=1e-6)
    assert_allclose(poisson_interval(10), (4.795389, 18.390356), rtol=1e-6)
    for n in (1, 35, 1180):
        assert_allclose(poisson_interval(n), (gamma.ppf(0.025, n), gamma.ppf(0.975, n + 1)))


def test_catalogue_places_indicators_in_the_matrix() -> None:
    cat = default_indicators()
    deaths = cat.get("drug_misuse_deaths")
    assert (deaths.harm_type, deaths.bearer, deaths.source) == ("health", "individuals", "use")
    needles = cat.get("needle_finds")
    assert (needles.harm_type, needles.bearer, needles.source) == (
        "environmental",
        "communities",
        "use",
    )
    assert cat.get("treatment_entries").kind == "service"
    assert cat.get("nil_find_searches").source == "control"
    assert all(r in cat.references for i in cat.indicators.values() for r in i.refs)


def test_bad_catalogue_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text('[indicators.x]\nkind = "harm"\nunit = "deaths"\n', encoding="utf-8")
    with pytest.raises(SchemeError, match=r"p\.toml: indicators\.x: a harm indicator needs"):
        load_indicators(bad)


def test_force_names_match_police_uk_forces() -> None:
    names = ["City of London", "Metropolitan Police", "Lincolnshire", "Avon and Somerset"]
    assert force_areas(["City of London Police"], names) == ["City of London"]
    assert force_areas(["Metropolitan Police Service"], names) == ["Metropolitan Police"]
    assert force_areas(["Lincolnshire Police"], names) == ["Lincolnshire"]
    assert force_areas(["Avon & Somerset Constabulary"], names) == ["Avon and Somerset"]


def _rows(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "area_code": None,
        "area_name": "Lincolnshire",
        "area_level": "police_force",
        "period": "2019",
        "month_from": pd.Timestamp("2019-01-01"),
        "month_to": pd.Timestamp("2019-12-01"),
        "indicator": "drug_misuse_deaths",
        "value": 69.0,
    }
    row.update(over)
    return row


def test_only_whole_periods_inside_the_months_count() -> None:
    frame = pd.DataFrame(
        [
            _rows(),
            _rows(period="2018", month_from=pd.Timestamp("2018-01-01"), value=60.0),
            _rows(area_name="Lincolnshire", area_level="upper_tier_la", value=69.0),
            _rows(area_name="Kent", value=100.0),
        ]
    )
    year = measured_cells(frame, months=("2019-01", "2019-12"), areas=["Lincolnshire"])
    assert [c["value"] for c in year] == [69.0]  # force level only; the LA repeat left out
    assert year[0]["periods"] == ["2019"] and "overlap" in year[0]["note"]
    both = measured_cells(frame, months=("2018-01", "2019-12"), areas=["Lincolnshire"])
    assert both[0]["value"] == 129.0
    half = measured_cells(frame, months=("2019-01", "2019-06"), areas=["Lincolnshire"])
    assert half[0]["value"] is None and "2018 to 2019" in half[0]["note"]
    assert "No drug misuse deaths figure" in explain(half[0])
    assert measured_cells(frame, months=None) == []  # no LSOA rows, no area chosen


def test_lsoa_rows_and_the_lsoa_filter() -> None:
    frame = pd.DataFrame(
        [
            _rows(
                area_code=code,
                area_name=None,
                area_level="lsoa",
                period=month,
                month_from=pd.Timestamp(f"{month}-01"),
                month_to=pd.Timestamp(f"{month}-01"),
                indicator="needle_finds",
                value=float(v),
            )
            for code, month, v in [("A", "2021-01", 3), ("A", "2021-02", 4), ("B", "2021-02", 5)]
        ]
        + [_rows()]
    )
    cells = measured_cells(frame, months=("2021-02", "2021-02"), areas=["Lincolnshire"])
    needles = next(c for c in cells if c["indicator"] == "needle_finds")
    assert needles["value"] == 9.0 and needles["areas"] == ["A", "B"]
    only_a = measured_cells(frame, lsoas=["A"], areas=["Lincolnshire"])
    assert [(c["indicator"], c["value"]) for c in only_a] == [("needle_finds", 7.0)]


# -- harms of control, on real City of London records -----------------------------------------


def _raw_searches() -> pd.DataFrame:
    frames = [
        pd.read_csv(CITY / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv")
        for m in SIX
    ]
    return pd.concat(frames, ignore_index=True)


def test_nil_find_drug_searches_match_the_raw_files(city_db: Path) -> None:
    raw = _raw_searches()
    drugs = raw[raw["Object of search"].str.strip().str.lower() == "controlled drugs"]
    linked = drugs["Outcome linked to object of search"].astype("boolean")
    not_linked = linked.isna() | ~linked.fillna(False)
    nfa = drugs["Outcome"].str.strip().str.lower() == "a no further action disposal"
    with Warehouse.open(city_db) as wh:
        cell = nil_find_searches(wh.events())
        march = nil_find_searches(wh.events(), months=("2019-03", "2019-03"))
    assert cell is not None and march is not None
    assert cell["value"] == cell["low"] == int((nfa & not_linked).sum())
    assert cell["high"] == int(not_linked.sum())
    assert cell["rows"] == len(drugs) and cell["unit"] == "searches"
    in_march = drugs["Date"].str.startswith("2019-03")
    assert march["value"] == int((nfa & not_linked & in_march).sum())
    assert 0 < cell["value"] < cell["high"] < len(drugs)


def test_no_searches_loaded_is_not_zero(city_db: Path) -> None:
    with Warehouse.open(city_db) as wh:
        street_only = wh.events().filter(wh.events().source == "street")
        assert nil_find_searches(street_only) is None


def test_excess_after_surges_by_hand() -> None:
    # Enforcement median 2: surges in months 0 and 3 -> violence after them: months 1 and 4
    # (5 and 7); after the other months 1 and 2 (months 2 and 3): 2 and 4, mean 3.
    e = np.array([5, 1, 2, 6, 0.0])
    v = np.array([9, 5, 2, 4, 7.0])
    excess, var, n_post, n_base = excess_after_surges(e, v)
    assert (n_post, n_base) == (2, 2)
    assert excess == pytest.approx(12 - 2 * 3)
    assert var == pytest.approx(12 + 4 * 6 / 4)
    assert excess_after_surges(np.ones(4), v[:4]) == (0.0, 0.0, 0, 0)  # never above median


def test_violence_after_enforcement_matches_sql(city_db: Path) -> None:
    with Warehouse.open(city_db) as wh:
        cell = violence_after_enforcement(wh.events(), violence_weight=230.89, unit="scheme")
    # Independent recomputation: plain SQL on the warehouse, then numpy.
    with duckdb.connect(str(city_db), read_only=True) as con:
        frame = con.execute(
            """
            SELECT floor(x / 250)::BIGINT AS cx, floor(y / 250)::BIGINT AS cy, month,
                   sum(CASE WHEN source = 'stop_search'
                             AND lower(trim(object_of_search)) = 'controlled drugs' THEN 1
                            WHEN source = 'street' AND event_type = 'Drugs' THEN 1
                            ELSE 0 END) AS enf,
                   sum(CASE WHEN source = 'street'
                             AND event_type = 'Violence and sexual offences' THEN 1
                            ELSE 0 END) AS vio
            FROM events WHERE x IS NOT NULL GROUP BY ALL
            """
        ).df()
    months = pd.date_range("2019-01-01", "2019-06-01", freq="MS")
    total = variance = 0.0
    for _, g in frame.groupby(["cx", "cy"]):
        g = g.set_index(pd.to_datetime(g["month"])).reindex(months, fill_value=0)
        enf, vio = g["enf"].to_numpy(float), g["vio"].to_numpy(float)
        surge = enf[:-1] > np.median(enf)
        if surge.all() or not surge.any():
            continue
        after = vio[1:]
        post, base = after[surge].sum(), after[~surge].sum()
        total += post - surge.sum() * base / (~surge).sum()
        variance += post + surge.sum() ** 2 * base / (~surge).sum() ** 2
    assert cell["value"] == pytest.approx(total * 230.89)
    half = 1.959963984540054 * np.sqrt(variance) * 230.89
    assert cell["low"] == pytest.approx(total * 230.89 - half)
    assert cell["high"] == pytest.approx(total * 230.89 + half)
    assert cell["source"] == "control" and cell["periods"] == ["2019-01", "2019-06"]
