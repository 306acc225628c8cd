"""Harm vs busyness scorecard: every number recomputed independently with pandas from the
police.uk files (Lincolnshire street + outcomes, City of London stop-and-search), and the
survey side from a simulated city."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.errors import InputError
from harmscope.evaluate.scorecard import scorecard
from harmscope.evaluate.survey import load_survey
from harmscope.harm import load_scheme
from harmscope.harm.attribution import DEFAULT_ATTRIBUTION_PATH
from harmscope.warehouse.ingest import ingest_paths

from .conftest import CITY, LINCS, LINCS_MONTHS

LSOAS = ["E01026143", "E01026038", "E01026112", "E01026118"]


def _read(family: str) -> pd.DataFrame:
    frames = [
        pd.read_csv(LINCS / family / f"{m}-lincolnshire-{family}.csv.gz", dtype=str)
        for m in LINCS_MONTHS
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def street() -> pd.DataFrame:
    raw = _read("street")
    has_id = raw["Crime ID"].notna()
    return pd.concat(
        [raw[has_id].drop_duplicates(["Month", "Crime ID"]), raw[~has_id]], ignore_index=True
    )


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    return _read("outcomes")


@pytest.fixture(scope="module")
def searches() -> pd.DataFrame:
    frames = [
        pd.read_csv(CITY / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv", dtype=str)
        for m in LINCS_MONTHS
    ]
    return pd.concat(frames, ignore_index=True)


def test_activity_side_matches_pandas(
    lincs_db: Path, street: pd.DataFrame, outcomes: pd.DataFrame, searches: pd.DataFrame
) -> None:
    card = scorecard(db=lincs_db)
    assert card.months == ("2019-01", "2019-03")
    assert card.value("drug_offences") == (street["Crime type"] == "Drugs").sum()
    assert card.value("weapons_offences") == (street["Crime type"] == "Possession of weapons").sum()
    assert card.value("searches") == len(searches)
    drug = searches[searches["Object of search"] == "Controlled drugs"]
    assert card.value("drug_searches") == len(drug)
    linked = drug["Outcome linked to object of search"].str.lower()
    known = linked.isin(["true", "false"])
    assert_allclose(
        card.value("drug_search_find_rate"), (linked[known] == "true").sum() / known.sum()
    )
    assert card.value("search_arrests") == (searches["Outcome"] == "Arrest").sum()

    assert card.value("outcomes") == len(outcomes)
    kind = outcomes["Outcome type"]
    charged = kind.isin(["Suspect charged", "Suspect charged as part of another case"]).sum()
    assert_allclose(card.value("charged_share"), charged / len(outcomes))
    sanction = kind.str.match(r"Offender (given|sent|fined|ordered|deprived)").sum()
    assert_allclose(card.value("sanction_share"), sanction / len(outcomes))
    drug_ids = set(street.loc[street["Crime type"] == "Drugs", "Crime ID"].dropna())
    drug_oc = outcomes[outcomes["Crime ID"].isin(drug_ids)]
    assert card.value("drug_outcomes") == len(drug_oc)
    assert_allclose(
        card.value("drug_charged_share"),
        drug_oc["Outcome type"]
        .isin(["Suspect charged", "Suspect charged as part of another case"])
        .mean(),
    )


def test_outcome_side_matches_pandas(
    lincs_db: Path, street: pd.DataFrame, searches: pd.DataFrame
) -> None:
    card = scorecard(db=lincs_db, months=("2019-02", "2019-03"), lsoas=LSOAS, harm="all")
    assert card.lsoas == tuple(LSOAS)
    sel = street[street["Month"].isin(["2019-02", "2019-03"]) & street["LSOA code"].isin(LSOAS)]
    cchi = load_scheme("cchi").to_frame().set_index("event_type")
    harm_kind = cchi[cchi["kind"] == "harm"]
    typed = sel[sel["Crime type"].isin(harm_kind.index)]
    expected = typed["Crime type"].map(harm_kind["weight"]).sum()
    assert expected > 0
    assert_allclose(card.value("harm_cchi"), expected)
    # The default is drug-attributed: each type's weight times its central drug share
    # (the attribution TOML read with tomllib).
    fractions = tomllib.loads(DEFAULT_ATTRIBUTION_PATH.read_text(encoding="utf-8"))["fractions"]
    share = {t: sum(f["central"] for f in src.values()) for t, src in fractions.items()}
    drug = (typed["Crime type"].map(harm_kind["weight"]) * typed["Crime type"].map(share)).sum()
    card_drug = scorecard(db=lincs_db, months=("2019-02", "2019-03"), lsoas=LSOAS)
    assert_allclose(card_drug.value("harm_cchi"), drug)
    assert card_drug.get("harm_cchi").label == "Harm (cchi, drug-attributed harm)"
    assert card_drug.to_dict()["harm_view"] == "drug"
    assert card.value("harm_count") == len(typed)
    # Drug offences in these LSOAs are activity: counted on the left, never in harm.
    assert card.value("drug_offences") == (sel["Crime type"] == "Drugs").sum()
    # Searches carry no LSOA in these files, so searches in an LSOA list are "no data", not 0.
    assert card.get("searches").value is None and "carry no LSOA" in card.get("searches").note
    assert card.get("searches_nothing_found_share").value is None

    whole = scorecard(db=lincs_db, schemes=("count",))
    nfa = (
        searches["Outcome"]
        .isin(["A no further action disposal", "Nothing found - no further action"])
        .sum()
    )
    assert whole.value("searches_nothing_found") == nfa
    assert_allclose(whole.value("searches_nothing_found_share"), nfa / len(searches))
    strip = (searches["Removal of more than just outer clothing"].str.lower() == "true").sum()
    assert whole.value("strip_searches") == strip
    assert whole.get("survey_responses").value is None
    payload = whole.to_dict()
    assert {r["key"] for r in payload["activity"]} >= {"drug_offences", "drug_search_find_rate"}
    assert {r["key"] for r in payload["outcome"]} >= {"harm_count", "searches_nothing_found"}


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harmscope.simulate import simulate

    return simulate(seed=4, months=4, size="small", start="2020-01").write(
        tmp_path_factory.mktemp("sim") / "out"
    )


def test_survey_loads_once_and_feeds_the_scorecard(sim_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    ingest_paths(sorted(sim_dir.glob("20*")), db=db)
    path = sim_dir / "survey" / "responses.csv"
    responses = pd.read_csv(path, dtype={"lsoa_code": str})
    assert load_survey(path, db=db) == len(responses)
    assert load_survey(path, db=db) == 0  # identical content adds nothing
    lsoas = sorted(responses["lsoa_code"].unique())[:5]
    card = scorecard(db=db, lsoas=lsoas, months=("2020-02", "2020-04"))
    sel = responses[
        responses["lsoa_code"].isin(lsoas)
        & responses["month"].isin(["2020-02", "2020-03", "2020-04"])
    ]
    assert len(sel) > 0
    assert card.value("survey_responses") == len(sel)
    conf = sel["confidence_in_police"].dropna()
    assert_allclose(card.value("confidence_in_police"), (conf >= 4).mean())
    prob = sel["drug_problem"].dropna()
    assert_allclose(card.value("drug_problem"), (prob >= 3).mean())
    safe = sel["feel_safe_after_dark"].dropna()
    assert_allclose(card.value("feel_safe"), (safe >= 3).mean())


def test_bad_survey_names_line_and_column(sim_dir: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(sim_dir / "survey" / "responses.csv", dtype=str)
    frame.loc[6, "confidence_in_police"] = "9"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    db = tmp_path / "w.duckdb"
    with pytest.raises(InputError) as err:
        load_survey(bad, db=db)
    col = list(frame.columns).index("confidence_in_police") + 1
    assert err.value.line == 8 and err.value.column == col
    assert "expected a code from 1 to 5" in str(err.value)
    frame.drop(columns=["drug_problem"]).to_csv(bad, index=False)
    with pytest.raises(InputError, match="missing column"):
        load_survey(bad, db=db)
