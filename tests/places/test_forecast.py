"""Forecast checks: hit rate, PAI, PEI*, rankings, KDE, the rolling-origin loop and the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import WarehouseError
from harmscope.places.forecast import (
    RANKINGS,
    SUMMARY_COLUMNS,
    ForecastCheck,
    captured,
    cells_for_shares,
    forecast_measures,
    kde_cell_harm,
    ranking_scores,
    rolling_forecast_check,
    validate_forecast,
)
from harmscope.places.gi_star import gi_star
from harmscope.warehouse import ibis_connect
from harmscope.warehouse.ingest import ingest_paths

# DESIGN §3 cchi weights (days) of the harm categories found in City of London street files.
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


# ---------------------------------------------------------------------------------------------
# Measures by hand
# ---------------------------------------------------------------------------------------------


def test_cells_for_shares_rounds_to_nearest_with_one_at_least() -> None:
    assert cells_for_shares(400).tolist() == [4, 8, 20, 40]
    assert cells_for_shares(202).tolist() == [2, 4, 10, 20]  # 2.02, 4.04, 10.1, 20.2
    assert cells_for_shares(10).tolist() == [1, 1, 1, 1]  # 0.1 and 0.2 cells -> 1
    assert cells_for_shares(150, [0.01]).tolist() == [2]  # 1.5 rounds half up
    with pytest.raises(ValueError, match="area shares"):
        cells_for_shares(100, [0.0])
    with pytest.raises(ValueError, match="at least one cell"):
        cells_for_shares(0)


def test_hit_rate_pai_pei_star_by_hand() -> None:
    # Ten cells, N = 10 events. Scores pick cell 0 (4 events) then cell 7 (2 events); the best
    # single cell holds 4 and the best pair 4 + 3 = 7.
    y = [4, 0, 1, 0, 3, 0, 0, 2, 0, 0]
    s = [0.9, 0.1, 0.5, 0.0, 0.2, 0.0, 0.0, 0.8, 0.0, 0.0]
    m = forecast_measures(s, y, shares=[0.1, 0.2])
    assert m.cells.tolist() == [1, 2]
    assert_allclose(m.area_share, [0.1, 0.2])
    assert_allclose(m.captured, [4, 6])
    assert_allclose(m.best, [4, 7])
    assert float(m.total) == 10
    assert_allclose(m.hit_rate, [0.4, 0.6])
    assert_allclose(m.pai, [4.0, 3.0])  # 0.4 / 0.1, 0.6 / 0.2
    assert_allclose(m.pei_star, [1.0, 6 / 7])


def test_ties_are_split_evenly_whatever_the_input_order() -> None:
    # Scores (3, 1, 1, 0): one cell clearly first, two tied for second place.
    s = np.array([3, 1, 1, 0])
    y = np.array([5, 2, 4, 9])
    assert_allclose(captured(s, y, [0, 1, 2, 3, 4]), [0, 5, 5 + 3, 5 + 6, 20])
    # A three-way tie across the boundary: cells 1, 2, 3 tied; k = 2 takes 1 of 3 places.
    s3 = np.array([2, 1, 1, 1])
    assert_allclose(captured(s3, y, [2]), [5 + (2 + 4 + 9) / 3])
    # Permuting cells changes nothing.
    rng = np.random.default_rng(1)
    for _ in range(5):
        p = rng.permutation(4)
        assert_allclose(captured(s3[p], y[p], [1, 2, 3, 4]), captured(s3, y, [1, 2, 3, 4]))
    # PEI* uses the oracle, which is unaffected by ties in the scores.
    m = forecast_measures(s3, y, shares=[0.5])
    assert_allclose(m.hit_rate, [(5 + 5) / 20])
    assert_allclose(m.pai, [0.5 / 0.5])
    assert_allclose(m.pei_star, [10 / (9 + 5)])


def test_constant_ranking_scores_like_a_random_map() -> None:
    # After a month with no harm, last month's harm ranks every cell equal (all zero): the
    # expected capture of a random pick, hit rate = area share and PAI = 1 exactly.
    y = np.array([7.0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 5])
    m = forecast_measures(np.zeros(20), y, shares=[0.05, 0.1, 0.5])
    assert_allclose(m.hit_rate, [1 / 20, 2 / 20, 10 / 20])
    assert_allclose(m.pai, [1.0, 1.0, 1.0])
    assert_allclose(m.pei_star, [(20 / 20) / 7, (2 * 20 / 20) / 12, (10 * 20 / 20) / 20])


def test_all_zero_outcome_month_is_undefined_and_left_out_of_the_mean() -> None:
    m = forecast_measures([3, 2, 1, 0], [0, 0, 0, 0], shares=[0.25])
    assert np.isnan(m.hit_rate).all() and np.isnan(m.pai).all() and np.isnan(m.pei_star).all()
    assert float(m.total) == 0 and float(m.best[0]) == 0
    # Three origins, the second with nothing recorded: aggregates use the other two.
    scores = {"r": np.array([[3, 2, 1, 0], [3, 2, 1, 0], [3, 2, 1, 0]], dtype=float)}
    outcomes = {"harm": np.array([[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 3]], dtype=float)}
    per_origin, summary = rolling_forecast_check(
        scores, outcomes, shares=[0.25], origin_labels=["a", "b", "c"]
    )
    assert per_origin["origin"].tolist() == ["a", "b", "c"]
    assert_allclose(per_origin["hit_rate"], [0.5, np.nan, 0.0])
    row = summary.iloc[0]
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    assert row["origins"] == 2
    assert row["hit_rate_mean"] == pytest.approx(0.25)
    assert row["hit_rate_sd"] == pytest.approx(np.std([0.5, 0.0], ddof=1))
    assert row["pai_mean"] == pytest.approx(1.0)  # (2 + 0) / 2
    assert row["pei_star_mean"] == pytest.approx((1 / 1 + 0 / 3) / 2)
    assert (row["hit_rate_min"], row["hit_rate_max"]) == (0.0, 0.5)


def test_measures_reject_bad_input() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        forecast_measures([1, 2], [1, -1], shares=[0.5])
    with pytest.raises(ValueError, match="finite"):
        forecast_measures([1, np.nan], [1, 1], shares=[0.5])
    with pytest.raises(ValueError, match="align"):
        forecast_measures([1, 2, 3], [1, 1], shares=[0.5])
    with pytest.raises(ValueError, match="k must be"):
        captured([1, 2], [1, 1], [3])


# ---------------------------------------------------------------------------------------------
# Rankings
# ---------------------------------------------------------------------------------------------


def test_rankings_by_hand_and_without_look_ahead() -> None:
    harm = np.array([[1.0, 0], [0, 2], [4, 0], [9, 9]])  # 4 months, 2 cells
    events = np.array([[1.0, 3], [0, 1], [2, 0], [5, 5]])
    xy = np.array([[0.0, 0], [250, 0]])
    got = ranking_scores(
        harm,
        events,
        xy,
        [2],
        window=2,
        half_life=1.0,
        rankings=["last_harm", "mean_harm", "ewma_harm", "count", "gi_star"],
    )
    assert_allclose(got["last_harm"], [[4, 0]])
    assert_allclose(got["mean_harm"], [[(0 + 4) / 2, (2 + 0) / 2]])
    w = np.array([0.25, 0.5, 1.0])  # 0.5 ** (age / 1) for ages 2, 1, 0
    assert_allclose(got["ewma_harm"], [[(w @ harm[:3, 0]) / w.sum(), (w @ harm[:3, 1]) / w.sum()]])
    assert_allclose(got["count"], [[0 + 2, 1 + 0]])
    assert_allclose(got["gi_star"], gi_star([[4.0, 2.0]], xy, 375.0))
    # Month 3 (after the origin) changes nothing.
    future = harm.copy()
    future[3] = [0, 1000]
    again = ranking_scores(
        future,
        events,
        xy,
        [2],
        window=2,
        half_life=1.0,
        rankings=["last_harm", "mean_harm", "ewma_harm", "count", "gi_star"],
    )
    for name, value in got.items():
        assert_array_equal(again[name], value)


def test_short_history_uses_the_months_there_are() -> None:
    harm = np.array([[2.0], [4.0], [6.0]])
    got = ranking_scores(harm, harm, [[0.0, 0.0]], [0, 1], window=12, rankings=["mean_harm"])
    assert_allclose(got["mean_harm"], [[2.0], [3.0]])
    with pytest.raises(ValueError, match="unknown ranking"):
        ranking_scores(harm, harm, [[0.0, 0.0]], [0], rankings=["oracle"])
    with pytest.raises(ValueError, match="kde"):
        ranking_scores(harm, harm, [[0.0, 0.0]], [0], rankings=["kde"])


# ---------------------------------------------------------------------------------------------
# KDE
# ---------------------------------------------------------------------------------------------


def _direct_kde(
    cells: np.ndarray, pts: np.ndarray, w: np.ndarray, size: float, h: float, sub: int = 400
) -> np.ndarray:
    """Midpoint-rule integral over each cell of the Gaussian KDE, summed over all points."""
    offsets = (np.arange(sub) + 0.5) * size / sub
    out = np.empty(len(cells))
    for i, (x0, y0) in enumerate(cells):
        ux, uy = np.meshgrid(x0 + offsets, y0 + offsets)
        density = np.zeros_like(ux)
        for (px, py), wj in zip(pts, w, strict=True):
            density += (
                wj * np.exp(-((ux - px) ** 2 + (uy - py) ** 2) / (2 * h * h)) / (2 * np.pi * h * h)
            )
        out[i] = density.sum() * (size / sub) ** 2
    return out


def test_kde_matches_a_direct_computation_on_a_small_grid() -> None:
    size, h = 100.0, 80.0
    gx, gy = np.meshgrid(np.arange(5) * size, np.arange(4) * size)
    cells = np.column_stack([gx.ravel(), gy.ravel()])
    pts = np.array([[120.0, 135.0], [310.0, 260.0], [310.0, 260.0], [455.5, 20.0]])
    w = np.array([365.0, 2.0, 10.39, 230.89])
    direct = _direct_kde(cells, pts, w, size, h)
    fast = kde_cell_harm(
        cells[:, 0],
        cells[:, 1],
        pts[:, 0],
        pts[:, 1],
        w,
        cell_size=size,
        bandwidth=h,
        truncate=12.0,
    )
    assert_allclose(fast, direct, rtol=1e-5, atol=1e-9)
    # Default truncation (4 bandwidths) differs by less than the neglected tail mass.
    default = kde_cell_harm(
        cells[:, 0], cells[:, 1], pts[:, 0], pts[:, 1], w, cell_size=size, bandwidth=h
    )
    assert np.abs(default - direct).max() < 2 * stats.norm.sf(4) * w.sum()


def test_kde_conserves_harm_and_stacks_periods() -> None:
    size, h = 50.0, 60.0
    gx, gy = np.meshgrid(np.arange(-20, 30) * size, np.arange(-20, 30) * size)
    cx, cy = gx.ravel(), gy.ravel()
    px, py = np.array([10.0, 400.0, 404.0]), np.array([0.0, 300.0, 280.0])
    w = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 0.0]])
    both = kde_cell_harm(cx, cy, px, py, w, cell_size=size, bandwidth=h)
    assert both.shape == (2, cx.size)
    assert_allclose(both.sum(axis=1), w.sum(axis=1), rtol=1e-4)
    for t in range(2):
        assert_allclose(both[t], kde_cell_harm(cx, cy, px, py, w[t], cell_size=size, bandwidth=h))
    # A point at a cell's centre: that cell holds (2 Phi(s / 2h) - 1)^2 of it.
    one = kde_cell_harm([0.0], [0.0], [25.0], [25.0], [1.0], cell_size=size, bandwidth=h)
    assert one[0] == pytest.approx((2 * stats.norm.cdf(size / (2 * h)) - 1) ** 2, rel=1e-12)
    with pytest.raises(ValueError, match="bandwidth"):
        kde_cell_harm(cx, cy, px, py, w[0], bandwidth=0)


# ---------------------------------------------------------------------------------------------
# A planted persistent hot spot
# ---------------------------------------------------------------------------------------------


def _planted_events(months: int = 18, seed: int = 3) -> pd.DataFrame:
    """A 20 x 20 grid of 250 m cells; a 2 x 2 block holds robberies every month. Shoplifting
    scattered over random cells in the first twelve months is noise the rankings must see past."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 530_000.0, 180_000.0, 250.0
    rows = []
    for m in range(months):
        month = date(2020 + (m // 12), m % 12 + 1, 1)
        for bx in (9, 10):
            for by in (9, 10):
                for _ in range(3):
                    rows.append(
                        (
                            "Robbery",
                            month,
                            x0 + (bx + rng.uniform(0.1, 0.9)) * size,
                            y0 + (by + rng.uniform(0.1, 0.9)) * size,
                        )
                    )
        if m < 12:
            for cell in rng.choice(400, size=30, replace=False):
                cx, cy = divmod(int(cell), 20)
                rows.append(("Shoplifting", month, x0 + (cx + 0.5) * size, y0 + (cy + 0.5) * size))
    # One drug offence: activity, counted only by the busyness ranking.
    rows.append(("Drugs", date(2020, 1, 1), x0 + 125.0, y0 + 125.0))
    frame = pd.DataFrame(rows, columns=["event_type", "month", "x", "y"])
    frame.insert(0, "source", "street")
    return frame


def test_every_ranking_finds_a_planted_persistent_hot_spot() -> None:
    frame = _planted_events()
    events = ibis.memtable(frame)
    grid = np.arange(20) * 250.0
    mask = (np.repeat(grid, 20) + 530_000.0, np.tile(grid, 20) + 180_000.0)
    result = validate_forecast(events, warmup=12, horizon=1, window=6, mask=mask)
    s = result.summary
    assert result.meta["cells"] == 400
    assert len(result.meta["origins"]) == 6  # origins are months 12..17, minus the last
    assert set(s["ranking"]) == set(RANKINGS)
    at_1 = s[s["area_share"] == 0.01]
    assert (at_1["cells"] == 4).all()
    # 1 % of 400 cells is exactly the 4-cell block: every ranking captures everything.
    assert_allclose(at_1["hit_rate_mean"], 1.0)
    assert_allclose(at_1["pai_mean"], 100.0)
    assert_allclose(at_1["pei_star_mean"], 1.0)
    assert (at_1["hit_rate_sd"] == 0).all() and (at_1["origins"] == 6).all()
    # At 2 % (8 cells) the block is still all there is to capture: hit rate 1, PAI 50.
    at_2 = s[s["area_share"] == 0.02]
    assert_allclose(at_2["hit_rate_mean"], 1.0)
    assert_allclose(at_2["pai_mean"], 50.0)


def test_too_few_months_and_no_events_are_clear_errors() -> None:
    events = ibis.memtable(_planted_events(months=6))
    with pytest.raises(WarehouseError, match="warm-up of 12 and a horizon of 1"):
        validate_forecast(events)
    with pytest.raises(WarehouseError, match="no located events"):
        validate_forecast(events, months=("2021-01", "2021-12"))
    with pytest.raises(ValueError, match="at least 1"):
        validate_forecast(events, warmup=0)


# ---------------------------------------------------------------------------------------------
# Real data: eight months of City of London street crime
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city_db(tmp_path_factory: pytest.TempPathFactory, city_street_files: list[Path]) -> Path:
    db = tmp_path_factory.mktemp("forecast") / "w.duckdb"
    ingest_paths(city_street_files[:8], db=db)
    return db


@pytest.fixture(scope="module")
def city_check(city_db: Path) -> ForecastCheck:
    return validate_forecast(city_db, warmup=6, horizon=1, window=6)


def test_real_city_months_totals_and_one_ranking_recomputed(
    city_db: Path, city_check: ForecastCheck
) -> None:
    meta = city_check.meta
    assert meta["months"] == ["2018-12", "2019-07"]
    assert meta["origins"] == ["2019-05", "2019-06"]
    assert len(city_check.summary) == len(RANKINGS) * 2 * 4
    po = city_check.per_origin
    assert ((po["pei_star"] <= 1) & (po["pei_star"] > 0)).all()
    assert_allclose(po["pai"], po["hit_rate"] / (po["cells"] / meta["cells"]))

    backend = ibis_connect(city_db)
    try:
        t = backend.table("events")
        street = (
            t.select("event_type", "month", "x", "y", "lsoa_name")
            .to_pandas()
            .dropna(subset=["x", "y"])
        )
    finally:
        backend.disconnect()
    street["cell_x"] = np.floor(street["x"] / 250) * 250
    street["cell_y"] = np.floor(street["y"] / 250) * 250
    street["days"] = street["event_type"].map(HARM_DAYS)
    street["month"] = pd.to_datetime(street["month"]).dt.strftime("%Y-%m")
    # The study area without reference data: the cells holding records of the force's own
    # district, named in police.uk's LSOA names; records in any other cell are strays.
    own = street["lsoa_name"].fillna("").str.startswith("City of London ")
    cells = street.loc[own, ["cell_x", "cell_y"]].drop_duplicates()
    assert meta["cells"] == len(cells)
    assert meta["study_area"]["cells"] == len(cells)
    street = street.merge(cells, on=["cell_x", "cell_y"])
    assert meta["study_area"]["strays"] == len(own) - len(street) > 0
    harm = street.dropna(subset=["days"])
    # Targets: month after each origin.
    for origin, target in (("2019-05", "2019-06"), ("2019-06", "2019-07")):
        nxt = harm[harm["month"] == target]
        rows = po[(po["origin"] == origin) & (po["ranking"] == "count")]
        assert rows.loc[rows["target"] == "harm", "total"].iloc[0] == pytest.approx(
            nxt["days"].sum()
        )
        assert rows.loc[rows["target"] == "events", "total"].iloc[0] == len(nxt)
    # The busyness ranking at origin 2019-06 against the July event count, recomputed with
    # pandas: six months of all events per cell, ties split evenly at the boundary.
    recent = street[street["month"].between("2019-01", "2019-06")]
    score = recent.groupby(["cell_x", "cell_y"]).size()
    july = harm[harm["month"] == "2019-07"].groupby(["cell_x", "cell_y"]).size()
    table = cells.set_index(["cell_x", "cell_y"]).assign(score=score, y=july).fillna(0)
    k = int(np.floor(0.05 * len(table) + 0.5))
    threshold = table["score"].sort_values(ascending=False).iloc[k - 1]
    above = table[table["score"] > threshold]
    tied = table[table["score"] == threshold]
    expected = above["y"].sum() + (k - len(above)) / len(tied) * tied["y"].sum()
    row = po[
        (po["origin"] == "2019-06")
        & (po["ranking"] == "count")
        & (po["target"] == "events")
        & (po["area_share"] == 0.05)
    ].iloc[0]
    assert row["cells"] == k
    assert row["captured"] == pytest.approx(expected)
    assert row["hit_rate"] == pytest.approx(expected / table["y"].sum())


def test_cli_json_csv_and_table(city_db: Path, city_check: ForecastCheck) -> None:
    runner = CliRunner()
    base = ["validate-forecast", "--db", str(city_db), "--warmup", "6", "--window", "6"]
    res = runner.invoke(app, [*base, "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["scheme"] == "cchi" and payload["cells"] == city_check.meta["cells"]
    assert payload["origins"] == ["2019-05", "2019-06"]
    assert len(payload["rows"]) == len(city_check.summary)
    first = payload["rows"][0]
    assert set(first) == set(SUMMARY_COLUMNS)
    assert first["hit_rate_mean"] == pytest.approx(city_check.summary.iloc[0]["hit_rate_mean"])

    res = runner.invoke(app, [*base, "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    # the summary, and which harm it scored (every crime's: validate-forecast's default)
    assert tuple(rows[0]) == (*SUMMARY_COLUMNS, "harm_view") and len(rows) == len(
        city_check.summary
    )
    assert {r["harm_view"] for r in rows} == {"all crime harm"}
    assert payload["harm_view"] == "all" and payload["harm_label"] == "all crime harm"

    res = runner.invoke(app, base)
    assert res.exit_code == 0, res.output
    assert "PEI*" in res.stdout and "gi_star" in res.stdout

    res = runner.invoke(app, [*base[:3], "--warmup", "12"])
    assert res.exit_code == 2
    assert "warm-up of 12" in res.output


# ---------------------------------------------------------------------------------------------
# Docs stay in step with the code
# ---------------------------------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "forecast.md"


def test_doctests_pass() -> None:
    import doctest

    from harmscope.places import forecast, forecast_accuracy, forecast_rankers

    attempted = 0
    for module in (forecast, forecast_accuracy, forecast_rankers):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted >= 5


def test_docs_name_every_ranking_function_and_column() -> None:
    from harmscope.places import forecast, forecast_accuracy, forecast_rankers

    text = DOC.read_text(encoding="utf-8")
    # The split modules are documented and re-exported by harmscope.places.forecast.
    for module in (forecast_accuracy, forecast_rankers):
        assert f"`{module.__name__}`" in text
        assert set(module.__all__) <= set(forecast.__all__) | {"window_matrix"}
    for name in RANKINGS:
        assert f"| `{name}` |" in text, name
    for public in forecast.__all__:
        if public[0].islower():
            assert f"`{public}(" in text, public
    for column in SUMMARY_COLUMNS:
        assert f"`{column}`" in text, column
    assert "PAI / PAI\\*_a = *n* / *n\\*_a*" in text
