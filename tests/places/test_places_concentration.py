"""Concentration: Lorenz, Gini, power few, count vs harm — against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.places.concentration import (
    count_vs_harm,
    gini,
    lorenz_curve,
    power_few,
    top_cells,
    top_share,
)
from harmscope.places.grid import cell_coordinates

# DESIGN §3 category weights (days) for the police.uk types in the City of London data.
CCHI_DAYS = {
    "Violence and sexual offences": 230.89,
    "Robbery": 365.00,
    "Burglary": 247.28,
    "Possession of weapons": 273.75,
    "Criminal damage and arson": 10.39,
    "Public order": 7.50,
    "Other crime": 10.00,
    "Vehicle crime": 5.00,
    "Drugs": 3.39,
    "Theft from the person": 2.00,
    "Bicycle theft": 2.00,
    "Other theft": 2.00,
    "Shoplifting": 1.00,
    "Anti-social behaviour": 1.00,
}


def test_lorenz_curve_hand_computed() -> None:
    places, total = lorenz_curve([3, 1, 0, 6])
    assert places.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert total.tolist() == [0, 0, 0.1, 0.4, 1.0]


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([5, 5, 5, 5], 0.0),
        ([1, 2, 3, 4], 0.25),  # sum |xi - xj| over ordered pairs 20 / (2 * 16 * 2.5)
        ([0, 0, 0, 1], 0.75),  # (n - 1) / n: one place has everything
        ([0, 1], 0.5),
        ([2, 3, 5, 10, 30], 0.504),  # -4*2 - 2*3 + 0*5 + 2*10 + 4*30 = 126; 126 / (5 * 50)
    ],
)
def test_gini_hand_computed(weights: list[float], expected: float) -> None:
    assert gini(weights) == pytest.approx(expected)


def test_gini_is_one_minus_twice_the_lorenz_area() -> None:
    rng = np.random.default_rng(0)
    w = rng.pareto(1.5, 500)
    places, total = lorenz_curve(w)
    area = float(np.sum(np.diff(places) * (total[1:] + total[:-1]) / 2))
    assert gini(w) == pytest.approx(1 - 2 * area)
    # Scale invariant and order free.
    assert gini(w * 365) == pytest.approx(gini(w[::-1]))


def test_top_share_interpolates_fractions_of_places() -> None:
    # 10 places, harm 0 .. 9 (total 45): top 10 % = the 9 -> 0.2; top 20 % = 9 + 8 -> 17/45;
    # top 5 % = half of the 9 -> 4.5/45.
    w = np.arange(10.0)
    assert top_share(w, 0.10) == pytest.approx(9 / 45)
    assert top_share(w, 0.20) == pytest.approx(17 / 45)
    assert top_share(w, 0.05) == pytest.approx(4.5 / 45)
    assert top_share(w, 1.0) == pytest.approx(1.0)


def test_power_few_table() -> None:
    # 200 places: one with 100, nine with 10, ten with 5, the rest 0 (total 240).
    w = np.zeros(200)
    w[0], w[1:10], w[10:20] = 100, 10, 5
    table = power_few(w)
    assert table["share_of_places"].tolist() == [0.01, 0.05, 0.10]
    assert table["places"].tolist() == [2.0, 10.0, 20.0]
    # top 2 places: 100 + 10; top 10: 100 + 90; top 20: everything.
    assert_allclose(table["share_of_total"], [110 / 240, 190 / 240, 1.0])


def test_top_rows_use_one_whole_number_of_places_in_every_column() -> None:
    # 164 places: 1 % is 1.64 places, rounded up to 2 in the power-few table and in the
    # count-vs-harm comparison alike (the rule: max(1, ceil(share * n))).
    rng = np.random.default_rng(7)
    harm = rng.gamma(0.5, 100.0, 164)
    counts = rng.poisson(5.0, 164) + 1.0
    table = power_few(harm)
    assert table["places"].tolist() == [2, 9, 17] == [top_cells(164, s) for s in (0.01, 0.05, 0.1)]
    top = count_vs_harm(counts, harm).top
    assert top["k"].tolist() == table["places"].tolist()
    # The share is what the two (nine, seventeen) highest places hold, nothing interpolated.
    for k, share in zip(table["places"], table["share_of_total"], strict=True):
        assert share == pytest.approx(np.sort(harm)[::-1][:k].sum() / harm.sum())
        assert top.loc[top["k"] == k, "harm_by_harm_top"].iloc[0] == pytest.approx(share)
    assert top_cells(10, 0.01) == 1 and top_cells(100, 0.07) == 7


@pytest.mark.parametrize(
    ("weights", "match"),
    [([], "empty"), ([1, -1], ">= 0"), ([0, 0], "zero"), ([1, np.nan], "NaN")],
)
def test_bad_weights(weights: list[float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gini(weights)


def test_bad_share() -> None:
    with pytest.raises(ValueError, match="share"):
        top_share([1, 2], 0)


def test_count_vs_harm_hand_computed() -> None:
    # Five places. Count ranking 0 > 1 > 2 > 3 > 4; harm ranking 1 > 4 > 2 > 0 > 3.
    counts = [10, 8, 6, 4, 2]
    harm = [20, 1000, 30, 5, 700]  # total 1755
    r = count_vs_harm(counts, harm, shares=[0.2, 0.4, 1.0])
    top = r.top.set_index("share_of_places")
    assert top["k"].tolist() == [1, 2, 5]
    assert top["overlap"].tolist() == [0, 1, 5]
    assert top.loc[0.4, "jaccard"] == pytest.approx(1 / 3)
    assert top.loc[0.2, "harm_by_count_top"] == pytest.approx(20 / 1755)
    assert top.loc[0.2, "harm_by_harm_top"] == pytest.approx(1000 / 1755)
    assert top.loc[0.4, "harm_by_harm_top"] == pytest.approx(1700 / 1755)
    # Spearman: d = rank differences (count - harm) = (-3, 1, 0, -1, 3): 1 - 6*20/(5*24) = 0.
    assert r.spearman == pytest.approx(0.0, abs=1e-12)
    # Kendall: 5 concordant, 5 discordant of 10 pairs -> 0.
    assert r.kendall_tau == pytest.approx(0.0, abs=1e-12)
    assert r.ranks["harm_rank"].tolist() == [4, 1, 3, 5, 2]
    assert r.ranks["rank_change"].tolist() == [-3, 1, 0, -1, 3]


def test_count_vs_harm_ties_and_constant() -> None:
    r = count_vs_harm([1, 1, 1], [3, 2, 1], shares=[0.34])
    assert math.isnan(r.spearman) and math.isnan(r.kendall_tau)
    # k = ceil(0.34 * 3) = 2; count ties break by input order -> places 0, 1.
    assert r.top["k"].tolist() == [2]
    assert r.top["overlap"].tolist() == [2]
    assert r.ranks["count_rank"].tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="differ in length"):
        count_vs_harm([1, 2], [1, 2, 3])


def test_harm_concentrates_more_than_counts_in_the_city(city_events: pd.DataFrame) -> None:
    # Real data, in one setting only: the 36 City of London street files read directly, places
    # = every 250 m cell holding a located street record (204 cells, strays in neighbouring
    # boroughs included, empty cells left out; not the study area), harm = the plain category
    # table with drugs and weapons weighed in days. There harm concentrates slightly more than
    # counts and the top 5 % of cells by harm differ from the busiest ones. The product's
    # default (`harmscope concentration`: 60 study-area cells, cchi with drugs and weapons as
    # activity) shows equal Gini and the same top 5 %; docs/places.md quotes both.
    cx, cy = cell_coordinates(city_events["x"], city_events["y"])
    frame = pd.DataFrame(
        {"cx": cx, "cy": cy, "harm": city_events["crime_type"].map(CCHI_DAYS).to_numpy()}
    )
    assert frame["harm"].notna().all()
    cells = frame.groupby(["cx", "cy"])["harm"].agg(["size", "sum"])
    counts, harm = cells["size"].to_numpy(float), cells["sum"].to_numpy()
    assert gini(harm) > gini(counts) > 0.7
    r = count_vs_harm(counts, harm)
    five = r.top.set_index("share_of_places").loc[0.05]
    assert five["overlap"] < five["k"]
    assert five["harm_by_harm_top"] > five["harm_by_count_top"]
    assert 0.5 < r.spearman < 1.0
