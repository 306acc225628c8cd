"""The lenses on a simulated city (SYNTHETIC): harm recomputed from the city's own CSV files,
and the lens checks scoring the months after the ranked period.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.checks.people import period_split, records_rankings
from harmscope.checks.rankings import LENS_CHECKS
from harmscope.checks.scoring import score_rankings
from harmscope.evaluate.survey import load_survey
from harmscope.harm.schemes import load_scheme
from harmscope.priorities.board import priority_board
from harmscope.priorities.lenses import BOARD_COLUMNS, REQUIRED_COLUMNS, rank
from harmscope.priorities.morile import load_morile
from harmscope.simulate import simulate
from harmscope.sources.records.pseudonym import KEY_ENV, Pseudonymiser
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.records import load_records

KEY = "people city tests key, long enough"


def _top(truth: pd.Series, k: int) -> set[str]:
    """The k largest, ties by id (as the scorer breaks them)."""
    frame = pd.DataFrame({"u": truth.index.astype(str), "h": truth.to_numpy()})
    return set(frame.sort_values(["h", "u"], ascending=[False, True])["u"].head(k))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pc")
    sim = simulate(seed=7, months=9, size="small").write(base / "c")
    db = base / "w.duckdb"
    ingest_paths([sim], db=db)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([sim / "intel", sim / "records"], db=db, user="u", reason="r")
    return sim, db


def test_people_lens_harm_from_the_city_files(city: tuple[Path, Path]) -> None:
    sim, db = city
    out = rank("people", db, user="u", reason="r", harm="all")
    assert list(out.columns[:4]) == list(REQUIRED_COLUMNS)
    # every board column but the place-based ones (a nominal has no LSOA of harm)
    assert set(BOARD_COLUMNS) - {"area", "harm_types"} <= set(out.columns)
    # recompute every nominal's linked-offence harm from the CSVs with pandas
    street = pd.concat(pd.read_csv(p) for p in sorted(sim.glob("20*/*-street.csv")))
    weights = {w.event_type: w.weight for w in load_scheme("cchi").weights if w.kind == "harm"}
    crimes = street.dropna(subset=["Crime ID"]).drop_duplicates("Crime ID")
    crimes = crimes.assign(w=crimes["Crime type"].map(weights).fillna(0.0))
    links = pd.read_csv(sim / "records/crime_people.csv")
    links = links[links["role"] != "victim"].merge(
        crimes[["Crime ID", "w"]], left_on="crime_id", right_on="Crime ID"
    )
    links["share"] = links["w"] / links.groupby("crime_id")["nominal_id"].transform("size")
    expected = links.groupby("nominal_id")["share"].sum()
    key = Pseudonymiser(KEY.encode())
    expected.index = expected.index.map(key)
    got = out.set_index("unit_id")
    offence_harm = got["harm"]  # reports are valued on top of the offences
    reports = pd.read_csv(sim / "intel/reports.csv")
    assert len(reports) > 0
    common = expected.index.intersection(got.index)
    assert len(common) >= 10
    assert (offence_harm.reindex(common) >= expected.reindex(common) - 1e-6).all()
    # nominals without reports: harm is exactly the offence harm
    no_reports = set(common) - set(reports["subject_id"].map(key))
    assert no_reports
    assert_allclose(got.loc[sorted(no_reports), "harm"], expected[sorted(no_reports)])


def test_checks_score_the_months_after_the_ranked_period(
    city: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, db = city
    monkeypatch.setenv(KEY_ENV, KEY)
    months = [f"2021-{m:02d}" for m in range(1, 10)]
    assert period_split(months) == (("2021-01", "2021-06"), months[6:])
    assert {"people", "groups", "behaviours"} <= set(LENS_CHECKS)
    r = records_rankings("people", sim, db)  # loading again adds nothing (same bytes)
    pm = pd.read_csv(sim / "truth/person_month.csv")
    later = pm[pm["month"] >= "2021-07"].groupby("person_id")["true_harm"].sum()
    # members of the public: the cchi harm of the crimes they are linked to as offenders
    # (or suspects), split among the crime's people, in the scored months
    kinds = pd.read_csv(sim / "truth/people.csv").set_index("person_id")["kind"]
    cases = pd.read_csv(sim / "records/crime_people.csv")
    cases = cases[cases["role"].isin(["offender", "suspect"]) & (cases["month"] >= "2021-07")]
    street = pd.concat(pd.read_csv(f) for f in sorted(sim.glob("2021-*/*-street.csv")))
    cchi = {w.event_type: w.weight for w in load_scheme("cchi").weights}
    weight = street.dropna(subset=["Crime ID"]).set_index("Crime ID")["Crime type"].map(cchi)
    cases = cases.assign(h=cases["crime_id"].map(weight).fillna(0.0))
    cases["h"] /= cases.groupby("crime_id")["nominal_id"].transform("size")
    public = cases[cases["nominal_id"].map(kinds) == "public"].groupby("nominal_id")["h"].sum()
    later = later.add(public, fill_value=0.0)
    later.index = later.index.map(Pseudonymiser(KEY.encode()))
    everybody = r.other_truths["all_population"]
    assert_allclose(everybody.sort_index(), later[later > 0].sort_index())
    # primary truth: the same, kept to the nominals with a record in the ranked months — a
    # crime link in any role, a report about them or an arrest — recomputed from the CSVs
    ranked = "2021-06"
    every_link = pd.read_csv(sim / "records/crime_people.csv", dtype=str)
    reports = pd.read_csv(sim / "intel/reports.csv", dtype=str)
    arrests = pd.read_csv(sim / "records/arrests.csv", dtype=str)
    known = set(every_link.loc[every_link["month"] <= ranked, "nominal_id"])
    known |= set(reports.loc[reports["month"] <= ranked, "subject_id"].dropna())
    known |= set(arrests.loc[arrests["month"] <= ranked, "nominal_id"])
    known_ids = {Pseudonymiser(KEY.encode())(n) for n in known}
    expected = later[later > 0]
    expected = expected[expected.index.isin(known_ids)]
    assert 0 < len(expected) < len(everybody)
    assert_allclose(r.truth.sort_index(), expected.sort_index())
    assert "known nominals" in r.notes["truth"]
    assert r.notes["ranked_months"] == ["2021-01", "2021-06"]
    # scored on both truths; the primary keeps the contract keys, the other is named
    score = score_rankings(r).to_dict()
    top10 = _top(expected, 10)
    assert score["precision_at_k"] == len(set(r.predicted[:10]) & top10) / 10
    # the ceiling: every unit the lens ranked, in the oracle's order
    assert score["ceiling_at_k"] == len(set(r.predicted) & top10) / 10
    assert score["baseline_ceiling_at_k"] == len(set(r.counting) & top10) / 10
    pop10 = _top(everybody, 10)
    assert score["all_population"]["precision_at_k"] == len(set(r.predicted[:10]) & pop10) / 10
    assert score["all_population"]["ceiling_at_k"] == len(set(r.predicted) & pop10) / 10
    assert "every person" in score["all_population"]["truth"]
    # counting: linked crimes as offender or suspect in the ranked months, most first
    links = pd.read_csv(sim / "records/crime_people.csv")
    links = links[(links["role"] != "victim") & (links["month"] <= "2021-06")]
    n = links.groupby("nominal_id")["crime_id"].nunique()
    assert int(n.max()) == int(n[n.index.map(Pseudonymiser(KEY.encode())) == r.counting[0]].iloc[0])
    assert len(r.predicted) > 0 and np.isfinite(r.truth).all()


def test_community_weights_reach_people_groups_and_behaviours(
    city: tuple[Path, Path], tmp_path: Path
) -> None:
    """Survey categories name crime types and behaviour labels: a ranking of "Exploitation of
    young people" first weighs child criminal exploitation 4 (K p / sum p = 8 x 3 / 6), last 0."""
    sim, db = city
    cfg = load_morile()["community"]
    category_of = {t.lower(): c for c, ts in cfg["categories"].items() for t in ts}
    survey = pd.read_csv(sim / "survey/responses.csv")
    boards = {}
    for first in ("Exploitation of young people", "Vehicle crime"):
        copy = tmp_path / f"{first[:4]}.duckdb"
        shutil.copy(db, copy)
        answers = survey.assign(
            harm_rank_1=first, harm_rank_2="Burglary", harm_rank_3="Violence", lsoa_code=None
        )
        answers.to_csv(tmp_path / "s.csv", index=False)
        load_survey(tmp_path / "s.csv", db=copy)
        for lens in ("people", "groups", "behaviours"):
            boards[first, lens] = priority_board(copy, lens, user="u", reason="r", harm="all")
    weight = {"Exploitation of young people": 4.0, "Burglary": 8 * 2 / 6, "Violence": 8 / 6}
    for lens in ("people", "groups", "behaviours"):
        board = boards["Exploitation of young people", lens].set_index("unit_id")
        # every row's weight recomputed from its harm by type and the config's categories
        for uid, row in board.iterrows():
            total = sum(row["harm_types"].values())
            # a row with no harm of its own (ranked on its group's) keeps weight 1
            expected = (
                1.0
                if not total
                else sum(
                    v / total * weight.get(category_of.get(t.lower(), ""), 0.0)
                    if t.lower() in category_of
                    else v / total
                    for t, v in row["harm_types"].items()
                )
            )
            assert row["community_weight"] == pytest.approx(expected), (lens, uid)
        assert (board["community_weight"] != 1.0).any(), lens
    asked = boards["Exploitation of young people", "behaviours"].set_index("unit_id")
    other = boards["Vehicle crime", "behaviours"].set_index("unit_id")
    cce = "child_criminal_exploitation"
    assert asked.loc[cce, "community_weight"] == pytest.approx(4.0)
    assert other.loc[cce, "community_weight"] == pytest.approx(0.0)
    # H_b = H ((1 - mix) + mix m): the stated mix moves it by exactly this much
    mix = asked.loc[cce, "community_mix"]
    assert asked.loc[cce, "harm_factor_blended"] / other.loc[cce, "harm_factor_blended"] == (
        pytest.approx((1 - mix + mix * 4.0) / (1 - mix))
    )
