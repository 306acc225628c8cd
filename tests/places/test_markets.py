"""Candidate drug markets: planted markets with known answers, real City of London data, curation."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from harmscope.markets import (
    Decision,
    Market,
    MarketDecisionError,
    candidate_id,
    decide,
    find_market,
    load_decisions,
    markets,
    markets_frame,
)
from harmscope.markets.cells import buffer_cells
from harmscope.places.gi_star import gi_star_test
from harmscope.warehouse import connect
from harmscope.warehouse.ingest import ingest_paths

sys.path.insert(0, str(Path(__file__).parent))
from markets_testdata import (
    DAYS,
    INTEL,
    MARKET_A,
    MARKET_B,
    SIZE,
    UNFOUND,
    X0,
    Y0,
    corner,
    intel_reports,
    planted_events,
    write_warehouse,
)

DRUG_OFFENCE = 1.0  # activity is counted, one per event, never weighed in days


def cells_of(block: list[tuple[int, int]]) -> set[tuple[float, float]]:
    return {corner(i, j) for i, j in block}


def ring(block: list[tuple[int, int]]) -> set[tuple[float, float]]:
    """The block plus its eight-neighbour ring (the 250 m buffer at 250 m cells)."""
    return {corner(i + di, j + dj) for i, j in block for di in (-1, 0, 1) for dj in (-1, 0, 1)}


@pytest.fixture()
def planted(tmp_path: Path) -> Path:
    return write_warehouse(tmp_path / "planted.duckdb", planted_events())


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """The planted events with their cell and cchi harm / market activity, by plain pandas."""
    ev = planted_events()
    ev["cell"] = list(
        zip(np.floor(ev["x"] / SIZE) * SIZE, np.floor(ev["y"] / SIZE) * SIZE, strict=True)
    )
    street = ev["source"] == "street"
    ev["harm"] = np.where(street, ev["event_type"].map(DAYS).fillna(0.0), 0.0)
    ev.loc[street & (ev["event_type"] == "Drugs"), "harm"] = 0.0  # activity, not harm
    drug_search = (ev["source"] == "stop_search") & (ev["object_of_search"] == "Controlled drugs")
    ev["market"] = np.where(street & (ev["event_type"] == "Drugs"), DRUG_OFFENCE, 0.0)
    ev["market"] += np.where(drug_search & (ev["outcome_linked"] == True), 1.0, 0.0)  # noqa: E712
    return ev


# --------------------------------------------------------------------------- planted data


def test_planted_markets_found_with_exact_footprints(planted: Path, frame: pd.DataFrame) -> None:
    found = markets(planted, harm="all")
    assert [set(m.cells) for m in found] == [cells_of(MARKET_A), cells_of(MARKET_B)]
    # ids name the place: the footprint cell with most market activity (ties: south-west first)
    per_cell = frame.groupby("cell")["market"].sum()
    for m, block in zip(found, (MARKET_A, MARKET_B), strict=True):
        act = per_cell.reindex(sorted(cells_of(block), key=lambda c: (c[1], c[0])))
        top = act[act == act.max()].index.tolist()
        assert m.id in {f"mkt-{x:.0f}-{y:.0f}" for x, y in top}
        assert m.id != candidate_id(sorted(cells_of(block)), SIZE)
    # ids are stable across runs
    assert [m.id for m in markets(planted, harm="all")] == [m.id for m in found]
    assert all(m.status == "candidate" and m.name is None for m in found)


def test_harm_activity_ratio_and_matrix_match_pandas(planted: Path, frame: pd.DataFrame) -> None:
    a, b = markets(planted, harm="all")
    for market, block in ((a, MARKET_A), (b, MARKET_B)):
        area = ring(block)
        assert set(market.area_cells) == area
        inside = frame[frame["cell"].isin(area)]
        assert market.harm == pytest.approx(inside["harm"].sum(), rel=1e-12)
        assert market.activity == pytest.approx(inside["market"].sum(), rel=1e-12)
        foot = frame[frame["cell"].isin(cells_of(block))]
        assert market.footprint_activity == pytest.approx(foot["market"].sum(), rel=1e-12)
        assert market.activity_harm_ratio == pytest.approx(market.activity / market.harm)
        assert market.matrix.total == pytest.approx(market.harm)
        assert sum(c["value"] for c in market.matrix.cells) == pytest.approx(market.harm)
        cx, cy = np.mean([c for c in cells_of(block)], axis=0) + SIZE / 2
        assert (market.centroid_x, market.centroid_y) == pytest.approx((cx, cy))
    # A: 16 cells x 6 months x 3 days background + 21 violence events; activity 8 drugs and
    # 4 finds per cell-month (unfound searches count 0).
    assert a.harm == pytest.approx(16 * 6 * 3 + 21 * 230.89)
    assert a.activity == pytest.approx(4 * 6 * (8 * DRUG_OFFENCE + 4))
    assert a.top_types[0]["event_type"] == "Violence and sexual offences"
    assert a.top_types[0]["share"] == pytest.approx(21 * 230.89 / a.harm)
    assert b.top_types[0]["event_type"] == "Robbery"
    # searches (found or not) are control activity in the matrix, never harm
    assert a.matrix.activity == pytest.approx(4 * 6 * 8 * DRUG_OFFENCE + 4 * 6 * 8 * 1.0)


def test_monthly_series_and_trend(planted: Path, frame: pd.DataFrame) -> None:
    a, b = markets(planted, harm="all")
    assert a.months == ("2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06")
    inside = frame[frame["cell"].isin(ring(MARKET_A))]
    by_month = inside.groupby("month")["harm"].sum().to_numpy()
    assert np.allclose(a.monthly_harm, by_month)
    assert a.trend["direction"] == "increasing" and a.trend["s"] == 15  # strictly rising
    assert b.trend["direction"] == "no_trend" and b.trend["s"] == 0  # flat


def test_months_and_buffer_options(planted: Path, frame: pd.DataFrame) -> None:
    a = markets(planted, harm="all", months=("2020-05", "2020-06"))[0]
    assert a.months == ("2020-05", "2020-06")
    sub = frame[
        frame["cell"].isin(ring(MARKET_A)) & (frame["month"] >= pd.Timestamp("2020-05-01").date())
    ]
    assert a.harm == pytest.approx(sub["harm"].sum())
    tight = markets(planted, harm="all", buffer=0)[0]
    assert set(tight.area_cells) == set(tight.cells) == cells_of(MARKET_A)
    assert tight.harm == pytest.approx(frame[frame["cell"].isin(cells_of(MARKET_A))]["harm"].sum())


def test_unfound_searches_and_intelligence(planted: Path) -> None:
    assert cells_of(UNFOUND) not in [set(m.cells) for m in markets(planted, harm="all")]
    every_search = markets(planted, harm="all", unfound_search_weight=1.0)
    assert cells_of(UNFOUND) in [set(m.cells) for m in every_search]
    with_intel = markets(planted, harm="all", intelligence=intel_reports())
    intel_market = next(m for m in with_intel if set(m.cells) == cells_of(INTEL))
    assert intel_market.activity == pytest.approx(len(intel_reports()))
    with pytest.raises(ValueError, match="unfound_search_weight"):
        markets(planted, harm="all", unfound_search_weight=2.0)
    with pytest.raises(ValueError, match="intelligence needs columns"):
        markets(planted, harm="all", intelligence=pd.DataFrame({"month": ["2020-01"]}))


def test_no_market_activity_is_an_error(tmp_path: Path) -> None:
    ev = planted_events()
    ev = ev[(ev["event_type"] != "Drugs") & (ev["source"] == "street")]
    db = write_warehouse(tmp_path / "quiet.duckdb", ev)
    with pytest.raises(Exception, match="no drug market activity"):
        markets(db, harm="all")


def test_buffer_definition() -> None:
    one = ((500.0, 500.0),)
    assert len(buffer_cells(one, 250, 0)) == 1
    assert len(buffer_cells(one, 250, 250)) == 9  # ring of eight: they touch the cell
    assert len(buffer_cells(one, 250, 260)) == 21  # 5 x 5 minus the corners (353 m away)
    assert len(buffer_cells(one, 250, 500)) == 25
    with pytest.raises(ValueError, match="buffer"):
        buffer_cells(one, 250, -1)


# --------------------------------------------------------------------------- curation


def test_curation_round_trip(planted: Path, frame: pd.DataFrame) -> None:
    a, b = markets(planted, harm="all")
    when = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    recorded = decide(
        planted,
        a,
        confirm=True,
        rename="Station Road",
        characteristics={
            "market_type": "open",
            "mode": "Street",
            "juveniles_seen": "yes",
            "notes": "dealing from the bus shelter",
        },
        by="analyst1",
        at=when,
    )
    assert [d.action for d in recorded] == ["confirm", "rename", "set", "set", "set", "set"]
    log = load_decisions(planted)
    assert [(d.decision_id, d.decided_by, d.decided_at) for d in log] == [
        (i, "analyst1", when) for i in range(1, 7)
    ]
    named = markets(planted, harm="all")[0]
    assert (named.id, named.name, named.status) == (a.id, "Station Road", "confirmed")
    assert named.characteristics["mode"] == {
        "value": "street",
        "by": "analyst1",
        "at": when.isoformat(),
    }
    assert named.characteristics["juveniles_seen"]["value"] is True
    assert find_market(markets(planted, harm="all"), "station road").id == a.id

    decide(planted, b, reject=True, by="analyst2")
    assert [m.id for m in markets(planted, harm="all")] == [a.id]
    everything = markets(planted, harm="all", include_rejected=True)
    assert {m.id: m.status for m in everything} == {a.id: "confirmed", b.id: "rejected"}
    decide(planted, find_market(everything, b.id), confirm=True, by="analyst2")
    assert {m.id: m.status for m in markets(planted, harm="all")} == {
        a.id: "confirmed",
        b.id: "confirmed",
    }


def test_merge_shows_one_market_with_harm_recomputed(planted: Path, frame: pd.DataFrame) -> None:
    a, b = markets(planted, harm="all")
    decide(planted, b, characteristics={"firearms": "yes", "mode": "premises"}, by="x")
    decide(planted, a, merge=[b], characteristics={"mode": "street"}, by="x")
    (merged,) = markets(planted, harm="all")
    assert merged.id == a.id and merged.merged_from == (b.id,)
    assert set(merged.cells) == cells_of(MARKET_A) | cells_of(MARKET_B)
    area = ring(MARKET_A) | ring(MARKET_B)
    assert merged.harm == pytest.approx(frame[frame["cell"].isin(area)]["harm"].sum())
    # target's characteristics win; ones only the absorbed market had are kept
    assert merged.characteristics["mode"]["value"] == "street"
    assert merged.characteristics["firearms"]["value"] is True
    frame_out = markets_frame([merged])
    assert frame_out.loc[0, "merged_from"] == b.id and frame_out.loc[0, "cells"] == 8


def test_decisions_follow_a_changed_footprint(planted: Path) -> None:
    a, _b = markets(planted, harm="all")
    # A decision made when the footprint was one cell bigger (another id) still applies.
    old_cells = (*a.cells, (a.cells[-1][0] + SIZE, a.cells[-1][1]))
    stale = Decision(
        decision_id=1,
        market_id="mkt-00000000",
        action="rename",
        key=None,
        value="Old name",
        cells={"mkt-00000000": old_cells},
        cell_size=SIZE,
        decided_by="a",
        decided_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    elsewhere = Decision(
        decision_id=2,
        market_id="mkt-11111111",
        action="reject",
        key=None,
        value=None,
        cells={"mkt-11111111": ((float(X0 - 5000), float(Y0 - 5000)),)},
        cell_size=SIZE,
        decided_by="a",
        decided_at=datetime(2023, 1, 2, tzinfo=UTC),
    )
    found = markets(planted, harm="all", decisions=[stale, elsewhere])
    assert found[0].name == "Old name" and found[0].decisions == (stale,)
    assert all(m.status == "candidate" for m in found)
    # coarser cells of a decision made at 500 m still overlap
    coarse = Decision(
        decision_id=3,
        market_id="mkt-22222222",
        action="confirm",
        key=None,
        value=None,
        cells={"mkt-22222222": ((float(X0 + 500), float(Y0 + 500)),)},
        cell_size=500,
        decided_by="a",
        decided_at=datetime(2023, 1, 3, tzinfo=UTC),
    )
    assert markets(planted, harm="all", decisions=[coarse])[0].status == "confirmed"


def test_bad_decisions_are_refused_and_write_nothing(planted: Path) -> None:
    a, b = markets(planted, harm="all")
    with pytest.raises(MarketDecisionError, match="confirmed and rejected"):
        decide(planted, a, confirm=True, reject=True)
    with pytest.raises(MarketDecisionError, match="into itself"):
        decide(planted, a, merge=[a])
    with pytest.raises(MarketDecisionError, match="unknown market characteristic 'colour'"):
        decide(planted, a, confirm=True, characteristics={"colour": "red"})
    with pytest.raises(MarketDecisionError, match="firearms: expected yes or no"):
        decide(planted, a, characteristics={"firearms": "maybe"})
    with pytest.raises(MarketDecisionError, match="market_type: expected one of"):
        decide(planted, a, characteristics={"market_type": "virtual"})
    with pytest.raises(MarketDecisionError, match="nothing to record"):
        decide(planted, a)
    with pytest.raises(MarketDecisionError, match="name cannot be empty"):
        decide(planted, a, rename="  ")
    with pytest.raises(MarketDecisionError, match="no market 'mkt-nope'"):
        find_market([a, b], "mkt-nope")
    assert load_decisions(planted) == []


# --------------------------------------------------------------------------- real data


def _city_folder() -> Path:
    import os

    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "policeuk-city-of-london-2018-12_2021-11"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve real months (2019) of City of London street crime and stop-and-search."""
    folder = _city_folder()
    files = [
        f
        for sub in ("street", "stop-and-search")
        for f in sorted((folder / sub).glob("2019-*.csv"))
    ]
    assert len(files) == 24, f"expected 12 street and 12 stop-and-search files under {folder}"
    db = tmp_path_factory.mktemp("markets_city") / "city.duckdb"
    ingest_paths(files, db=db)
    return db


@pytest.fixture(scope="module")
def city_cells(city: Path) -> pd.DataFrame:
    """Harm and market activity per 250 m cell, from the raw warehouse rows with pandas."""
    con = connect(city, read_only=True)
    try:
        ev = con.execute(
            "SELECT source, event_type, x, y, object_of_search, outcome_linked FROM events "
            "WHERE x IS NOT NULL"
        ).df()
    finally:
        con.close()
    harm_days = {
        **DAYS,
        "Burglary": 247.28,
        "Criminal damage and arson": 10.39,
        "Public order": 7.5,
        "Other crime": 10.0,
        "Vehicle crime": 5.0,
        "Theft from the person": 2.0,
        "Bicycle theft": 2.0,
        "Shoplifting": 1.0,
    }
    harm_days.pop("Drugs")
    street = ev["source"] == "street"
    ev["harm"] = np.where(street, ev["event_type"].map(harm_days).fillna(0.0), 0.0)
    ev["market"] = np.where(street & (ev["event_type"] == "Drugs"), DRUG_OFFENCE, 0.0) + np.where(
        (ev["source"] == "stop_search")
        & (ev["object_of_search"] == "Controlled drugs")
        & ev["outcome_linked"].fillna(False).astype(bool),
        1.0,
        0.0,
    )
    ev["cell_x"] = np.floor(ev["x"] / 250) * 250
    ev["cell_y"] = np.floor(ev["y"] / 250) * 250
    return ev.groupby(["cell_x", "cell_y"], as_index=False)[["harm", "market"]].sum()


@pytest.fixture(scope="module")
def city_markets(city: Path) -> list[Market]:
    # within=0: detection over the occupied cells, which the recomputations below rebuild.
    return markets(city, harm="all", months=("2019-01", "2019-12"), within=0.0)


def test_real_markets_where_drug_activity_concentrates(
    city_markets: list[Market], city_cells: pd.DataFrame
) -> None:
    assert city_markets, "the City of London has drug-activity hot spots"
    busiest = city_cells.loc[city_cells["market"].idxmax()]
    top_activity = max(city_markets, key=lambda m: m.footprint_activity)
    assert (busiest["cell_x"], busiest["cell_y"]) in top_activity.cells
    # The footprints hold a large share of all market activity in few cells.
    in_markets = {c for m in city_markets for c in m.cells}
    keys = list(zip(city_cells["cell_x"], city_cells["cell_y"], strict=True))
    share_act = (
        city_cells["market"][[k in in_markets for k in keys]].sum() / city_cells["market"].sum()
    )
    share_cells = len(in_markets) / len(city_cells)
    assert share_act > 2 * share_cells


def test_real_market_figures_recomputed_with_pandas(
    city_markets: list[Market], city_cells: pd.DataFrame
) -> None:
    indexed = city_cells.set_index(["cell_x", "cell_y"])
    for m in city_markets:
        area = [c for c in m.area_cells if c in indexed.index]
        assert m.harm == pytest.approx(indexed.loc[area, "harm"].sum(), rel=1e-9)
        assert m.activity == pytest.approx(indexed.loc[area, "market"].sum(), rel=1e-9)
        foot = indexed.loc[list(m.cells)]
        assert (foot["market"] > 0).all()
        assert m.footprint_activity == pytest.approx(foot["market"].sum(), rel=1e-9)
        assert len(m.monthly_harm) == 12
        assert sum(m.monthly_harm) == pytest.approx(m.harm, rel=1e-9)


def test_real_footprints_are_significant_connected_components(
    city_markets: list[Market], city_cells: pd.DataFrame
) -> None:
    # Gi* of market activity over the occupied cells, recomputed from the pandas totals.
    xy = city_cells[["cell_x", "cell_y"]].to_numpy()
    gi = gi_star_test(city_cells["market"].to_numpy(), xy, 375.0)
    hot = (gi.p_fdr <= 0.05) & (gi.z > 0) & (city_cells["market"].to_numpy() > 0)
    expected = {(float(x), float(y)) for x, y in xy[hot]}
    assert {c for m in city_markets for c in m.cells} == expected
    for m in city_markets:
        ix = ((np.array(m.cells)[:, 0] - min(c[0] for c in m.cells)) / 250).astype(int)
        iy = ((np.array(m.cells)[:, 1] - min(c[1] for c in m.cells)) / 250).astype(int)
        raster = np.zeros((iy.max() + 1, ix.max() + 1), dtype=bool)
        raster[iy, ix] = True
        _, n = ndimage.label(raster, structure=np.ones((3, 3)))
        assert n == 1


def test_docs_name_every_characteristic_column_and_function() -> None:
    import harmscope.markets as module
    from harmscope.markets import CHARACTERISTICS, MARKET_COLUMNS
    from harmscope.priorities import MARKET_RANK_COLUMNS, PLACE_COLUMNS

    text = (Path(__file__).resolve().parents[2] / "docs" / "markets.md").read_text("utf-8")
    flat = " ".join(text.split())
    for key in CHARACTERISTICS:
        assert f"`{key}`" in text, key
    assert ", ".join(MARKET_COLUMNS) in flat
    assert ", ".join(PLACE_COLUMNS) in flat
    assert ", ".join(MARKET_RANK_COLUMNS) in flat
    for public in module.__all__:
        if public[0].islower():
            assert f"`{public}" in text, public
    for command in (
        "harmscope hotspots",
        "harmscope emerging",
        "harmscope markets decide",
        "harmscope priorities",
    ):
        assert command in text


# --------------------------------------------------------------------------- no double counting


# With counted activity and only linked finds, the 36 City months hold one candidate; counting
# every drug search (an analyst's option) on the occupied cells (within=0, the lattice these
# tests recompute) gives two whose buffers overlap: the case to split.
ALL_SEARCHES = {"unfound_search_weight": 1.0, "within": 0.0}


@pytest.fixture(scope="module")
def city36(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All 36 months (2018-12 to 2021-11) of City of London street crime and stop-and-search:
    with every drug search counted as activity (``ALL_SEARCHES``), two candidates' footprints
    plus buffers overlap."""
    folder = _city_folder()
    files = sorted((folder / "street").glob("*.csv")) + sorted(
        (folder / "stop-and-search").glob("*.csv")
    )
    assert len(files) == 72, f"expected 36 street and 36 stop-and-search files under {folder}"
    db = tmp_path_factory.mktemp("markets_city36") / "city36.duckdb"
    ingest_paths(files, db=db)
    return db


@pytest.fixture(scope="module")
def city36_cells(city36: Path) -> pd.DataFrame:
    """Harm and market activity per 250 m cell over the 36 months, by plain pandas."""
    con = connect(city36, read_only=True)
    try:
        ev = con.execute(
            "SELECT source, event_type, x, y, object_of_search, outcome_linked FROM events "
            "WHERE x IS NOT NULL"
        ).df()
    finally:
        con.close()
    harm_days = {
        "Other theft": 2.0,
        "Anti-social behaviour": 1.0,
        "Violence and sexual offences": 230.89,
        "Robbery": 365.0,
        "Burglary": 247.28,
        "Criminal damage and arson": 10.39,
        "Public order": 7.5,
        "Other crime": 10.0,
        "Vehicle crime": 5.0,
        "Theft from the person": 2.0,
        "Bicycle theft": 2.0,
        "Shoplifting": 1.0,
    }
    street = ev["source"] == "street"
    ev["harm"] = np.where(street, ev["event_type"].map(harm_days).fillna(0.0), 0.0)
    # Activity is counted: one per drug offence and (ALL_SEARCHES) one per drug search.
    ev["market"] = np.where(street & (ev["event_type"] == "Drugs"), 1.0, 0.0) + np.where(
        (ev["source"] == "stop_search") & (ev["object_of_search"] == "Controlled drugs"),
        1.0,
        0.0,
    )
    ev["cell_x"] = np.floor(ev["x"] / 250) * 250
    ev["cell_y"] = np.floor(ev["y"] / 250) * 250
    return ev.groupby(["cell_x", "cell_y"])[["harm", "market"]].sum()


def _expected_owners(found: list[Market], cells: pd.DataFrame) -> dict[tuple[float, float], str]:
    """Owner of every reached cell by the documented rule, recomputed with numpy: ring of eight
    (250 m buffer at 250 m cells), nearest footprint centre, then more footprint activity."""
    owners: dict[tuple[float, float], str] = {}
    reach: dict[tuple[float, float], list[Market]] = {}
    for m in found:
        for x, y in m.cells:
            for dx in (-250.0, 0.0, 250.0):
                for dy in (-250.0, 0.0, 250.0):
                    reach.setdefault((x + dx, y + dy), []).append(m)
    for cell, ms in reach.items():
        unique = {m.id: m for m in ms}.values()

        def key(m: Market, cell: tuple[float, float] = cell) -> tuple[float, float, str]:
            d = np.hypot(*(np.array(m.cells) - np.array(cell)).T).min()
            act = cells["market"].reindex(pd.MultiIndex.from_tuples(m.cells)).sum()
            return (float(d), -float(act), m.id)

        owners[cell] = min(unique, key=key).id
    return owners


def test_real_markets_never_count_a_cell_twice(city36: Path, city36_cells: pd.DataFrame) -> None:
    found = markets(city36, harm="all", **ALL_SEARCHES)
    assert len(found) >= 2, (
        "36 City months, all drug searches, give two candidates whose buffers overlap"
    )
    areas = [set(m.area_cells) for m in found]
    for i in range(len(areas)):
        for j in range(i + 1, len(areas)):
            assert not areas[i] & areas[j], (found[i].id, found[j].id)
    total = city36_cells["harm"].sum()
    for m in found:
        held = city36_cells["harm"].reindex(pd.MultiIndex.from_tuples(m.area_cells)).sum()
        assert m.harm == pytest.approx(held, rel=1e-9)
        assert m.activity == pytest.approx(
            city36_cells["market"].reindex(pd.MultiIndex.from_tuples(m.area_cells)).sum(),
            rel=1e-9,
        )
        assert set(m.cells) <= set(m.area_cells)
    assert sum(m.harm for m in found) <= total
    # The split follows the documented rule, recomputed independently.
    expected = _expected_owners(found, city36_cells)
    got = {c: m.id for m in found for c in m.area_cells}
    assert got == expected
    # The totals say what was split, and with whom.
    contested = {m.id for m in found if m.ceded_cells > 0}
    assert contested, "the overlapping buffers were split"
    for m in found:
        reach = {
            (x + dx, y + dy) for x, y in m.cells for dx in (-250, 0, 250) for dy in (-250, 0, 250)
        }
        assert m.ceded_cells == len(reach) - len(m.area_cells)
        others = {
            o.id
            for o in found
            if o.id != m.id
            and reach
            & {
                (x + dx, y + dy)
                for x, y in o.cells
                for dx in (-250, 0, 250)
                for dy in (-250, 0, 250)
            }
        }
        assert set(m.split_with) == others
        assert m.to_dict()["split_with"] == list(m.split_with)
    assert markets_frame(found)["split_with"].str.len().gt(0).any()


def test_rejected_markets_never_take_harm_from_live_ones(city36: Path) -> None:
    found = markets(city36, harm="all", **ALL_SEARCHES)
    strongest = max(found, key=lambda m: m.footprint_activity)
    weaker = [m for m in found if m.id != strongest.id and m.split_with]
    assert weaker, "a candidate shares cells with the strongest one"
    reject = Decision(
        decision_id=1,
        market_id=strongest.id,
        action="reject",
        key=None,
        value=None,
        cells={strongest.id: strongest.cells},
        cell_size=250.0,
        decided_by="t",
        decided_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    live = markets(city36, harm="all", decisions=[reject], **ALL_SEARCHES)
    assert strongest.id not in {m.id for m in live}
    for w in weaker:
        alone = next(m for m in live if m.id == w.id)
        # with its neighbour rejected it holds its whole reach (ring of eight at 250 m)
        reach = {
            (x + dx, y + dy) for x, y in w.cells for dx in (-250, 0, 250) for dy in (-250, 0, 250)
        }
        assert set(alone.area_cells) == reach and alone.ceded_cells == 0
        assert alone.harm > w.harm
    shown = markets(city36, harm="all", decisions=[reject], include_rejected=True, **ALL_SEARCHES)
    rejected = next(m for m in shown if m.id == strongest.id)
    # the rejected market, when listed, gets only what no live market holds
    live_cells = {c for m in shown if m.status != "rejected" for c in m.area_cells}
    assert not set(rejected.area_cells) & live_cells
    assert {m.id: m.harm for m in shown if m.status != "rejected"} == {m.id: m.harm for m in live}


# --------------------------------------------------------------------------- package layout


def test_old_import_path_re_exports_the_package() -> None:
    import harmscope.markets as package
    import harmscope.places.markets as old

    assert set(old.__all__) == set(package.__all__)
    for name in package.__all__:
        assert getattr(old, name) is getattr(package, name), name


def test_markets_modules_are_small_and_import_no_private_names() -> None:
    import ast

    import harmscope.markets as package

    folder = Path(package.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert {m.stem for m in modules} >= {"detection", "description", "curation"}
    for module in modules:
        text = module.read_text("utf-8")
        assert len(text.splitlines()) <= 700, module.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("harmscope"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{module.name} imports {private} from {node.module}"
