"""The places lens ranks by the harm to come: forecast_harm recomputed with pandas on real data.

Eight months of City of London street crime; the forecast (each harm type's count shrunk by
empirical Bayes towards the cell's volume times the area's type mix, weighed by harm per
event) is recomputed here from the warehouse's rows with plain pandas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from harmscope.harm import load_scheme
from harmscope.harm.shares import matrix_shares
from harmscope.priorities import PLACE_COLUMNS, rank_places
from harmscope.priorities.lenses import BOARD_COLUMNS, rank
from harmscope.warehouse import ibis_connect
from harmscope.warehouse.ingest import ingest_paths

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

# DESIGN §3 cchi days of the harm types (drugs and weapons possession are activity).
DAYS = {
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


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = SHARED / "policeuk-city-of-london-2018-12_2021-11" / "street"
    files = sorted(folder.glob("*-city-of-london-street.csv"))[:8]
    assert len(files) == 8, folder
    db = tmp_path_factory.mktemp("places-forecast") / "w.duckdb"
    ingest_paths(files, db=db)
    return db


@pytest.fixture(scope="module")
def harm_rows(city_db: Path) -> pd.DataFrame:
    """Located harm events in the study area (the cells of the City's own LSOAs' records)."""
    backend = ibis_connect(city_db)
    try:
        street = backend.table("events").to_pandas().dropna(subset=["x", "y"])
    finally:
        backend.disconnect()
    street["cell_x"] = np.floor(street["x"] / 250) * 250
    street["cell_y"] = np.floor(street["y"] / 250) * 250
    own = street["lsoa_name"].fillna("").str.startswith("City of London ")
    cells = street.loc[own, ["cell_x", "cell_y"]].drop_duplicates()
    return street[street["event_type"].isin(DAYS)].merge(cells, on=["cell_x", "cell_y"])


def _forecast(rows: pd.DataFrame, per_event: dict[str, float]) -> pd.Series:
    """Empirical-Bayes forecast per cell, written out with pandas (not the library's arrays)."""
    n = rows.groupby(["cell_x", "cell_y", "event_type"]).size().unstack(fill_value=0)
    volume = n.sum(axis=1)
    out = pd.Series(0.0, index=n.index)
    for k in n.columns:
        prior = volume * n[k].sum() / volume.sum()
        inv_a = (((n[k] - prior) ** 2 - prior).sum()) / (prior**2).sum()
        if inv_a <= 1e-6:
            expected = prior
        else:
            a = 1 / inv_a
            expected = prior * (a + n[k]) / (a + prior)
        out += per_event[k] * expected
    return out


def _keyed(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.set_index(["cell_x", "cell_y"])[column].astype(float)


def test_all_crime_view_scores_by_the_forecast_recomputed(
    city_db: Path, harm_rows: pd.DataFrame
) -> None:
    ranked = rank_places(city_db, harm="all")
    assert tuple(ranked.columns) == PLACE_COLUMNS
    assert {"harm", "forecast_harm"} <= set(BOARD_COLUMNS) & set(ranked.columns)
    assert ranked.attrs["score_by"] == "forecast" and ranked.attrs["harm_view"] == "all"
    expected = _forecast(harm_rows, DAYS)
    got = _keyed(ranked, "forecast_harm")
    assert_allclose(got, expected.reindex(got.index), rtol=1e-9)
    assert_allclose(ranked["score"], ranked["forecast_harm"])
    assert (np.diff(ranked["score"].to_numpy()) <= 0).all()
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    # harm stays the period's harm; every cell with harm is ranked.
    past = harm_rows.assign(d=harm_rows["event_type"].map(DAYS)).groupby(["cell_x", "cell_y"])
    assert_allclose(_keyed(ranked, "harm"), past["d"].sum().reindex(got.index))
    assert len(ranked) == past.ngroups
    # Same length of period: the forecast and the past harm agree in total within 10 %.
    assert ranked["forecast_harm"].sum() == pytest.approx(ranked["harm"].sum(), rel=0.1)


def test_trend_and_months_since_last_recomputed(city_db: Path, harm_rows: pd.DataFrame) -> None:
    ranked = rank_places(city_db, harm="all")
    months = pd.period_range("2018-12", "2019-07", freq="M").strftime("%Y-%m")
    rows = harm_rows.assign(
        d=harm_rows["event_type"].map(DAYS),
        m=pd.to_datetime(harm_rows["month"]).dt.strftime("%Y-%m"),
    )
    series = rows.pivot_table(
        index=["cell_x", "cell_y"], columns="m", values="d", aggfunc="sum", fill_value=0.0
    ).reindex(columns=months, fill_value=0.0)
    t = np.arange(len(months), dtype=float)
    for _, row in ranked.iterrows():
        h = series.loc[(row["cell_x"], row["cell_y"])].to_numpy()
        slope = np.polyfit(t, h, 1)[0]
        assert row["trend"] == pytest.approx(slope / h.mean(), rel=1e-9, abs=1e-12)
        assert row["months_since_last"] == len(months) - 1 - np.flatnonzero(h > 0).max()
    assert str(ranked["months_since_last"].dtype) == "Int64"
    assert {"trend", "months_since_last"} <= set(BOARD_COLUMNS)
    # One month: no slope to speak of, and harm in the last (only) month.
    one = rank_places(city_db, harm="all", months=("2019-03", "2019-03"))
    assert one["trend"].isna().all() and (one["months_since_last"] == 0).all()


def test_default_drug_view_weighs_each_type_by_its_drug_share(
    city_db: Path, harm_rows: pd.DataFrame
) -> None:
    ranked = rank_places(city_db)
    assert ranked.attrs["harm_view"] == "drug"
    share = matrix_shares(load_scheme("cchi"), harm="drug").groupby("event_key")["share"].sum()
    per_event = {k: v * float(share[k]) for k, v in DAYS.items()}
    got = _keyed(ranked, "forecast_harm")
    assert_allclose(got, _forecast(harm_rows, per_event).reindex(got.index), rtol=1e-9)
    assert_allclose(ranked["score"], ranked["forecast_harm"])
    # the reasons still explain the period's harm in the same view
    assert all(isinstance(r, list) and r for r in ranked["reasons"].head(5))


def test_score_by_harm_and_significance_weight(city_db: Path) -> None:
    past = rank_places(city_db, harm="all", score_by="harm")
    assert_allclose(past["score"], past["harm"])
    assert (np.diff(past["harm"].to_numpy()) <= 0).all()
    ahead = rank_places(city_db, harm="all")
    # Same cells, same columns; only the order may differ.
    assert set(past["unit_id"]) == set(ahead["unit_id"])
    assert_allclose(
        _keyed(past, "forecast_harm").sort_index(), _keyed(ahead, "forecast_harm").sort_index()
    )
    weighted = rank_places(city_db, harm="all", significance="weight")
    assert_allclose(weighted["score"], weighted["forecast_harm"] * stats.norm.cdf(weighted["gi_z"]))
    with pytest.raises(ValueError, match="score_by"):
        rank_places(city_db, score_by="count")  # type: ignore[arg-type]


def test_the_registered_lens_carries_the_board_columns(city_db: Path) -> None:
    rows = rank("places", city_db, top=5)
    assert len(rows) == 5
    assert {"harm", "forecast_harm"} <= set(rows.columns)
    assert_allclose(rows["score"], rows["forecast_harm"])
