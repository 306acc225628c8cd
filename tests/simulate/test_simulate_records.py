"""Crime-person links and arrests: consistent with the police.uk files and the ground truth.

Every expectation is recomputed from the written files with pandas (street Crime IDs and
outcomes, ``truth/people.csv``, ``truth/person_month.csv``), not from the simulator's code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmscope.simulate import SimResult, Simulation

from .conftest import SEED, small_operations


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def files(small_dir: Path) -> dict[str, pd.DataFrame]:
    street = pd.concat([_csv(p) for p in sorted(small_dir.glob("20*/*-street.csv"))])
    return {
        "street": street,
        "crime_people": _csv(small_dir / "records/crime_people.csv"),
        "arrests": _csv(small_dir / "records/arrests.csv"),
        "nominals": _csv(small_dir / "intel/nominals.csv"),
        "people": _csv(small_dir / "truth/people.csv"),
        "person_month": _csv(small_dir / "truth/person_month.csv"),
    }


def test_crime_links_name_real_crimes_and_nominals(files: dict[str, pd.DataFrame]) -> None:
    cp, street = files["crime_people"], files["street"]
    assert len(cp) > 50
    assert set(cp["role"]) == {"suspect", "offender", "victim"}
    crimes = street[street["Crime ID"] != ""].set_index("Crime ID")
    assert cp["crime_id"].isin(crimes.index).all()
    joined = cp.join(crimes[["Month", "Crime type", "Last outcome category"]], on="crime_id")
    assert (joined["month"] == joined["Month"]).all()
    assert (joined["Crime type"] != "Anti-social behaviour").all()
    # Everyone linked is on the nominal index, and the nominal index is people of the truth
    # (the city's drug-market people, and the public the records name).
    assert cp["nominal_id"].isin(files["nominals"]["nominal_id"]).all()
    assert files["nominals"]["nominal_id"].isin(files["people"]["person_id"]).all()
    assert not cp.duplicated(["crime_id", "nominal_id", "role"]).any()


def test_roles_follow_the_crimes_outcome(files: dict[str, pd.DataFrame]) -> None:
    street = files["street"].set_index("Crime ID")
    cp = files["crime_people"]
    people = cp[cp["role"] != "victim"]
    outcome = street.loc[people["crime_id"], "Last outcome category"].to_numpy()
    names_offender = pd.Series(outcome).str.startswith("Offender") | pd.Series(outcome).isin(
        ["Local resolution", "Suspect charged as part of another case"]
    )
    assert ((people["role"] == "offender").to_numpy() == names_offender.to_numpy()).all()
    assert "Investigation complete; no suspect identified" not in set(outcome)
    # A crime has one offender or suspect (the one person who committed it).
    assert not people.duplicated("crime_id").any()


def test_linked_crimes_are_the_persons_recorded_events(files: dict[str, pd.DataFrame]) -> None:
    # Per person and month, the crimes they are linked to as suspect or offender are among
    # the recorded events the ground truth gives them.
    # The public's links are the crimes no city person committed.
    cp = files["crime_people"]
    kind = files["people"].set_index("person_id")["kind"]
    off = cp[cp["role"] != "victim"]
    city = off[(kind.loc[off["nominal_id"]] != "public").to_numpy()]
    done = city.groupby(["month", "nominal_id"]).size()
    pm = files["person_month"].set_index(["month", "person_id"])["recorded_events"].astype(int)
    have = pm.reindex(done.index).fillna(0)
    assert (done <= have).all()
    assert done.sum() > 0
    public = off[(kind.loc[off["nominal_id"]] == "public").to_numpy()]
    assert len(public) > len(city)  # most recorded crime is not the drug market's
    assert not set(public["crime_id"]) & set(city["crime_id"])


def test_victims_are_market_people_not_their_offender(files: dict[str, pd.DataFrame]) -> None:
    # Victims from the city's people are market users and sellers, of market violence and
    # robbery; the public are victims of person crimes only (not shoplifting, public order,
    # drugs, weapons or other crime); a crime has at most one victim, never its offender.
    cp = files["crime_people"]
    victims = cp[cp["role"] == "victim"]
    people = files["people"].set_index("person_id")
    public = (people.loc[victims["nominal_id"], "kind"] == "public").to_numpy()
    assert public.any() and (~public).any()
    street = files["street"].set_index("Crime ID")
    market_v = victims[~public]
    assert set(street.loc[market_v["crime_id"], "Crime type"]) <= {
        "Violence and sexual offences",
        "Robbery",
    }
    assert (people.loc[market_v["nominal_id"], "market_id"] != "").all()
    assert set(street.loc[victims[public]["crime_id"], "Crime type"]) <= {
        "Violence and sexual offences",
        "Robbery",
        "Theft from the person",
        "Burglary",
        "Criminal damage and arson",
        "Vehicle crime",
        "Bicycle theft",
        "Other theft",
    }
    assert not victims.duplicated("crime_id").any()
    both = victims.merge(cp[cp["role"] != "victim"], on="crime_id", suffixes=("", "_off"))
    assert (both["nominal_id"] != both["nominal_id_off"]).all()
    # The truth says who each public nominal is: offender, victim or both, as linked.
    pub = people[people["kind"] == "public"]
    linked = cp.assign(v=cp["role"] == "victim").groupby("nominal_id")["v"].agg(["any", "all"])
    want = linked.loc[pub.index].apply(
        lambda r: "victim" if r["all"] else ("offender and victim" if r["any"] else "offender"),
        axis=1,
    )
    assert (pub["role"] == want).all()


def test_seller_arrests_are_the_custody_spells_of_the_truth(
    files: dict[str, pd.DataFrame],
) -> None:
    pm = files["person_month"]
    sellers = set(files["people"].loc[files["people"]["kind"] == "seller", "person_id"])
    pm = pm[pm["person_id"].isin(sellers)].sort_values(["person_id", "month"])
    held = pm["status"] == "in custody"
    prev = held.groupby(pm["person_id"]).shift(fill_value=False)
    starts = pm[held & ~prev]
    want = set(zip(starts["person_id"], starts["month"], strict=True))
    ar = files["arrests"]
    remand = ar[ar["custody_outcome"] == "remanded in custody"]
    assert set(zip(remand["nominal_id"], remand["month"], strict=True)) == want
    assert len(want) > 0
    assert (remand["offence"] == "Drugs").all() and (remand["crime_id"] == "").all()
    # custody_until: the first later month not in custody (blank if held to the end).
    status = pm.set_index(["person_id", "month"])["status"]
    for row in remand.itertuples():
        later = status.loc[row.nominal_id]
        later = later[later.index > row.month]
        free = later[later != "in custody"]
        assert row.custody_until == (free.index[0] if len(free) else "")


def test_crime_arrests_match_their_crime(files: dict[str, pd.DataFrame]) -> None:
    ar = files["arrests"]
    crime = ar[ar["crime_id"] != ""]
    assert len(crime) > 0
    links = files["crime_people"]
    pairs = set(zip(links["crime_id"], links["nominal_id"], strict=True))
    assert all(p in pairs for p in zip(crime["crime_id"], crime["nominal_id"], strict=True))
    street = files["street"].set_index("Crime ID")
    assert (street.loc[crime["crime_id"], "Crime type"].to_numpy() == crime["offence"]).all()
    assert (street.loc[crime["crime_id"], "LSOA code"].to_numpy() == crime["lsoa_code"]).all()
    assert (street.loc[crime["crime_id"], "Month"].to_numpy() == crime["month"]).all()
    assert ar["nominal_id"].isin(files["nominals"]["nominal_id"]).all()
    assert (
        ar["arrest_id"].is_unique
        and (ar["month"].to_numpy()[:-1] <= ar["month"].to_numpy()[1:]).all()
    )


def test_links_are_graded_3x5x2_with_kinds(small_dir: Path) -> None:
    links = _csv(small_dir / "intel/links.csv")
    assert set(links["source_evaluation"]) <= set("ABC")
    assert set(links["intelligence_assessment"]) <= set("12345")
    groups = set(_csv(small_dir / "intel/groups.csv")["group_id"])
    for end in ("source", "target"):
        is_group = links[f"{end}_id"].isin(groups)
        assert ((links[f"{end}_kind"] == "group") == is_group).all()


def test_records_do_not_change_the_policeuk_tables(small_sim: SimResult) -> None:
    # The records draw from their own streams: deriving them first changes no police.uk row.
    sim = Simulation(seed=SEED, months=18, size="small")
    for op in small_operations(sim):
        sim.schedule(op)
    res = sim.run()
    first = res.records
    pd.testing.assert_frame_equal(res.street, small_sim.street)
    pd.testing.assert_frame_equal(res.outcomes, small_sim.outcomes)
    pd.testing.assert_frame_equal(res.stop_search, small_sim.stop_search)
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, small_sim.records[name])
