"""The validation's ceilings and further truths on small constructed cases, by hand.

The ceiling of a ranking is the best precision@k any order of its own units reaches: the
oracle that puts the found units in true-harm order. A people check scores the same
rankings on two truths (the nominals a force knows, primary; everybody, ``all_population``).
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from harmscope.checks.people import known_nominals
from harmscope.checks.rankings import Rankings
from harmscope.checks.scoring import exact_matcher, score_rankings, summarise
from harmscope.checks.units import area_matcher
from harmscope.people.records import Records


def _truth() -> pd.Series:
    # true order a, b, c, d, e, f; nobody else has harm
    return pd.Series({"a": 60.0, "b": 50.0, "c": 40.0, "d": 30.0, "e": 20.0, "f": 10.0})


def _rankings(**kw: object) -> Rankings:
    base: dict[str, object] = {
        "lens": "people",
        "predicted": ["x", "d", "a", "y", "c"],
        "counting": ["a", "b", "e"],
        "busyness": ["z", "e", "f"],
        "truth": _truth(),
    }
    base.update(kw)
    return Rankings(**base)  # type: ignore[arg-type]


def _oracle(ranking: list[str], truth: pd.Series, k: int) -> float:
    """Best p@k over every order of the ranking (brute force), equal ids."""
    top = set(truth.sort_values(ascending=False).index[:k])
    return max(len(set(order[:k]) & top) / k for order in itertools.permutations(ranking))


def test_ceiling_is_the_oracle_order_of_the_found_units() -> None:
    s = score_rankings(_rankings(), k=3, k2=4)
    lens, count, busy = (s.scores[r] for r in ("lens", "counting", "busyness"))
    # T_3 = a, b, c. Lens top 3 x, d, a: one hit; it ranks a and c somewhere: ceiling 2/3
    assert lens.precision_at_k == pytest.approx(1 / 3)
    assert lens.ceiling_at_k == pytest.approx(2 / 3) and lens.ceiling_hits == 2
    assert lens.ceiling_at_k == pytest.approx(_oracle(["x", "d", "a", "y", "c"], _truth(), 3))
    # counting a, b, e: two hits and at its ceiling (nothing better to reorder)
    assert count.precision_at_k == pytest.approx(2 / 3) == count.ceiling_at_k
    # busyness finds none of T_3 anywhere
    assert busy.ceiling_at_k == 0.0
    d = s.to_dict()
    assert d["ceiling_at_k"] == pytest.approx(2 / 3)
    assert d["baseline_ceiling_at_k"] == pytest.approx(2 / 3)
    assert d["busyness_ceiling_at_k"] == 0.0
    # the contract keys stay first
    assert list(d)[:3] == ["precision_at_k", "baseline_precision_at_k", "busyness_precision_at_k"]


def test_ceiling_with_a_matcher_is_a_one_to_one_matching() -> None:
    # footprints: m1 covers the cells of a and b, m2 that of b only, m3 nothing true
    cells = {"a": (0.0, 0.0), "b": (250.0, 0.0), "c": (500.0, 0.0)}
    areas = {"m1": [(0.0, 0.0), (250.0, 0.0)], "m2": [(250.0, 0.0)], "m3": [(9e5, 9e5)]}
    truth = pd.Series({"a": 9.0, "b": 8.0, "c": 7.0})
    r = _rankings(
        lens="markets",
        predicted=["m3", "m2", "m1"],
        counting=["m1"],
        busyness=["m2"],
        truth=truth,
        matcher=area_matcher(areas, cells),
    )
    s = score_rankings(r, k=2)
    # T_2 = a, b. Lens top 2 (m3, m2) locates b: 1 hit; all three footprints can locate
    # a (m1) and b (m2) one-to-one: ceiling 1. m1 alone over a and b earns one hit.
    assert s.scores["lens"].precision_at_k == 0.5 and s.scores["lens"].ceiling_at_k == 1.0
    assert s.scores["counting"].ceiling_at_k == 0.5 == s.scores["counting"].precision_at_k


def test_other_truths_scored_alike_and_pooled_by_name() -> None:
    everybody = pd.concat([_truth(), pd.Series({"q": 100.0, "r": 90.0})])
    per_seed = []
    for seed, lens in enumerate([["a", "b", "q"], ["a", "x", "b"]], start=1):
        r = _rankings(
            predicted=lens,
            other_truths={"all_population": everybody},
            notes={"truth": "known", "all_population_truth": "everybody"},
        )
        per_seed.append((seed, score_rankings(r, k=2)))
    first = per_seed[0][1]
    # primary T_2 = a, b; all_population T_2 = q, r
    assert first.scores["lens"].precision_at_k == 1.0
    other = first.others["all_population"]
    assert other.true_top == ("q", "r")
    assert other.scores["lens"].precision_at_k == 0.0 and other.scores["lens"].ceiling_at_k == 0.5
    d = first.to_dict()
    assert d["truth"] == "known" and d["all_population"]["truth"] == "everybody"
    assert "all_population_truth" not in d["all_population"]
    out = summarise(per_seed)
    # seed 1: lens a, b at ceiling 1 and ties counting (a, b); seed 2: a, x -> 0.5, ceiling 1
    assert out["precision_at_k"] == pytest.approx(0.75)
    assert out["ceiling_at_k"] == pytest.approx(1.0)
    assert out["at_ceiling"] == 1
    w = out["wins"]["counting"]["precision_at_k"]
    assert (w["wins"], w["ties"], w["losses"], w["ties_at_ceiling"]) == (0, 1, 1, 1)
    pooled = out["all_population"]
    assert pooled["precision_at_k"] == pytest.approx(0.0)
    assert pooled["ceiling_at_k"] == pytest.approx(0.25)  # q found on seed 1 only
    assert [p["seed"] for p in pooled["per_seed"]] == [1, 2]
    assert "ceiling_at_k" in out["per_seed"][0]


def test_known_nominals_any_record_of_the_period() -> None:
    empty = pd.DataFrame()
    rec = Records(
        nominals=empty,
        links=empty,
        reports=pd.DataFrame({"subject_id": ["N2", None], "m": [5, 6]}),
        crime_people=pd.DataFrame({"nominal_id": ["N1", "N3"], "role": ["victim", "offender"]}),
        # an arrest before the period tells custody, not a record of the period
        arrests=pd.DataFrame({"nominal_id": ["N4", "N5"], "m": [2, 6]}),
        groups=empty,
        markets=empty,
        start=4,
        end=7,
    )
    assert known_nominals(rec).tolist() == ["N1", "N2", "N3", "N5"]


def test_exact_matcher_ceiling_ignores_repeats() -> None:
    assert exact_matcher(["a", "a", "b"], ["a", "b"]) == [("a", "a"), ("b", "b")]
    s = score_rankings(_rankings(predicted=["a", "a", "a"]), k=2)
    assert s.scores["lens"].ceiling_at_k == 0.5
