"""Each literature mechanism shows in the data and in the ground truth (issue 3, item 3-4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from harmscope.simulate import DEFAULT, Operation, SimResult, Simulation, build_city
from harmscope.simulate.operations import resolve


def _effects(res: SimResult, op_id: str, zone: str) -> pd.DataFrame:
    eff = res.truth["operation_effects"]
    return eff[(eff["operation_id"] == op_id) & (eff["zone"] == zone)]


def test_crackdown_cuts_harm_in_area_and_raises_police_activity(small_sim: SimResult) -> None:
    op = small_sim.truth["operations"].set_index("operation_id").loc["OP001"]
    assert op["tactic"] == "crackdown"
    tgt = _effects(small_sim, "OP001", "target")
    during = tgt[tgt["month"].isin(small_sim.month_labels[4:7])]
    assert len(during) == 3
    # Harm falls by at least the literature's mean effect in the area ...
    assert (during["true_harm_with"] < 0.85 * during["true_harm_without"]).all()
    # ... while searches and detections ("busyness") rise: activity follows deployment.
    assert (during["activity_with"] > 1.5 * during["activity_without"]).all()
    # Residual deterrence: a smaller effect after the end, fading.
    after = tgt[tgt["month"] > small_sim.month_labels[6]]
    cut = 1 - after["true_harm_with"] / after["true_harm_without"]
    assert len(after) >= 1 and (np.diff(cut.to_numpy()) <= 1e-12).all()
    assert (after["activity_with"] == after["activity_without"]).all()
    # The buffer moves in the drawn direction.
    buf = _effects(small_sim, "OP001", "buffer")
    change = (buf["true_harm_with"] - buf["true_harm_without"]).sum()
    assert np.sign(change) == np.sign(op["buffer_effect_size"]) or op["buffer_effect"] == "none"


def test_crackdown_searches_are_labelled_and_counted(small_sim: SimResult) -> None:
    ss = small_sim.stop_search
    in_op = ss["Policing operation"] == "OP001"
    assert in_op.sum() >= 3
    assert set(ss.loc[in_op, "_m"]) <= {4, 5, 6}


def test_diffusion_of_benefits_is_more_common_than_displacement() -> None:
    city = build_city(DEFAULT, 3, "small")
    kinds = [
        resolve(
            Operation("crackdown", ("M001",), start=1, operation_id=f"X{i}"),
            i,
            city,
            6,
            "2021-01",
            DEFAULT,
        ).buffer_kind
        for i in range(300)
    ]
    counts = pd.Series(kinds).value_counts()
    assert counts["diffusion"] > counts["displacement"] > 0
    assert counts["diffusion"] / 300 == pytest.approx(DEFAULT.diffusion_prob, abs=0.08)


def test_arrest_sweep_leaves_vacancies_and_turf_violence() -> None:
    params = dataclasses.replace(DEFAULT, turf_violence_prob=1.0)
    sim = Simulation(params, seed=9, months=12, size="small")
    m = sim.city.markets.loc[sim.city.markets["market_type"] == "open", "market_id"].iat[0]
    sim.schedule(Operation("arrests", (m,), start=4, duration=1))
    res = sim.run()
    mm = res.truth["market_month"]
    mm = mm[mm["market_id"] == m].reset_index(drop=True)
    assert mm.loc[4, "active_sellers"] < mm.loc[3, "active_sellers"]
    assert mm.loc[5:8, "turf_violence"].all() and not mm.loc[9:, "turf_violence"].any()
    custody = res.truth["person_month"]
    assert (custody.loc[custody["month"] == res.month_labels[4], "status"] == "in custody").any()
    tgt = _effects(res, "OP001", "target").set_index("month")
    turf = tgt.loc[res.month_labels[5:9]]
    assert (turf["true_harm_with"] > turf["true_harm_without"]).all()
    beh = res.truth["behaviour_month"]
    assert beh.loc[beh["behaviour"] == "turf violence", "true_harm"].sum() > 0


def test_dmi_closes_an_open_market() -> None:
    params = dataclasses.replace(DEFAULT, dmi_close_prob=1.0)
    sim = Simulation(params, seed=9, months=12, size="small")
    m = sim.city.markets.loc[sim.city.markets["market_type"] == "open", "market_id"].iat[0]
    plan = sim.schedule(Operation("dmi", (m,), start=3, duration=3))
    assert plan.closed_markets
    res = sim.run()
    mm = res.truth["market_month"]
    mm = mm[mm["market_id"] == m].reset_index(drop=True)
    assert (mm.loc[:2, "status"] == "operating").all()
    assert (mm.loc[4:, "status"] == "closed").all()  # closed from the call-in, and stays closed
    assert mm.loc[5:, "true_harm"].mean() < 0.4 * mm.loc[:2, "true_harm"].mean()
    assert (mm.loc[5:, "active_sellers"] == 0).all()
    pm = res.truth["person_month"]
    assert (pm["status"] == "deterred").any() and (pm["status"] == "in treatment").any()
    assert res.truth["operations"]["markets_closed"].iat[0] == m


def test_treatment_cuts_users_acquisitive_crime(small_sim: SimResult) -> None:
    op = small_sim.truth["operations"].set_index("operation_id").loc["OP004"]
    assert op["users_treated"] > 5
    city = _effects(small_sim, "OP004", "city")
    assert (city["true_harm_with"] <= city["true_harm_without"]).all()
    assert (city["true_harm_with"] < city["true_harm_without"]).any()
    pi = small_sim.partners
    pm = small_sim.truth["person_month"]
    n_tx = pm[pm["status"] == "in treatment"].groupby("month").size()
    start = small_sim.month_labels[12]
    before = small_sim.month_labels[11]
    assert n_tx.get(start, 0) - n_tx.get(before, 0) >= op["users_treated"] * 0.8
    entries = pi.groupby("month")["treatment_entries"].sum()
    assert entries[start] >= op["users_treated"]


def test_power_few_and_place_concentration(city_sim: SimResult) -> None:
    people = city_sim.truth["people"].set_index("person_id")
    harm = city_sim.truth["person_month"].groupby("person_id")["true_harm"].sum()
    users = harm[people.loc[harm.index, "kind"] == "user"].sort_values(ascending=False)
    top = users.iloc[: max(1, len(users) // 10)].sum() / users.sum()
    assert top > 0.4  # Sherman's power few: 10 % of offenders, much of the harm
    places = city_sim.truth["places"].groupby(["cell_x", "cell_y"])["true_harm"].sum()
    places = places[places > 0].sort_values(ascending=False)
    assert places.iloc[: len(places) // 20].sum() / places.sum() > 0.3


def test_harm_is_highest_around_open_markets(city_sim: SimResult) -> None:
    mm = city_sim.truth["market_month"]
    markets = city_sim.truth["markets"].set_index("market_id")
    per = mm.groupby("market_id")["true_harm"].mean()
    by_type = per.groupby(markets.loc[per.index, "market_type"]).mean()
    assert by_type["open"] > by_type["semi_open"] > by_type["closed"]


def test_police_activity_follows_deployment_not_harm(city_sim: SimResult) -> None:
    pl = (
        city_sim.truth["places"]
        .groupby(["cell_x", "cell_y"])[["true_harm", "recorded_events", "activity"]]
        .sum()
    )
    rho_busy = pl["activity"].corr(pl["recorded_events"], method="spearman")
    rho_harm = pl["activity"].corr(pl["true_harm"], method="spearman")
    assert rho_busy > rho_harm


def test_truth_adds_up_to_the_published_data(small_sim: SimResult) -> None:
    t = small_sim.truth
    st = small_sim.street
    from harmscope.simulate import HARM_DAYS
    from harmscope.simulate.params import ACTIVITY_TYPES

    w = st["Crime type"].map(HARM_DAYS).where(~st["Crime type"].isin(list(ACTIVITY_TYPES)), 0.0)
    assert t["places"]["recorded_harm"].sum() == pytest.approx(w.sum(), rel=1e-6)
    for name in ("behaviour_month",):
        assert t[name]["true_harm"].sum() == pytest.approx(t["places"]["true_harm"].sum(), rel=1e-6)
    assert t["group_month"]["true_harm"].sum() == pytest.approx(
        t["market_month"]["true_harm"].sum(), rel=1e-6
    )
    assert t["places"]["true_harm"].sum() > t["places"]["recorded_harm"].sum()  # under-recording
    assert t["places"]["hidden_harm"].sum() > 0
    assert set(t["person_month"]["person_id"]) <= set(t["people"]["person_id"])
    assert set(t["market_month"]["market_id"]) == set(t["markets"]["market_id"])


def test_survey_and_intelligence_carry_signal(city_sim: SimResult) -> None:
    s = city_sim.survey
    pl = city_sim.truth["market_month"].merge(
        city_sim.truth["markets"][["market_id", "lsoa_code", "market_type"]], on="market_id"
    )
    open_lsoas = set(pl.loc[pl["market_type"] == "open", "lsoa_code"])
    near = s["lsoa_code"].isin(open_lsoas)
    assert s.loc[near, "drug_problem"].mean() > s.loc[~near, "drug_problem"].mean() + 0.2
    assert (s.loc[near, "harm_rank_1"] == "Drug dealing in public").mean() > (
        s.loc[~near, "harm_rank_1"] == "Drug dealing in public"
    ).mean()
    rep = city_sim.intel["reports"].merge(
        city_sim.truth["intel_reports"], on=["report_id", "subject_id", "behaviour"]
    )
    by_source = rep.groupby("source_evaluation")["is_true"].mean()
    # 3x5x2: source evaluation A reliable ... C not reliable; assessment 1 known ... 5 false.
    assert by_source["A"] > by_source["B"] > by_source["C"]
    by_grade = rep.groupby("intelligence_assessment")["is_true"].mean()
    assert by_grade["1"] > by_grade["3"] > by_grade["5"]


def test_many_operations_have_known_effects() -> None:
    """The evaluation module's use: many operations in one run, each with its true effect."""
    sim = Simulation(seed=21, months=24, size="small")
    rng = np.random.default_rng(0)
    markets = sim.city.markets["market_id"].tolist()
    tactics = ["crackdown", "arrests", "dmi", "treatment"]
    for i in range(40):
        sim.schedule(
            Operation(
                tactics[i % 4],
                (markets[rng.integers(len(markets))],),  # type: ignore[arg-type]
                start=int(rng.integers(0, 20)),
                duration=int(rng.integers(1, 5)),
            )
        )
    res = sim.run()
    eff = res.truth["operation_effects"]
    assert set(eff["operation_id"]) == {f"OP{i + 1:03d}" for i in range(40)}
    total = (
        eff[eff["zone"] == "target"]
        .groupby("operation_id")[["true_harm_with", "true_harm_without"]]
        .sum()
    )
    assert (total["true_harm_with"] != total["true_harm_without"]).mean() > 0.9
