"""The priority board on real City of London data: MoRiLE factors, community weights,
personal lenses, snapshots. Every expected figure is recomputed here from the events (SQL),
the packaged TOML files and the survey rows the tests write."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import harmscope.harm
from harmscope.errors import InputError
from harmscope.evaluate.survey import load_survey
from harmscope.markets import markets
from harmscope.priorities import LENSES, PLANNED_LENSES, LensUnavailableError, register_lens
from harmscope.priorities.board import priority_board
from harmscope.priorities.community import community_weights, row_weights
from harmscope.priorities.morile import DEFAULT_MORILE, load_morile
from harmscope.priorities.snapshot import compare
from harmscope.warehouse.snapshots import SnapshotError, read_snapshot, save_snapshot

CATEGORIES = [
    "Drug dealing in public",
    "Violence",
    "Burglary",
    "Robbery and street theft",
    "Anti-social behaviour",
    "Discarded needles and drug litter",
    "Exploitation of young people",
    "Vehicle crime",
]


def _cchi() -> dict[str, float]:
    path = Path(harmscope.harm.__file__).parent / "data" / "schemes" / "cchi.toml"
    doc = tomllib.loads(path.read_text("utf-8"))
    return {w["event_type"]: float(w["weight"]) for w in doc["weight"] if w["kind"] == "harm"}


def _cells(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per 250 m cell: harm by type (all-crime CCHI) and the LSOA holding most records."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        ev = con.execute(
            "SELECT floor(x / 250) * 250 AS cell_x, floor(y / 250) * 250 AS cell_y, "
            "event_type, lsoa_code, source FROM events WHERE x IS NOT NULL AND y IS NOT NULL"
        ).df()
    finally:
        con.close()
    w = _cchi()
    crimes = ev[ev["source"] != "stop_search"]
    harm = crimes.assign(value=crimes["event_type"].map(w)).dropna(subset=["value"])
    by_type = harm.groupby(["cell_x", "cell_y", "event_type"], as_index=False)["value"].sum()
    counts = (
        ev.dropna(subset=["lsoa_code"])
        .groupby(["cell_x", "cell_y", "lsoa_code"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["cell_x", "cell_y", "n", "lsoa_code"], ascending=[1, 1, 0, 1])
        .drop_duplicates(["cell_x", "cell_y"])
    )
    return by_type, counts


@pytest.fixture(scope="module")
def plain(city_db: Path) -> pd.DataFrame:
    return priority_board(city_db, "all", harm="all")


def test_board_scores_recomputed_from_the_four_factors(city_db: Path, plain: pd.DataFrame) -> None:
    """No survey loaded: score = 5 h / max_lens h x L/5 x C x O, every part by hand."""
    cfg = tomllib.loads(DEFAULT_MORILE.read_text("utf-8"))
    assert set(plain["lens"]) == {"places", "markets"}
    assert plain["rank"].tolist() == list(range(1, len(plain) + 1))
    assert plain["score"].is_monotonic_decreasing
    places = plain[plain["lens"] == "places"]
    # places give trend, recency and forecast: L = their mean; confidence 0.8 -> C = 0.5 + 0.4
    step = cfg["likelihood"]["trend_step"]
    trend_part = np.clip(3 + places["trend"].astype(float) / step, 1, 5)
    since = places["months_since_last"].astype(float)
    recency_part = np.select(
        [since <= 1, since <= 3, since <= 6, since <= 12], [5.0, 4.0, 3.0, 2.0], 1.0
    )
    ratio = places["forecast_harm"].astype(float) / places["harm"].astype(float)
    forecast_part = np.where(ratio > 0, np.clip(3 + 2 * np.log2(ratio), 1, 5), 1.0)
    like = np.nanmean(np.column_stack([trend_part, recency_part, forecast_part]), axis=1)
    expected = 5 * places["harm"] / places["harm"].max() * (like / 5) * 0.9 * 1.0
    np.testing.assert_allclose(places["score"], expected, rtol=1e-12)
    np.testing.assert_allclose(places["likelihood"], like, rtol=1e-12)
    # markets: L = mean(trend part, recency part) from the monthly harm, C = 0.5 + 0.5 x 0.6
    found = {m.id: m for m in markets(city_db, harm="all") if m.status != "rejected"}
    rows = plain[plain["lens"] == "markets"]
    assert len(rows) == len(found) > 0
    top = max(m.harm for m in found.values())
    for r in rows.itertuples():
        y = np.asarray(found[r.unit_id].monthly_harm, dtype=float)
        slope = np.polyfit(np.arange(len(y)), y, 1)[0] / y.mean()
        trend = min(max(3 + slope / cfg["likelihood"]["trend_step"], 1), 5)
        since = len(y) - 1 - np.flatnonzero(y > 0)[-1]
        recency = 5 if since <= 1 else 4 if since <= 3 else 3 if since <= 6 else 2
        like = (trend + recency) / 2
        assert r.score == pytest.approx(5 * found[r.unit_id].harm / top * like / 5 * 0.8)
    # the Poisson score range of a place: h (1 -/+ 1.96 / sqrt(events)) through the factors
    p = places.iloc[0]
    rel = 1.96 / np.sqrt(p["harm_events"])
    assert p["score_low"] == pytest.approx(p["score"] * (1 - rel))
    assert p["score_high"] == pytest.approx(p["score"] * (1 + rel))
    # rank range: best = 1 + rows surely above, worst = n - rows surely below
    lo, hi = plain["score_low"].to_numpy(), plain["score_high"].to_numpy()
    for i in (0, 5, len(plain) - 1):
        assert plain["rank_best"].iat[i] == 1 + int((lo > hi[i]).sum())
        assert plain["rank_worst"].iat[i] == len(plain) - int((hi < lo[i]).sum())
    # every row explains itself
    assert plain["top_cells"].map(len).gt(0).all() and plain["evidence"].map(len).gt(0).all()
    assert plain.attrs["formula"].startswith("score = H_b * (L / 5) * C * O")
    assert (plain["community_mix"] == 0.25).all()
    assert plain.attrs["community"]["wave"] is None


def _survey(path: Path, answers: dict[str, tuple[int, list[str]]], month: str) -> Path:
    """A survey file: for each LSOA, n respondents all ranking the three categories given."""
    rows = [
        {
            "month": month,
            "lsoa_code": lsoa,
            "drug_problem": 2,
            "confidence_in_police": 3,
            "feel_safe_after_dark": 3,
            "harm_rank_1": ranks[0],
            "harm_rank_2": ranks[1],
            "harm_rank_3": ranks[2],
        }
        for lsoa, (n, ranks) in answers.items()
        for _ in range(n)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _weights(answers: dict[str, tuple[int, list[str]]], lsoa: str | None) -> dict[str, float]:
    """w_c = K p_c / sum p over the area's (or, lsoa None, everyone's) answers."""
    points = dict.fromkeys(CATEGORIES, 0.0)
    for code, (n, ranks) in answers.items():
        if lsoa is None or code == lsoa:
            for pts, c in zip((3, 2, 1), ranks, strict=True):
                points[c] += n * pts
    total = sum(points.values())
    return {c: len(CATEGORIES) * v / total for c, v in points.items()}


CATEGORY_OF = {
    "Violence and sexual offences": "Violence",
    "Possession of weapons": "Violence",
    "Burglary": "Burglary",
    "Robbery": "Robbery and street theft",
    "Theft from the person": "Robbery and street theft",
    "Anti-social behaviour": "Anti-social behaviour",
    "Criminal damage and arson": "Anti-social behaviour",
    "Public order": "Anti-social behaviour",
    "Vehicle crime": "Vehicle crime",
    "Bicycle theft": "Vehicle crime",
    "Drugs": "Drug dealing in public",
}


@pytest.fixture(scope="module")
def surveyed(city_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two copies of the warehouse whose surveys differ in one area only."""
    tmp = tmp_path_factory.mktemp("survey")
    by_type, areas = _cells(city_db)
    harm = by_type.groupby(["cell_x", "cell_y"])["value"].sum()
    # the area of the most harmful cell is where residents change their minds
    top = harm.idxmax()
    target = areas.set_index(["cell_x", "cell_y"]).loc[top, "lsoa_code"]
    # areas in order of their most harmful cell: all of them have ranked cells
    ordered = (
        areas.set_index(["cell_x", "cell_y"])
        .assign(harm=harm)
        .sort_values("harm", ascending=False)["lsoa_code"]
        .drop_duplicates()
        .tolist()
    )
    others = [a for a in ordered if a != target]
    base = ["Violence", "Anti-social behaviour", "Vehicle crime"]
    answers_a = {target: (12, base), **{a: (12, base) for a in others[1:21]}}
    answers_a[others[0]] = (9, ["Burglary", "Violence", "Vehicle crime"])  # suppressed
    answers_b = dict(answers_a)
    answers_b[target] = (12, ["Burglary", "Robbery and street theft", "Violence"])
    out = {}
    for name, answers in (("a", answers_a), ("b", answers_b)):
        db = tmp / f"{name}.duckdb"
        shutil.copy(city_db, db)
        load_survey(_survey(tmp / f"{name}.csv", answers, "2019-05"), db=db)
        out[name] = (db, answers, priority_board(db, "places", harm="all"))
    return {"by_type": by_type, "areas": areas, "target": target, "small": others[0], **out}


def _m(by_type: pd.DataFrame, cell: tuple[float, float], w: dict[str, float]) -> float:
    rows = by_type[(by_type["cell_x"] == cell[0]) & (by_type["cell_y"] == cell[1])]
    share = rows["value"] / rows["value"].sum()
    return float(
        sum(
            s * w.get(CATEGORY_OF.get(t, ""), 1.0) if t in CATEGORY_OF else s
            for t, s in zip(rows["event_type"], share, strict=True)
        )
    )


def _area_weights(answers: dict[str, tuple[int, list[str]]], area: Any) -> dict[str, float]:
    """The weights a row in *area* gets: its own with 10+ respondents, else force-wide."""
    if isinstance(area, str) and area in answers and answers[area][0] >= 10:
        return _weights(answers, area)
    return _weights(answers, None)


def test_a_survey_change_moves_the_board_the_way_the_community_asked(
    surveyed: dict[str, Any],
) -> None:
    (_, ans_a, a), (_, ans_b, b) = surveyed["a"], surveyed["b"]
    target = surveyed["target"]
    assert a.attrs["community"]["wave"] == "2019-Q2" == b.attrs["community"]["wave"]
    a = a.set_index("unit_id")
    b = b.set_index("unit_id").loc[a.index]
    in_area = a["area"] == target
    assert in_area.sum() >= 1
    # other surveyed areas keep their own weights: nothing moved there
    own = a["area"].isin([k for k, (n, _) in ans_a.items() if n >= 10 and k != target])
    assert own.sum() >= 1
    np.testing.assert_allclose(b.loc[own, "score"], a.loc[own, "score"], rtol=1e-12)
    # every row: delta score = H x mix x (m_b - m_a) x L/5 x C x O, m by hand from the cell's
    # harm by type and the weights of its area (or force-wide) in each survey
    for uid, row in a.iterrows():
        cell = (float(row["cell_x"]), float(row["cell_y"]))
        ma = _m(surveyed["by_type"], cell, _area_weights(ans_a, row["area"]))
        mb = _m(surveyed["by_type"], cell, _area_weights(ans_b, row["area"]))
        assert row["community_weight"] == pytest.approx(ma)
        assert b.loc[uid, "community_weight"] == pytest.approx(mb)
        expected = row["harm_factor"] * 0.25 * (mb - ma) * row["likelihood"] / 5 * 0.9 * 1.0
        assert b.loc[uid, "score"] - row["score"] == pytest.approx(expected, abs=1e-12)
    # the direction in the area: burglary and robbery were asked for, violence dropped to
    # third and anti-social behaviour and vehicle crime out, so a cell rises exactly when
    # the share-weighted change of its categories' weights is positive
    wa, wb = _weights(ans_a, target), _weights(ans_b, target)
    moved = (b["score"] - a["score"])[in_area]
    assert (moved != 0).all()
    cats = surveyed["by_type"].assign(cat=surveyed["by_type"]["event_type"].map(CATEGORY_OF))
    for uid in moved.index:
        cell = (float(a.loc[uid, "cell_x"]), float(a.loc[uid, "cell_y"]))
        rows = cats[(cats["cell_x"] == cell[0]) & (cats["cell_y"] == cell[1])]
        share = rows["value"] / rows["value"].sum()
        delta = sum(
            s * (wb[c] - wa[c]) if isinstance(c, str) else 0.0
            for c, s in zip(rows["cat"], share, strict=True)
        )
        assert np.sign(moved[uid]) == np.sign(delta)
    # the cells that rose are exactly those holding harm the community now ranks higher
    asked = cats[cats["cat"].isin(["Burglary", "Robbery and street theft"])]
    holding = {
        uid
        for uid in moved.index
        if (
            (asked["cell_x"] == a.loc[uid, "cell_x"]) & (asked["cell_y"] == a.loc[uid, "cell_y"])
        ).any()
    }
    rose = set(moved.index[moved > 0])
    assert rose and rose <= holding


def test_small_areas_are_suppressed_to_the_force_wide_weights(surveyed: dict[str, Any]) -> None:
    _, answers, board = surveyed["a"]
    small = surveyed["small"]
    summary = board.attrs["community"]
    assert summary["suppressed"] == [small] and summary["min_respondents"] == 10
    force = _weights(answers, None)
    assert summary["force_weights"] == pytest.approx(force, abs=1e-4)
    rows = board[board["area"] == small]
    assert len(rows) >= 1
    assert rows["community_note"].str.contains("suppressed").all()
    for r in rows.itertuples():
        assert r.community_weight == pytest.approx(
            _m(surveyed["by_type"], (float(r.cell_x), float(r.cell_y)), force)
        )


def test_rows_without_harm_by_type_keep_weight_one(surveyed: dict[str, Any]) -> None:
    """A board whose rows carry no harm types (an empty long table) is neutral, not an error."""
    weights = community_weights(surveyed["a"][0], load_morile()["community"])
    assert weights.wave is not None
    empty = pd.DataFrame({"row": pd.Series(dtype=int), "type": [], "value": []})
    m, notes = row_weights(weights, [None, "E01000001"], empty)
    assert m.tolist() == [1.0, 1.0]
    assert notes == ["no harm by type for this row: community weight 1"] * 2


def test_mix_zero_ignores_the_survey(surveyed: dict[str, Any], plain: pd.DataFrame) -> None:
    db = surveyed["b"][0]
    none = priority_board(db, "places", harm="all", community_mix=0.0).set_index("unit_id")
    ref = plain[plain["lens"] == "places"].set_index("unit_id")
    np.testing.assert_allclose(none.loc[ref.index, "score"], ref["score"], rtol=1e-12)


# ------------------------------------------------------------------ personal and unavailable


@pytest.fixture
def fake_lenses() -> Iterator[dict[str, list[dict[str, Any]]]]:
    """A personal lens and one that cannot run here, registered for one test only."""
    calls: dict[str, list[dict[str, Any]]] = {"people": [], "groups": []}

    def people(source: Any, **options: Any) -> pd.DataFrame:
        calls["people"].append(options)
        return pd.DataFrame(
            {
                "rank": [1, 2],
                "unit_id": ["N-aaa", "N-bbb"],
                "score": [50.0, 10.0],
                "reasons": [["supplies a county line"], ["associate"]],
                "harm": [50.0, 10.0],
                "harm_low": [30.0, 2.0],
                "harm_high": [80.0, 20.0],
                "confidence": [1.0, 0.2],
                "months_since_last": [0, 13],
                "harm_types": [{"child criminal exploitation": 50.0}, {"Burglary": 10.0}],
            }
        )

    def groups(source: Any, **options: Any) -> pd.DataFrame:
        calls["groups"].append(options)
        raise LensUnavailableError("no force records loaded (harmscope load-records)")

    saved, planned = dict(LENSES), dict(PLANNED_LENSES)
    register_lens("people", people, "test people", personal=True)
    register_lens("groups", groups, "test groups")
    yield calls
    # the registry is the process's: leave it as it was for the other tests
    LENSES.clear()
    LENSES.update(saved)
    PLANNED_LENSES.clear()
    PLANNED_LENSES.update(planned)


def test_the_board_blends_lenses_and_passes_user_reason_to_personal_ones_only(
    city_db: Path, fake_lenses: dict[str, list[dict[str, Any]]], plain: pd.DataFrame
) -> None:
    without = priority_board(city_db, "all", harm="all")
    assert "people" not in set(without["lens"]) and not fake_lenses["people"]
    why = without.attrs["unavailable_reasons"]
    assert "--user and --reason" in why["people"]
    assert why["groups"] == "no force records loaded (harmscope load-records)"
    board = priority_board(city_db, "all", harm="all", user="A. Analyst", reason="tasking")
    assert set(board["lens"]) == {"places", "markets", "people"}
    assert fake_lenses["people"][-1]["user"] == "A. Analyst"
    assert fake_lenses["people"][-1]["reason"] == "tasking"
    assert all("user" not in o and "reason" not in o for o in fake_lenses["groups"])
    # people: H = 5 h / 50; L = recency (0 months -> 5, 13 -> 1); C = 0.5 + 0.5 c
    people = board[board["lens"] == "people"].set_index("unit_id")
    assert people.loc["N-aaa", "score"] == pytest.approx(5 * 1 * 1.0 * 1.0)
    assert people.loc["N-bbb", "score"] == pytest.approx(1 * (1 / 5) * 0.6)
    assert people.loc["N-aaa", "score_low"] == pytest.approx(5 * 30 / 50)
    assert people.loc["N-aaa", "score_high"] == pytest.approx(5 * 80 / 50)
    # the places keep their scores; the board is all rows by score
    places = board[board["lens"] == "places"].set_index("unit_id")["score"]
    ref = plain[plain["lens"] == "places"].set_index("unit_id")["score"]
    np.testing.assert_allclose(places.loc[ref.index], ref, rtol=1e-12)
    assert board["score"].is_monotonic_decreasing
    assert board.iloc[0]["unit_id"] == "N-aaa"


# ---------------------------------------------------------------------------- snapshots


def test_snapshot_saved_then_compared(city_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "snap.duckdb"
    shutil.copy(city_db, db)
    early = priority_board(db, "places", harm="all", months=("2019-01", "2019-03"))
    rows, hidden = save_snapshot(db, "q1", early, {"lens": "places"}, board_lens="places")
    assert (rows, hidden) == (len(early), 0)
    with pytest.raises(SnapshotError, match="exists already"):
        save_snapshot(db, "q1", early, {}, board_lens="places")
    late = priority_board(db, "places", harm="all", months=("2019-04", "2019-06"))
    name, previous, _ = read_snapshot(db, "last")
    assert name == "q1" and len(previous) == len(early)
    moved = compare(late, previous, name)
    was = dict(zip(early["unit_id"], early["rank"], strict=True))
    for r in moved.itertuples():
        if r.unit_id in was:
            assert r.previous_rank == was[r.unit_id]
            assert r.rank_change == was[r.unit_id] - r.rank
            assert r.movement == (
                "up" if r.rank_change > 0 else "down" if r.rank_change < 0 else "same"
            )
        else:
            assert r.movement == "new" and pd.isna(r.previous_rank)
    gone = set(early["unit_id"]) - set(late["unit_id"])
    assert {d["unit_id"] for d in moved.attrs["dropped_since"]} == gone
    with pytest.raises(SnapshotError, match="no snapshot named 'q9'"):
        read_snapshot(db, "q9")


def test_morile_file_sets_the_organisational_position(
    tmp_path: Path, plain: pd.DataFrame, city_db: Path
) -> None:
    uid = plain[plain["lens"] == "places"]["unit_id"].iat[3]
    path = tmp_path / "force.toml"
    path.write_text(
        "[position.lens.markets]\npartnership = 1\n"
        f'[position.unit."{uid}"]\ncapacity = 5\ncapability = 5\npartnership = 5\n',
        "utf-8",
    )
    board = priority_board(city_db, "all", harm="all", morile=load_morile(path))
    ref = plain.set_index("unit_id")["score"]
    got = board.set_index("unit_id")
    # O = 1 + 0.2 (mean - 3) / 2: unit mean 5 -> 1.2; markets mean (3 + 3 + 1) / 3 -> 0.9333
    assert got.loc[uid, "score"] == pytest.approx(ref[uid] * 1.2)
    mk = got[got["lens"] == "markets"]
    np.testing.assert_allclose(mk["score"], ref[mk.index] * (1 + 0.2 * (7 / 3 - 3) / 2))
    bad = tmp_path / "bad.toml"
    bad.write_text("[position]\ncapacity = 3\ncapability = \n", "utf-8")
    with pytest.raises(InputError, match=r"bad\.toml.*line 3"):
        load_morile(bad)
    out_of_scale = tmp_path / "scale.toml"
    out_of_scale.write_text("[position.lens.places]\ncapacity = 9\n", "utf-8")
    with pytest.raises(InputError, match="capacity = 9: expected 1 to 5"):
        load_morile(out_of_scale)


def test_load_survey_keeps_the_harm_ranking_once(city_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(city_db, db)
    answers = {"E01000001": (11, ["Burglary", "Violence", "Vehicle crime"])}
    path = _survey(tmp_path / "s.csv", answers, "2019-02")
    plain_file = tmp_path / "plain.csv"
    pd.read_csv(path).drop(columns=["harm_rank_1", "harm_rank_2", "harm_rank_3"]).to_csv(
        plain_file, index=False
    )
    load_survey(plain_file, db=db)  # no ranking: responses only, the board has no wave
    assert priority_board(db, "markets", harm="all").attrs["community"]["wave"] is None
    assert load_survey(path, db=db) == 11
    con = duckdb.connect(str(db))
    try:
        # a survey loaded before the ranking was kept gets it on the next load, once
        con.execute("DELETE FROM survey_harm_ranks")
    finally:
        con.close()
    assert load_survey(path, db=db) == 0  # responses already there
    con = duckdb.connect(str(db), read_only=True)
    try:
        ranks = con.execute(
            "SELECT harm_rank_1, count(*) FROM survey_harm_ranks GROUP BY 1"
        ).fetchall()
        responses = con.execute("SELECT count(*) FROM survey_responses").fetchone()
    finally:
        con.close()
    assert ranks == [("Burglary", 11)] and responses == (22,)
    board = priority_board(db, "markets", harm="all")
    assert board.attrs["community"]["wave"] == "2019-Q1"
    assert board.attrs["community"]["respondents"] == 11
