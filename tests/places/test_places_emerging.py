"""Mann–Kendall and the emerging hot spot categories: one constructed series per label."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from harmscope.places.emerging import (
    EMERGING_CATEGORIES,
    classify_emerging,
    emerging_hot_spots,
    mann_kendall,
)
from harmscope.places.gi_star import gi_star_test
from harmscope.places.grid import cell_coordinates, study_area_cells, values_on_cells

# --------------------------------------------------------------------------- Mann–Kendall


def mk_reference(x: list[float]) -> tuple[int, float, float]:
    """Textbook Mann–Kendall with explicit loops: S, tie-corrected var(S), corrected Z."""
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i, j in itertools.combinations(range(n), 2))
    groups = pd.Series(x).value_counts()
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in groups)) / 18
    z = 0.0 if s == 0 else (s - math.copysign(1, s)) / math.sqrt(var)
    return s, var, z


def test_mann_kendall_hand_computed() -> None:
    # 1, 2, 2, 3, 5: nine concordant pairs, one tie -> S = 9;
    # var = (5*4*15 - 2*1*9) / 18 = 282 / 18; Z = 8 / sqrt(15.667) = 2.0212.
    r = mann_kendall([1.0, 2.0, 2.0, 3.0, 5.0])
    assert int(r.s) == 9
    assert float(r.var_s) == pytest.approx(282 / 18)
    assert float(r.z) == pytest.approx(8 / math.sqrt(282 / 18))
    assert float(r.p) == pytest.approx(2 * stats.norm.sf(8 / math.sqrt(282 / 18)))
    assert float(r.tau) == pytest.approx(9 / math.sqrt(10 * 9))


def test_mann_kendall_vectorised_matches_loops_and_scipy() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, size=(15, 40)).astype(float)  # many ties
    x[:, 0] = 2.0  # constant series: var 0, z 0
    r = mann_kendall(x, axis=0)
    for j in range(40):
        s, var, z = mk_reference(x[:, j].tolist())
        assert r.s[j] == s
        assert r.var_s[j] == pytest.approx(var)
        assert r.z[j] == pytest.approx(z)
        if j:
            assert r.tau[j] == pytest.approx(stats.kendalltau(np.arange(15), x[:, j]).statistic)
    assert r.z[0] == 0 and r.p[0] == 1 and r.tau[0] == 0
    # The time axis can be anywhere.
    assert_array_equal(mann_kendall(x.T, axis=1).s, r.s)


def test_mann_kendall_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        mann_kendall([1.0, np.nan, 2.0])


# --------------------------------------------------------------- constructed bin series

HOT, COLD, QUIET = (3.0, 0.001), (-3.0, 0.001), (0.5, 0.6)


def series(pattern: str, z: list[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A one-location series: H hot bin, C cold bin, '.' not significant; z optionally given."""
    kinds = {"H": HOT, "C": COLD, ".": QUIET}
    zs = np.array([kinds[c][0] for c in pattern]) if z is None else np.array(z, dtype=float)
    ps = np.array([kinds[c][1] for c in pattern])
    assert len(zs) == len(ps)
    return zs[:, None], ps[:, None]


def label(pattern: str, z: list[float] | None = None, **kwargs: float) -> str:
    zs, ps = series(pattern, z)
    return str(classify_emerging(zs, ps, **kwargs)[0])


RISING = [3.0 + 0.5 * t for t in range(12)]
FALLING = RISING[::-1]


def test_new_hot_spot() -> None:
    assert label(".........H") == "new_hot_spot"


def test_consecutive_hot_spot() -> None:
    assert label("......HHHH") == "consecutive_hot_spot"


def test_intensifying_hot_spot() -> None:
    assert label("H" * 12, RISING) == "intensifying_hot_spot"


def test_persistent_hot_spot() -> None:
    # Hot in 9 of 10 periods including the last, z flat: no trend.
    assert label("HHHH.HHHHH", [3, 4, 3, 4, 0.5, 3, 4, 3, 4, 3]) == "persistent_hot_spot"


def test_diminishing_hot_spot() -> None:
    assert label("H" * 12, FALLING) == "diminishing_hot_spot"


def test_sporadic_hot_spot() -> None:
    assert label("..H..H...H") == "sporadic_hot_spot"


def test_oscillating_hot_spot() -> None:
    assert label("C....H...H") == "oscillating_hot_spot"


def test_historical_hot_spot() -> None:
    assert label("HHHHHHHHH.") == "historical_hot_spot"


def test_new_cold_spot() -> None:
    assert label(".........C") == "new_cold_spot"


def test_consecutive_cold_spot() -> None:
    assert label(".......CCC") == "consecutive_cold_spot"


def test_intensifying_cold_spot() -> None:
    # Cold clustering getting stronger: z falling further below zero.
    assert label("C" * 12, [-z for z in RISING]) == "intensifying_cold_spot"


def test_persistent_cold_spot() -> None:
    assert label("C" * 10) == "persistent_cold_spot"


def test_diminishing_cold_spot() -> None:
    assert label("C" * 12, [-z for z in FALLING]) == "diminishing_cold_spot"


def test_sporadic_cold_spot() -> None:
    assert label(".C..C.C..C") == "sporadic_cold_spot"


def test_oscillating_cold_spot() -> None:
    assert label("..H..C...C") == "oscillating_cold_spot"
    assert label("HHHHCHHHHC") == "oscillating_cold_spot"


def test_historical_cold_spot() -> None:
    assert label("CCCCCCCCCC.") == "historical_cold_spot"


def test_no_pattern() -> None:
    assert label("..........") == "no_pattern"
    # Hot once in the past, quiet since: no category names it.
    assert label("...H......") == "no_pattern"


def test_every_label_has_a_test() -> None:
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert set(EMERGING_CATEGORIES) <= tested


# ---------------------------------------- where these rules differ from sfdep (documented)


def test_sporadic_needs_a_hot_final_period_unlike_sfdep() -> None:
    # sfdep: "sporadic hotspot" (it does not look at the final period); Esri and we: no.
    assert label("H.H.H.....") == "no_pattern"


def test_historical_needs_only_a_not_hot_final_period_unlike_sfdep() -> None:
    # Final bin not significant: sfdep checks persistent (>= 90 % hot, no significant trend,
    # no final-period condition) before historical, so it calls this persistent; its
    # historical rule would also need a final z < 0.
    zs = [3.0] * 9 + [1.2]
    assert label("HHHHHHHHH.", zs) == "historical_hot_spot"


def test_new_allows_an_earlier_cold_spot_unlike_sfdep() -> None:
    # sfdep requires no earlier significant bin of either sign and says "oscillating".
    assert label("C........H") == "new_hot_spot"


def test_intensifying_counts_hot_bins_only_unlike_sfdep() -> None:
    # T = 20: cold, quiet, cold, then 17 hot bins with z rising. sfdep's intensifying rule
    # counts significant bins of either sign (19 of 20 = 95 % >= 90 %) and its consecutive
    # rule (checked first) fails because a significant bin precedes the final run, so sfdep
    # says "intensifying hotspot". Here only hot bins count: 17 of 20 = 85 % < 90 %, and the
    # final hot run has no hot bin before it, so it is a consecutive hot spot.
    zs = [-3.0, -1.0, -2.5] + [3.0 + 0.5 * t for t in range(17)]
    assert label("C.C" + "H" * 17, zs) == "consecutive_hot_spot"
    # (On `CCHHHHHHHH` both agree: every bin is significant, so sfdep's final run is all ten
    # bins and its consecutive rule, checked before intensifying, says consecutive too.)
    assert label("CCHHHHHHHH", [-3.0, -3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0]) == (
        "consecutive_hot_spot"
    )


def test_final_state_wins_over_history() -> None:
    # 90 % hot, then a first cold bin in the final period: a new cold spot. sfdep says
    # "consecutive coldspot" (its final run counts significant bins of either sign, so the run
    # is all ten bins, and it has no hot-history condition), not historical.
    assert label("HHHHHHHHHC") == "new_cold_spot"


def test_ninety_percent_boundary_is_exact() -> None:
    # 9 of 10 hot is ">= 90 %"; 8 of 10 is not.
    assert label(".HHHHHHHHH") == "persistent_hot_spot"
    assert label("..HHHHHHHH") == "consecutive_hot_spot"


def test_thresholds_are_options() -> None:
    zs, ps = series("H" * 12, RISING)
    ps[:] = 0.07  # significant at 0.10, not at 0.05
    assert classify_emerging(zs, ps)[0] == "intensifying_hot_spot"
    assert classify_emerging(zs, ps, alpha=0.05)[0] == "no_pattern"
    # A short rising series: a trend significant at 0.10 but not at 0.01.
    z5 = np.array([[3.0], [3.5], [4.0], [4.5], [5.0]])
    p5 = np.full((5, 1), 0.001)
    # S = 10, var = 5*4*15/18, Z = 9 / sqrt(50/3) = 2.2045, p = 0.0275.
    assert mann_kendall(z5).p[0] == pytest.approx(2 * stats.norm.sf(9 / math.sqrt(50 / 3)))
    assert classify_emerging(z5, p5)[0] == "intensifying_hot_spot"
    assert classify_emerging(z5, p5, alpha_trend=0.01)[0] == "persistent_hot_spot"


def test_classify_is_vectorised_over_locations() -> None:
    patterns = [".........H", "......HHHH", "..H..H...H", "HHHHHHHHH.", ".........."]
    z = np.hstack([series(p)[0] for p in patterns])
    p = np.hstack([series(p)[1] for p in patterns])
    assert classify_emerging(z, p).tolist() == [
        "new_hot_spot",
        "consecutive_hot_spot",
        "sporadic_hot_spot",
        "historical_hot_spot",
        "no_pattern",
    ]


def test_classify_bad_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        classify_emerging(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="alpha"):
        classify_emerging(np.zeros((3, 2)), np.zeros((3, 2)), alpha=1.5)


# ------------------------------------------------------------------ end to end on a grid


def lattice(nx: int, ny: int) -> np.ndarray:
    gy, gx = np.divmod(np.arange(nx * ny), nx)
    return np.column_stack([gx * 250.0, gy * 250.0])


def test_emerging_on_a_grid_finds_a_new_and_a_persistent_cluster() -> None:
    rng = np.random.default_rng(4)
    nx = ny = 30
    xy = lattice(nx, ny)
    periods = 12
    values = rng.poisson(0.3, size=(periods, nx * ny)).astype(float)

    def block(cx: int, cy: int) -> list[int]:
        return [(cy + dy) * nx + cx + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)]

    values[:, block(6, 6)] += 20.0  # hot every period
    values[-1, block(22, 22)] += 40.0  # appears in the final period only
    r = emerging_hot_spots(values, xy, 375.0)
    assert r.category[6 * nx + 6] == "persistent_hot_spot"
    assert r.category[22 * nx + 22] == "new_hot_spot"
    assert r.hot_periods[6 * nx + 6] == periods
    # Per-period Gi* is exactly the single-period test.
    assert_array_equal(r.gi.z[3], gi_star_test(values[3], xy, 375.0).z)
    assert_allclose(r.trend.s, mann_kendall(r.gi.z).s)


def test_emerging_on_real_city_of_london_months(city_events: pd.DataFrame) -> None:
    # 36 real months: the categories must be consistent with the per-month Gi* bins.
    cx, cy = cell_coordinates(city_events["x"], city_events["y"])
    ax, ay = study_area_cells(cx, cy, within=500)
    months = sorted(city_events["month"].unique())
    assert len(months) == 36
    month_index = city_events["month"].map({m: i for i, m in enumerate(months)}).to_numpy()
    values = np.zeros((36, ax.size))
    for i in range(36):
        sel = month_index == i
        values[i] = values_on_cells(cx[sel], cy[sel], np.ones(sel.sum()), ax, ay)
    r = emerging_hot_spots(values, np.column_stack([ax, ay]), 375.0)
    hot = (r.gi.p_fdr <= 0.10) & (r.gi.z > 0)
    persistent = r.category == "persistent_hot_spot"
    assert persistent.any()  # the City's core is hot month after month
    assert (hot[:, persistent].sum(axis=0) >= 0.9 * 36).all() and hot[-1, persistent].all()
    assert set(r.category) <= set(EMERGING_CATEGORIES)
    assert_array_equal(r.hot_periods, hot.sum(axis=0))


def test_emerging_needs_two_periods() -> None:
    with pytest.raises(ValueError, match="periods >= 2"):
        emerging_hot_spots(np.ones((1, 4)), lattice(2, 2), 300.0)
