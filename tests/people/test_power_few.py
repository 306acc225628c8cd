"""Power few (issue 12, item 2): shares of harm held by the most harmful offenders and
victims, and the turnover of each year's highest-harm list.

Data: a SYNTHETIC simulated city (no real force records are public), written to disk,
ingested and loaded as a force would (``ingest``, ``load-records``); the expected figures
are recomputed here from the written CSVs with plain pandas: the street files give each
Crime ID its type, the ``cchi`` scheme (and, for the drug view, the attribution file's
central drug fractions) its harm, and the raw links are pseudonymised with ``hmac`` as the
loader does.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from harmscope.harm.attribution import default_attribution
from harmscope.harm.schemes import load_scheme
from harmscope.people.power_few import (
    holding_share,
    nominal_harm,
    power_few,
    top_shares,
    turnover,
)
from harmscope.simulate import simulate
from harmscope.sources.records.pseudonym import KEY_ENV
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.personal import AuditError
from harmscope.warehouse.records import load_records

KEY = "a test key for the power few, long enough"


def _hm(raw: str) -> str:
    return "P" + hmac.new(KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(simulated folder, warehouse with its street crimes and force records)."""
    base = tmp_path_factory.mktemp("pf")
    sim = simulate(seed=4, months=30, size="small").write(base / "c")
    db = base / "w.duckdb"
    ingest_paths(sorted(sim.glob("20*")), db=db)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([sim / "intel", sim / "records"], db=db, user="u", reason="load")
    return sim, db


def _expected(sim: Path, role: str, harm: str) -> pd.DataFrame:
    """Per pseudonymised person and year: their equal share of their crimes' harm."""
    street = pd.concat(
        pd.read_csv(f, dtype=str, keep_default_na=False)
        for f in sorted(sim.glob("20*/*street.csv"))
    )
    scheme = load_scheme("cchi").to_frame()
    w = dict(zip(scheme["event_type"], scheme["weight"].astype(float), strict=True))
    if harm == "drug":
        att = default_attribution()
        w = {t: v * att.types[t].drug[1] for t, v in w.items() if t in att.types}
    harm_types = set(scheme.loc[scheme["kind"] == "harm", "event_type"])
    street = street[street["Crime ID"] != ""]
    value = street["Crime type"].map(lambda t: w.get(t, 0.0) if t in harm_types else 0.0)
    crime_harm = dict(zip(street["Crime ID"], value, strict=True))
    links = pd.read_csv(sim / "records" / "crime_people.csv", dtype=str)
    links = links[links["role"] == role]
    n = links.groupby("crime_id")["nominal_id"].transform("size")
    links = links.assign(
        harm=links["crime_id"].map(crime_harm) / n,
        year=links["month"].str[:4].astype(int),
        nominal_id=links["nominal_id"].map(_hm),
    )
    return links.groupby(["nominal_id", "year"], as_index=False)["harm"].sum()


@pytest.mark.parametrize(
    ("role", "harm"), [("offender", "all"), ("victim", "all"), ("offender", "drug")]
)
def test_shares_match_an_independent_computation(
    city: tuple[Path, Path], role: str, harm: str
) -> None:
    sim, db = city
    want = _expected(sim, role, harm)
    person = want.groupby("nominal_id")["harm"].sum().sort_values(ascending=False).to_numpy()
    got = power_few(db, user="analyst", reason="test", role=role, harm=harm)
    assert got.people == len(person) and got.unmatched == 0
    assert got.total_harm == pytest.approx(person.sum())
    for share in (0.01, 0.05, 0.1):
        k = math.ceil(share * len(person))
        assert got.top[share] == pytest.approx(person[:k].sum() / person.sum()), share
    for target in (0.8, 0.85):
        k = int(np.argmax(np.cumsum(person) >= target * person.sum() * (1 - 1e-12))) + 1
        assert got.holding[target] == pytest.approx(k / len(person)), target
    # Each year's list: the fewest people (most harmful first, ties by id) holding 80 %.
    lists: dict[int, set[str]] = {}
    for year, grp in want.groupby("year"):
        g = grp[grp["harm"] > 0].sort_values(["harm", "nominal_id"], ascending=[False, True])
        k = int(np.argmax(np.cumsum(g["harm"].to_numpy()) >= 0.8 * g["harm"].sum())) + 1
        lists[int(year)] = set(g["nominal_id"].head(k))
    years = sorted(lists)
    assert got.years["year"].tolist() == years
    for i, year in enumerate(years[1:], 1):
        earlier = set().union(*(lists[y] for y in years[:i]))
        row = got.years.set_index("year").loc[year]
        assert row["list_size"] == len(lists[year])
        assert row["new_vs_earlier"] == pytest.approx(len(lists[year] - earlier) / len(lists[year]))
        prev = lists[years[i - 1]]
        assert row["new_vs_previous"] == pytest.approx(len(lists[year] - prev) / len(lists[year]))


def test_every_read_is_audited_and_no_id_leaves(city: tuple[Path, Path], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(city[1].read_bytes())
    with pytest.raises(AuditError, match="a reason missing"):
        power_few(db, user="refused", reason=" ")
    got = power_few(db, user="analyst9", reason="power few review", role="victim")
    with duckdb.connect(str(db), read_only=True) as con:
        log = con.execute("SELECT user_name, reason, target, detail FROM audit_log").df()
    last = log.iloc[-1]
    assert (last["user_name"], last["reason"], last["target"]) == (
        "analyst9",
        "power few review",
        "records_crime_people",
    )
    assert '"role": ["victim"]' in last["detail"]
    assert "refused" not in set(log["user_name"])  # the refused read logged nothing
    # Only shares leave: neither a raw id nor a pseudonym is in any output.
    text = str(got.to_dict()) + got.to_frame().to_csv()
    raw = pd.read_csv(city[0] / "records" / "crime_people.csv", dtype=str)["nominal_id"]
    assert not any(r in text or _hm(r) in text for r in raw.unique())


def test_a_fixed_list_size_and_its_bounds(city: tuple[Path, Path]) -> None:
    got = power_few(city[1], user="a", reason="b", role="offender", harm="all", top_list_size=5)
    assert (got.years["list_size"] <= 5).all() and got.years["list_size"].max() == 5
    with pytest.raises(ValueError, match="--top-list-size"):
        power_few(city[1], user="a", reason="b", top_list_size=0)
    with pytest.raises(ValueError, match="--role 'suspect'"):
        power_few(city[1], user="a", reason="b", role="suspect")


def test_the_measures_on_a_worked_example() -> None:
    # Two crimes of 100 days shared by A and B, one of 10 days by C; D only in an
    # activity crime (0); E linked to a crime the warehouse does not hold.
    links = pd.DataFrame(
        {
            "crime_id": ["c1", "c1", "c2", "c3", "c4", "c5"],
            "nominal_id": ["A", "B", "C", "D", "E", "A"],
            "role": ["offender"] * 5 + ["victim"],
            "month": ["2020-01", "2020-01", "2021-03", "2021-04", "2021-05", "2020-02"],
        }
    )
    crimes = pd.DataFrame({"crime_id": ["c1", "c2", "c3", "c5"], "harm": [100.0, 10.0, 0.0, 7.0]})
    per_year, unmatched = nominal_harm(links, crimes, "offender")
    assert unmatched == 1
    assert per_year.set_index(["nominal_id", "year"])["harm"].to_dict() == {
        ("A", 2020): 50.0,
        ("B", 2020): 50.0,
        ("C", 2021): 10.0,
        ("D", 2021): 0.0,
        ("E", 2021): 0.0,
    }
    person = per_year.groupby("nominal_id")["harm"].sum()
    assert top_shares(person, (0.2, 0.4)) == {0.2: 50 / 110, 0.4: 100 / 110}
    assert holding_share(person, 0.8) == 2 / 5  # A and B hold 100 of 110
    assert holding_share(person, 0.95) == 3 / 5
    years = turnover(per_year).set_index("year")
    assert years.loc[2020, "list_size"] == 2  # A and B: 80 % needs both (ties by id)
    assert years.loc[2021, "list_size"] == 1 and years.loc[2021, "new_vs_earlier"] == 1.0
    assert math.isnan(years.loc[2020, "new_vs_earlier"])
