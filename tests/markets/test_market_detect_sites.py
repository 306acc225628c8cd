"""Market detection from intelligence sites and activity together, on planted markets.

A synthetic 20 x 20 grid of 250 m cells with a low background of market activity (Poisson,
seeded), three planted markets and one hot spot no intelligence names. What detection must
find is worked out from the plant, not from the code: each site is a market at its own cell,
hot cells next to a site join it (the nearer site when two compete), and the unexplained hot
spot is one market no larger than the cell and its eight neighbours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmscope.markets.detection import detect
from harmscope.markets.model import MarketSite
from harmscope.markets.sites import report_counts, reported_sites

CELL = 250.0
X0, Y0 = 470000.0, 260000.0


def _grid(plant: dict[tuple[int, int], float], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(20):
        for j in range(20):
            market = float(rng.poisson(0.3)) + plant.get((i, j), 0.0)
            rows.append((X0 + i * CELL, Y0 + j * CELL, "2021-01", 10.0, market))
    return pd.DataFrame(rows, columns=["cell_x", "cell_y", "month", "harm", "market"])


def _xy(i: int, j: int) -> tuple[float, float]:
    return (X0 + i * CELL, Y0 + j * CELL)


# two neighbouring markets (A at (5,5), B at (7,5)), one quiet known market C at (15,15)
# with no activity at all, and an unexplained hot spot at (12, 3) spreading over 5 x 1 cells
PLANT = {
    (5, 5): 40.0,
    (5, 6): 25.0,
    (6, 5): 30.0,
    (7, 5): 40.0,
    (8, 5): 20.0,
    **{(10 + d, 3): 30.0 for d in range(5)},
}
SITES = [
    MarketSite("A", *_xy(5, 5), source="known", detail="known A"),
    MarketSite("B", *_xy(7, 5), source="reports", detail="reported B"),
    MarketSite("C", *_xy(15, 15), source="known", detail="known C"),
]


def _run(**kw: object) -> list:
    return detect(
        _grid(PLANT),
        cell_size=CELL,
        distance=1.5 * CELL,
        within=0.0,
        alpha=0.05,
        min_activity=0.0,
        sites=SITES,
        **kw,  # type: ignore[arg-type]
    )


def test_each_site_is_a_market_at_its_cell() -> None:
    found = _run()
    by_site = {s: c for c in found for s in c.sites}
    assert set(by_site) == {"A", "B", "C"}
    assert by_site["A"].peak == _xy(5, 5) and by_site["B"].peak == _xy(7, 5)
    assert by_site["A"].id == "mkt-471250-261250"  # place-derived id of its cell
    # the quiet known market is kept, with its own cell only, and says there is no hot spot
    assert by_site["C"].cells == (_xy(15, 15),)
    assert "no hot spot" in by_site["C"].evidence[-1]
    assert by_site["A"].evidence[0] == "known A"


def test_neighbouring_sites_split_the_hot_cells_by_distance() -> None:
    found = _run()
    by_site = {s: c for c in found for s in c.sites}
    a, b = set(by_site["A"].cells), set(by_site["B"].cells)
    assert not a & b
    # (6,5) is 250 m from A and from B: the tie goes to the site listed first (A);
    # (5,6) is next to A only, (8,5) next to B only
    assert {_xy(5, 5), _xy(5, 6), _xy(6, 5)} <= a
    assert {_xy(7, 5), _xy(8, 5)} <= b


def test_unexplained_hot_spot_is_cut_to_market_size() -> None:
    found = _run()
    alone = [c for c in found if not c.sites]
    spot = {_xy(10 + d, 3) for d in range(5)}
    pieces = [c for c in alone if set(c.cells) & spot]
    assert len(pieces) >= 2  # five cells in a row: no single piece reaches past one cell
    for c in pieces:
        xs = [x for x, _ in c.cells]
        assert max(xs) - min(xs) <= 2 * CELL  # the peak and its neighbours at most
        assert "no intelligence" in c.evidence[0]
    assert spot <= {cell for c in pieces for cell in c.cells}
    # a harm floor drops unexplained spots whose harm is no higher than anywhere else
    assert not [c for c in _run(min_harm_ratio=2.0) if not c.sites]


def test_without_sites_detection_is_activity_alone() -> None:
    old = detect(
        _grid(PLANT),
        cell_size=CELL,
        distance=1.5 * CELL,
        within=0.0,
        alpha=0.05,
        min_activity=0.0,
    )
    # A and B's hot cells touch: one footprint, as before intelligence entered detection
    assert all(not c.sites for c in old)
    ab = [c for c in old if _xy(5, 5) in c.cells]
    assert len(ab) == 1 and _xy(8, 5) in ab[0].cells


def test_reported_markets_placed_in_their_lsoa_away_from_known_ones() -> None:
    reports = pd.DataFrame(
        {
            "market_id": ["M9"] * 4 + ["M8"] * 2 + ["M7"] * 3,
            "lsoa_code": ["E1", "E1", "E1", "E2", "E2", "E2", "E3", "E3", "E3"],
            "intelligence_assessment": ["1", "2", "3", "1", "1", "2", "4", "5", "4"],
        }
    )
    counts = report_counts(reports)
    # M8 has two reports, M7 only ungraded ones (4, 5): neither is a site
    assert counts.to_dict("records") == [{"market_id": "M9", "reports": 4, "lsoa_code": "E1"}]
    cells = pd.DataFrame(
        {
            "cell_x": [0.0, 250.0, 1000.0],
            "cell_y": [0.0, 0.0, 0.0],
            "lsoa_code": ["E1", "E1", "E1"],
            "market": [9.0, 5.0, 1.0],
            "records": [50, 40, 3],
        }
    )
    free = reported_sites(counts, cells)
    assert [(s.id, s.cell_x) for s in free] == [("M9", 0.0)]  # the busiest cell of E1
    known = [MarketSite("K1", 0.0, 0.0, "known")]
    beside = reported_sites(counts, cells, placed=known)
    assert [(s.id, s.cell_x, s.source) for s in beside] == [("M9", 1000.0, "reports")]
    assert "4 graded" in beside[0].detail
    # a market already on the force's list is not placed again
    assert reported_sites(counts, cells, placed=[MarketSite("M9", 0.0, 0.0, "known")]) == []


def test_bad_grade_values_are_not_counted() -> None:
    r = pd.DataFrame(
        {
            "market_id": ["M1"] * 3,
            "lsoa_code": ["E1"] * 3,
            "intelligence_assessment": ["A", "B", "C"],
        }
    )
    assert report_counts(r).empty
    with pytest.raises(KeyError):
        report_counts(r.drop(columns="lsoa_code"))
