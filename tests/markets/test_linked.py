"""A market's linked harm recomputed by hand: its sellers' and its buyers' crimes, each once.

Data: a real police.uk street file (City of London, 2019-10, under ``../shared/data``)
ingested as it is, and force records written here that tie invented nominals to some of its
real Crime IDs. Market M1 has sellers S1 and S2; market M2 has seller S3. Intelligence links
make B1 a buyer of M1 (``buys_from`` S1, graded 2), B2 a buyer of M2 only on a grade-4
("not known") link, which must not count, and S3 a buyer from S2 (so S3's crimes count for
M1 too). Expected figures come from the scheme file's weights and the records, in plain
Python.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.harm.schemes import load_scheme
from harmscope.markets import markets
from harmscope.markets.linked import PEOPLE_COLUMNS, linked_crimes, linked_harm
from harmscope.priorities.board import priority_board
from harmscope.priorities.markets import ranked_markets
from harmscope.sources.records.pseudonym import KEY_ENV
from harmscope.warehouse.handle import Warehouse
from harmscope.warehouse.ingest import ingest_paths
from harmscope.warehouse.records import load_records

KEY = "markets linked-harm tests key, long enough"
STREET = (
    Path(__file__).resolve().parents[3]
    / "shared/data/policeuk-city-of-london-2018-12_2021-11/street/2019-10-city-of-london-street.csv"
)
USER, REASON = "A. Analyst", "test of the markets lens"
TYPES = ("Robbery", "Burglary", "Violence and sexual offences", "Shoplifting", "Other theft")


def _crimes() -> dict[str, list[str]]:
    """Two uniquely-identified crimes of each of :data:`TYPES` from the real file."""
    d = pd.read_csv(STREET)
    d = d[d["Crime ID"].notna() & ~d["Crime ID"].duplicated(keep=False)]
    return {t: d.loc[d["Crime type"] == t, "Crime ID"].iloc[:2].tolist() for t in TYPES}


def _write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    pd.DataFrame(rows).to_csv(folder / name, index=False)


def _link(crime: str, who: str, role: str) -> dict[str, object]:
    return {"crime_id": crime, "nominal_id": who, "role": role, "month": "2019-10"}


def _buys(buyer: str, seller: str, grade: str) -> dict[str, object]:
    return {
        "source_id": buyer,
        "source_kind": "nominal",
        "target_id": seller,
        "target_kind": "nominal",
        "link_type": "buys_from",
        "first_recorded": "2019-09",
        "source_evaluation": "B",
        "intelligence_assessment": grade,
        "handling_code": "P",
    }


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    if not STREET.exists():
        pytest.skip(f"shared data missing: {STREET}")
    base = tmp_path_factory.mktemp("linked")
    db = base / "w.duckdb"
    ingest_paths([STREET], db=db)
    c = _crimes()
    rob, burg, viol, shop, theft = (c[t] for t in TYPES)
    rec = base / "records"
    rec.mkdir()
    nominal = {"recorded_role": "street dealer", "group_id": ""}
    _write(
        rec,
        "nominals.csv",
        [
            {"nominal_id": "S1", **nominal, "market_id": "M1"},
            {"nominal_id": "S2", **nominal, "market_id": "M1"},
            {"nominal_id": "S3", **nominal, "market_id": "M2"},
            {"nominal_id": "B1", "recorded_role": "user", "group_id": "", "market_id": ""},
            {"nominal_id": "B2", "recorded_role": "user", "group_id": "", "market_id": ""},
            {"nominal_id": "V1", "recorded_role": "", "group_id": "", "market_id": ""},
        ],
    )
    _write(
        rec,
        "crime_people.csv",
        [
            _link(viol[0], "S1", "offender"),
            _link(viol[0], "S2", "suspect"),  # two sellers of M1: still one crime for M1
            _link(rob[0], "S2", "suspect"),
            _link(rob[0], "V1", "victim"),
            _link(viol[1], "S1", "victim"),  # a seller as victim: not the market's crime
            _link(burg[0], "B1", "offender"),  # M1's buyer
            _link(shop[0], "B1", "suspect"),
            _link(theft[0], "B1", "suspect"),
            _link(theft[0], "S1", "suspect"),  # seller and buyer of M1: counted once
            _link(burg[1], "B2", "offender"),  # B2's only link is graded 4: no market
            _link(rob[1], "S3", "offender"),  # M2's seller, and a buyer from S2 (M1)
            _link(shop[1], "S3", "suspect"),
        ],
    )
    _write(
        rec,
        "links.csv",
        [_buys("B1", "S1", "2"), _buys("B2", "S3", "4"), _buys("S3", "S2", "1")],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([rec], db=db, user=USER, reason=REASON)
    return db, c


def _expected(c: dict[str, list[str]], scheme: str) -> dict[str, float]:
    w = {x.event_type: (x.weight if x.kind == "harm" else 0.0) for x in load_scheme(scheme).weights}
    m1 = (
        w["Violence and sexual offences"]  # S1 and S2, once
        + w["Robbery"]  # S2
        + w["Burglary"]  # B1
        + w["Shoplifting"]  # B1
        + w["Other theft"]  # B1 and S1, once
        + w["Robbery"]  # S3 buys from S2
        + w["Shoplifting"]  # S3
    )
    m2 = w["Robbery"] + w["Shoplifting"]  # S3 only: B2's grade-4 link does not count
    return {"M1": m1, "M2": m2}


def test_linked_crimes_name_sellers_and_graded_buyers(
    city: tuple[Path, dict[str, list[str]]],
) -> None:
    db, c = city
    pairs = linked_crimes(db, user=USER, reason=REASON)
    assert pairs is not None
    assert tuple(pairs.columns) == PEOPLE_COLUMNS
    assert not pairs.duplicated(["crime_id", "market_id"]).any()
    got = {(r.crime_id, r.market_id): r.via for r in pairs.itertuples()}
    rob, burg, viol, shop, theft = (c[t] for t in TYPES)
    assert got == {
        (viol[0], "M1"): "seller",
        (rob[0], "M1"): "seller",
        (burg[0], "M1"): "buyer",
        (shop[0], "M1"): "buyer",
        (theft[0], "M1"): "seller",  # a seller's link names it before a buyer's
        (rob[1], "M1"): "buyer",
        (shop[1], "M1"): "buyer",
        (rob[1], "M2"): "seller",
        (shop[1], "M2"): "seller",
    }


@pytest.mark.parametrize("scheme", ["cchi", "count"])
def test_linked_harm_by_hand(city: tuple[Path, dict[str, list[str]]], scheme: str) -> None:
    db, c = city
    pairs = linked_crimes(db, user=USER, reason=REASON)
    assert pairs is not None
    with Warehouse.of(db) as wh:
        got = linked_harm(wh.events(), pairs, scheme=scheme)
    want = _expected(c, scheme)
    assert sorted(got.index) == sorted(want)
    for market, value in want.items():
        assert_allclose(got[market], value)
    if scheme == "count":  # the counting baseline: M1's seven crimes, M2's two
        assert want == {"M1": 7.0, "M2": 2.0}


def test_no_intelligence_links_means_sellers_only(
    city: tuple[Path, dict[str, list[str]]],
) -> None:
    db, _ = city
    pairs = linked_crimes(db, user=USER, reason=REASON)
    assert pairs is not None
    sellers = pairs[pairs["via"] == "seller"]
    with Warehouse.of(db) as wh:
        got = linked_harm(wh.events(), sellers, scheme="cchi")
    w = {x.event_type: x.weight for x in load_scheme("cchi").weights}
    m1 = w["Violence and sexual offences"] + w["Robbery"] + w["Other theft"]
    assert_allclose(got["M1"], m1)


def test_market_score_is_its_linked_harm(city: tuple[Path, dict[str, list[str]]]) -> None:
    """Through ``markets()``: a known market's score is the linked harm of its force id."""
    db, c = city
    with Warehouse.of(db) as wh:
        ev = wh.events().to_pandas()
    # M1 sits on the cell of its first violence crime (a real located record)
    row = ev[ev["crime_id"] == c["Violence and sexual offences"][0]].iloc[0]
    rec = db.parent / "known"
    rec.mkdir(exist_ok=True)
    _write(
        rec,
        "markets.csv",
        [{"market_id": "M1", "cell_x": int(row["x"]), "cell_y": int(row["y"])}],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(KEY_ENV, KEY)
        load_records([rec], db=db, user=USER, reason=REASON)
    found = markets(db, harm="all", user=USER, reason=REASON)
    m1 = [m for m in found if "M1" in m.force_ids]
    assert len(m1) == 1
    assert_allclose(m1[0].linked_harm, _expected(c, "cchi")["M1"])
    assert m1[0].score == m1[0].linked_harm
    # a market no force id names has no linked crime: it scores 0 beside M1
    assert all(m.score == 0.0 for m in found if not m.force_ids)
    # the lens ranks M1 first and says why in its first reason
    ranked = ranked_markets(found)
    assert ranked["unit_id"].iloc[0] == m1[0].id
    want = f"{_expected(c, 'cchi')['M1']:,.0f}"
    assert ranked["reasons"].iloc[0][0] == (
        f"linked harm: {want} days of the crimes force records link to its sellers and buyers"
    )
    # the board's markets lens is this ranking: read with a user and a reason, it weighs the
    # linked harm (H = 5 for the top market), keeps the area's harm beside it, and names
    # what found the market first in its evidence
    board = priority_board(db, "markets", harm="all", user=USER, reason=REASON)
    assert board.sort_values("lens_rank")["unit_id"].tolist() == ranked["unit_id"].tolist()
    top = board.set_index("unit_id").loc[m1[0].id]
    assert top["harm"] == pytest.approx(m1[0].linked_harm)
    assert top["area_harm"] == pytest.approx(m1[0].harm)
    assert top["harm_factor"] == pytest.approx(5.0)
    # its range is Poisson in the number of linked crimes, each counted once
    n = m1[0].linked_crimes
    assert (
        top["harm_events"]
        == n
        == len(
            linked_crimes(db, user=USER, reason=REASON)
            .query("market_id == 'M1'")["crime_id"]
            .unique()
        )
    )
    assert top["score_high"] == pytest.approx(top["score"] * (1 + 1.96 / n**0.5))
    assert top["score_low"] == pytest.approx(top["score"] * max(0.0, 1 - 1.96 / n**0.5))
    assert top["evidence"][: len(m1[0].evidence)] == list(m1[0].evidence)
    assert any("market list" in e for e in top["evidence"])
    # without them the same lens runs on police.uk alone: harm is the area's
    plain = priority_board(db, "markets", harm="all").set_index("unit_id")
    assert plain.loc[m1[0].id, "harm"] == pytest.approx(m1[0].harm)
