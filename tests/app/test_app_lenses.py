"""The lens options a face offers: which lenses exist, which options belong to which lens."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmscope.app.lenses import (
    LENS_OPTIONS,
    available_lenses,
    check_lens,
    lens_options,
    options_for,
    planned_lenses,
    ranked,
)
from harmscope.priorities import ALL, LENSES, PLANNED_LENSES, LensUnavailableError, rank


def test_lenses_a_face_can_offer() -> None:
    assert available_lenses() == ["behaviours", "groups", "markets", "people", "places", "all"]
    assert planned_lenses() == {} or not set(planned_lenses()) & set(LENSES)


def test_which_options_apply_to_which_lens() -> None:
    assert [o.flag for o in options_for("places")] == ["--significance"]
    assert [o.flag for o in options_for(" Markets ")] == ["--buffer"]
    assert options_for(ALL) == LENS_OPTIONS
    assert options_for("people") == ()


def test_a_planned_lens_is_refused_saying_what_it_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert check_lens(" Places ") == "places"
    assert check_lens("ALL") == "all"
    names = "behaviours, groups, markets, people, places, all"
    with pytest.raises(LensUnavailableError) as unknown:
        check_lens(" Placs ")  # refused before any work, as typed, with the valid names
    assert str(unknown.value) == f"--lens: unknown lens 'Placs' (available: {names})"
    # every lens DESIGN names is built now; a planned one is still refused saying what it needs
    monkeypatch.setitem(PLANNED_LENSES, "victims", "victims ranked by harm suffered; needs X")
    with pytest.raises(LensUnavailableError) as info:
        check_lens("Victims")
    assert str(info.value) == (
        f"--lens victims: not available yet ({PLANNED_LENSES['victims']}); available: {names}"
    )


def test_an_option_of_another_lens_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^--buffer applies to --lens markets \(or all\) only$"):
        lens_options("places", {"buffer": 10.0})
    with pytest.raises(ValueError, match=r"^--significance applies to --lens places"):
        lens_options("markets", {"significance": "weight", "buffer": None})


def test_options_reach_their_lens() -> None:
    given = {"significance": "weight", "buffer": 300.0}
    assert lens_options("all", given, top=5) == {
        "top": 5,
        "per_lens": {"places": {"significance": "weight"}, "markets": {"buffer": 300.0}},
    }
    assert lens_options("places", {"significance": "require", "buffer": None}, scheme="count") == {
        "scheme": "count",
        "significance": "require",
    }
    assert lens_options("all", {}) == {"per_lens": {}}


def test_ranked_rows_name_their_lens(city_db: Path) -> None:
    options = lens_options("places", {"significance": None}, scheme="count", top=5)
    rows = ranked("places", city_db, options)
    direct = rank("places", city_db, **options)
    assert list(rows.columns) == ["lens", *direct.columns]
    assert (rows["lens"] == "places").all()
    # equal up to the last bits: DuckDB's threads add the same doubles in any order
    pd.testing.assert_frame_equal(rows.drop(columns="lens"), direct, check_exact=False, rtol=1e-12)
    assert list(rows["rank"]) == [1, 2, 3, 4, 5]
    assert rows["score"].is_monotonic_decreasing
    board = ranked("all", city_db, lens_options("all", {}, scheme="count", top=8))
    assert set(board["lens"]) <= {"places", "markets"} and list(board["rank"]) == list(range(1, 9))
