"""Local attribution (``harmscope.markets.attribution`` / ``markets.excess``).

1. The excess worked out by hand on a toy lattice (placebo areas listed one by one), with
   the place offset (``beta``) and the widened interval recomputed by hand too.
2. A flat background plus a known market bump: the excess is the bump exactly.
3. Real data (City of London, 36 months): observed harm of each market recomputed from the
   raw police.uk rows with pandas and pyproj, the market cells from the centroid by hand.
4. A SYNTHETIC simulated city: each market's excess against the true harm the simulator's
   markets caused in its cells (truth: behaviour of every event).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from harmscope.harm import load_scheme
from harmscope.markets.attribution import local_attribution, market_types, merge_sites
from harmscope.markets.excess import (
    AttributionCells,
    Site,
    attribute_cells,
    distance_background,
    market_cells,
    placebo_areas,
)
from harmscope.markets.model import Market

CITY = Path(__file__).resolve().parents[3] / "shared" / "data"
CITY = CITY / "policeuk-city-of-london-2018-12_2021-11"


def _lattice(n: int, harm: dict[tuple[int, int], float], market: set[tuple[int, int]]):
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    ix, iy = ix.ravel(), iy.ravel()
    h = np.array([harm.get((int(a), int(b)), 0.0) for a, b in zip(ix, iy, strict=True)])
    m = np.array([0 if (int(a), int(b)) in market else -1 for a, b in zip(ix, iy, strict=True)])
    return AttributionCells(harm=h, ix=ix.astype(np.int64), iy=iy.astype(np.int64), market=m)


def _replicates_by_hand(
    preds: np.ndarray, point: float, *, seed: int, replicates: int, widen: float = 1.0
) -> np.ndarray:
    """attribute_cells's replicates of one market, rebuilt: one of ``preds`` drawn per
    replicate (the same generator and order), its deviation from the draws' median scaled
    by ``widen`` and taken from the estimate ``point`` (markets.excess.centred)."""
    draws = np.asarray(preds)[np.random.default_rng(seed).integers(0, len(preds), replicates)]
    return point - widen * (draws - np.median(draws))


def test_toy_lattice_by_hand() -> None:
    # 5 x 5 cells, harm 10 * x + y; the market holds (2, 2) and (3, 2) and adds 100 at (2, 2).
    harm = {(x, y): 10.0 * x + y for x in range(5) for y in range(5)}
    harm[(2, 2)] += 100.0
    cells = _lattice(5, harm, {(2, 2), (3, 2)})
    # Placebo origins within 1 cell of the market's first cell (2, 2), itself excluded:
    # (2, 1), (1, 2), (3, 2), (2, 3). The shape is [(0, 0), (1, 0)].
    #  origin (2,1): cells (2,1)=21, (3,1)=31           -> mean 26 x 2 = 52
    #  origin (1,2): (1,2)=12, (2,2) market (unknown)     -> 12 x 2 = 24
    #  origin (3,2): (3,2) market, (4,2)=42               -> 42 x 2 = 84
    #  origin (2,3): (2,3)=23, (3,3)=33                   -> 28 x 2 = 56
    placebos = placebo_areas(cells, 0, reach_cells=1.0, min_share=0.5)
    assert sorted(placebos) == [24.0, 52.0, 56.0, 84.0]
    observed, expected, boot, count, _ = attribute_cells(
        cells, 1, reach_cells=1.0, min_placebos=4, replicates=500, seed=3
    )
    assert observed[0] == 122.0 + 32.0  # (2,2) = 22 + 100, (3,2) = 32
    assert expected[0] == pytest.approx((24 + 52 + 56 + 84) / 4)  # 54
    assert observed[0] - expected[0] == pytest.approx(100.0)
    assert count[0] == 4
    # Every replicate is the excess minus one drawn placebo area's deviation from the draws'
    # median (centred on the estimate, so the interval holds it).
    want = _replicates_by_hand(placebos, 100.0, seed=3, replicates=500)
    assert np.allclose(boot[0], want)
    assert set(np.round(boot[0] - np.median(boot[0]), 9)) <= {
        round(float(np.median(placebos[np.random.default_rng(3).integers(0, 4, 500)]) - v), 9)
        for v in (24.0, 52.0, 56.0, 84.0)
    }
    assert float(np.median(boot[0])) == pytest.approx(100.0)
    # With min_share 1 the two half-known placebos are left out.
    assert sorted(placebo_areas(cells, 0, reach_cells=1.0, min_share=1.0)) == [52.0, 56.0]


def _toy_with_reference() -> AttributionCells:
    # The toy lattice above, plus a reference harm (the types not counted) of x + 1 per cell,
    # except the market's cell (2, 2), a place that draws crime of every kind: 17.
    harm = {(x, y): 10.0 * x + y for x in range(5) for y in range(5)}
    harm[(2, 2)] += 100.0
    cells = _lattice(5, harm, {(2, 2), (3, 2)})
    ref = (cells.ix + 1).astype(np.float64)
    ref[(cells.ix == 2) & (cells.iy == 2)] = 17.0
    return AttributionCells(
        harm=cells.harm, ix=cells.ix, iy=cells.iy, market=cells.market, reference=ref
    )


def test_place_offset_by_hand() -> None:
    cells = _toy_with_reference()
    # Reference harm of the four placebo areas (same origins and shape as above):
    #  origin (2,1): (2,1)=3, (3,1)=4      -> 3.5 x 2 = 7
    #  origin (1,2): (1,2)=2 (market cell unknown) -> 2 x 2 = 4
    #  origin (3,2): (4,2)=5               -> 5 x 2 = 10
    #  origin (2,3): (2,3)=3, (3,3)=4      -> 3.5 x 2 = 7
    ref = placebo_areas(cells, 0, reach_cells=1.0, min_share=0.5, column="reference")
    assert sorted(ref) == [4.0, 7.0, 7.0, 10.0]
    # The market's own reference: (2,2)=17 + (3,2)=4 = 21, three times the placebo mean 7.
    for beta, factor in ((0.0, 1.0), (0.5, 3**0.5), (1.0, 3.0)):
        observed, expected, boot, _, offset = attribute_cells(
            cells, 1, reach_cells=1.0, min_placebos=4, replicates=400, seed=1, beta=beta
        )
        assert observed[0] == 154.0
        assert expected[0] == pytest.approx(54.0 * factor)
        assert offset[0] == pytest.approx(factor)
        # Each replicate: the excess minus one placebo's counted harm times the same factor,
        # about the draws' median.
        counted = placebo_areas(cells, 0, reach_cells=1.0, min_share=0.5)
        want = _replicates_by_hand(counted * factor, 154.0 - 54.0 * factor, seed=1, replicates=400)
        assert np.allclose(boot[0], want)
    # beta = 1 is the ratio estimator R_k * sum(L_p) / sum(R_p) (= 21 * 216 / 28 = 162).
    counted = placebo_areas(cells, 0, reach_cells=1.0, min_share=0.5)
    ratio = attribute_cells(cells, 1, reach_cells=1.0, min_placebos=4, beta=1.0).expected[0]
    assert ratio == pytest.approx(21.0 * counted.sum() / ref.sum())


def test_widened_interval_by_hand() -> None:
    cells = _toy_with_reference()
    _, expected, boot, _, _ = attribute_cells(
        cells, 1, reach_cells=1.0, min_placebos=4, replicates=400, seed=1, widen=2.0
    )
    # Deviations from the draws' median doubled, about the excess 154 - 54 = 100.
    counted = placebo_areas(cells, 0, reach_cells=1.0, min_share=0.5)
    want = _replicates_by_hand(counted, 100.0, seed=1, replicates=400, widen=2.0)
    assert np.allclose(boot[0], want)
    plain = _replicates_by_hand(counted, 100.0, seed=1, replicates=400)
    assert np.ptp(boot[0]) == pytest.approx(2.0 * np.ptp(plain))
    assert expected[0] == pytest.approx(54.0)  # the centre does not move


def test_offset_needs_reference_and_finite_settings() -> None:
    harm = {(x, y): 1.0 for x in range(6) for y in range(6)}
    cells = _lattice(6, harm, {(2, 2)})
    with pytest.raises(ValueError, match="reference"):
        attribute_cells(cells, 1, reach_cells=2.0, beta=0.4)
    with pytest.raises(ValueError, match="widen"):
        attribute_cells(cells, 1, reach_cells=2.0, widen=0.0)


def test_flat_background_gives_the_bump_exactly() -> None:
    # 15 x 15 cells of background 5; a 3-cell market adds 20 per cell.
    harm = {(x, y): 5.0 for x in range(15) for y in range(15)}
    market = {(7, 7), (8, 7), (7, 8)}
    for c in market:
        harm[c] += 20.0
    cells = _lattice(15, harm, market)
    observed, expected, boot, _, _ = attribute_cells(cells, 1, reach_cells=5.0, replicates=200)
    assert expected[0] == pytest.approx(15.0)  # 3 cells x 5
    assert observed[0] - expected[0] == pytest.approx(60.0)
    assert np.allclose(boot[0], 60.0)


def test_too_few_placebos_is_refused() -> None:
    harm = {(x, y): 1.0 for x in range(2) for y in range(2)}
    cells = _lattice(2, harm, {(0, 0), (1, 0), (0, 1), (1, 1)})
    with pytest.raises(ValueError, match="placebo areas"):
        attribute_cells(cells, 1, reach_cells=1.0)


def _market(cx: float, cy: float, cells: tuple[tuple[float, float], ...] = ()) -> Market:
    return Market(
        id="m",
        cells=cells,
        cell_size=250.0,
        centroid_x=cx,
        centroid_y=cy,
        buffer=0.0,
        area_cells=cells,
        harm=0.0,
        activity=0.0,
        footprint_activity=0.0,
        activity_harm_ratio=None,
        peak_gi_z=0.0,
        matrix=None,  # type: ignore[arg-type]
        months=(),
        monthly_harm=(),
        trend={},
        top_types=(),
        unit="",
    )


def test_market_cells_disc_and_nearest() -> None:
    ix, iy = np.meshgrid(np.arange(10), np.arange(10))
    ix, iy = ix.ravel().astype(np.int64), iy.ravel().astype(np.int64)
    a = _market(625.0, 625.0)  # centre of cell (2, 2)
    b = _market(1375.0, 625.0)  # centre of cell (5, 2)
    member = market_cells(ix, iy, [a, b], 250.0, 400.0)
    cx, cy = (ix + 0.5) * 250, (iy + 0.5) * 250
    da, db = np.hypot(cx - 625, cy - 625), np.hypot(cx - 1375, cy - 625)
    want = np.where((da <= 400) & (da <= db), 0, np.where(db <= 400, 1, -1))
    assert (member == want).all()
    assert (member == 0).sum() == 9  # the centre cell, 4 edge neighbours and 4 diagonals
    # Footprint mode: the cells given.
    c = _market(0, 0, cells=((250.0, 250.0), (500.0, 250.0)))
    got = market_cells(ix, iy, [c], 250.0, None)
    assert sorted(zip(ix[got == 0], iy[got == 0], strict=True)) == [(1, 1), (2, 1)]


def test_merge_sites_keeps_known_places_and_far_detections() -> None:
    known = [Site(id="K1", centroid_x=1000.0, centroid_y=1000.0)]
    near = _market(1300.0, 1400.0)  # 500 m from K1: kept (the gap is strict)
    close = _market(1200.0, 1000.0)  # 200 m from K1: the same market, dropped
    merged = merge_sites(known, [close, near], gap=500.0)
    assert [(m.id, m.source) for m in merged] == [("K1", "confirmed"), ("m", "detected")]
    assert (merged[1].centroid_x, merged[1].centroid_y) == (1300.0, 1400.0)
    # Two known sites closer than the gap are one market too.
    twin = Site(id="K2", centroid_x=1100.0, centroid_y=1000.0)
    assert [m.id for m in merge_sites([*known, twin], [], gap=500.0)] == ["K1"]


def test_market_types_are_those_with_a_distribution_fraction() -> None:
    got = market_types(load_scheme("cchi"))
    assert "Violence and sexual offences" in got and "Robbery" in got
    for acquisitive in ("Burglary", "Shoplifting", "Vehicle crime", "Bicycle theft"):
        assert acquisitive not in got
    assert "Drugs" not in got  # activity, never harm


@pytest.fixture(scope="module")
def city36(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harmscope.warehouse.ingest import ingest_paths

    db = tmp_path_factory.mktemp("city36") / "c.duckdb"
    files = sorted((CITY / "street").glob("*.csv")) + sorted(
        (CITY / "stop-and-search").glob("*.csv")
    )
    ingest_paths(files, db=db)
    return db


@pytest.mark.slow
def test_real_city_observed_recomputed_from_raw_rows(city36: Path) -> None:
    from harmscope.places.study_area import dataset_area
    from harmscope.warehouse.handle import Warehouse

    result = local_attribution(city36)
    assert len(result.markets) == 1
    m = result.markets[0]
    assert m.market_id == "mkt-533000-181500"  # docs/markets.md: the Bishopsgate candidate
    # Raw rows: every street file, projected with pyproj, CCHI days per type.
    raw = pd.concat(
        [pd.read_csv(f, dtype=str) for f in sorted((CITY / "street").glob("*.csv"))]
    ).dropna(subset=["Longitude", "Latitude"])
    # The ingest folds street rows repeating a Crime ID in a month into one (docs/warehouse.md).
    keyed = raw["Crime ID"].notna()
    raw = pd.concat([raw[keyed].drop_duplicates(["Month", "Crime ID"]), raw[~keyed]])
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(raw["Longitude"].astype(float), raw["Latitude"].astype(float))
    scheme = load_scheme("cchi")
    weight = {w.event_type: w.weight for w in scheme.weights if w.kind == "harm"}
    raw = raw.assign(
        cx=np.floor(np.asarray(x) / 250) * 250,
        cy=np.floor(np.asarray(y) / 250) * 250,
        w=raw["Crime type"].map(weight).fillna(0.0),
    )
    with Warehouse.of(city36) as wh:
        area = dataset_area(wh.events())
    study = set(zip(area.cell_x.tolist(), area.cell_y.tolist(), strict=True))
    raw = raw[[(a, b) in study for a, b in zip(raw["cx"], raw["cy"], strict=True)]]
    assert result.total_harm == pytest.approx(raw["w"].sum(), rel=1e-9)
    # Market cells: study cells whose centre is within 500 m of the market's centroid.
    from harmscope.markets import markets

    (found,) = markets(city36)
    near = {
        (a, b)
        for a, b in study
        if np.hypot(a + 125 - found.centroid_x, b + 125 - found.centroid_y) <= 500
    }
    assert m.cells == len(near)
    inside = raw[[(a, b) in near for a, b in zip(raw["cx"], raw["cy"], strict=True)]]
    assert m.area_harm == pytest.approx(inside["w"].sum(), rel=1e-9)
    types = set(result.types)
    assert m.observed == pytest.approx(inside.loc[inside["Crime type"].isin(types), "w"].sum())
    # docs/markets.md quotes these (rounded): excess and its interval as shares of harm;
    # the local background by default, the place model alone, the distance one and the
    # placebo mean with the place offset besides.
    assert (round(m.share, 3), m.placebos) == (0.091, 25)
    assert (round(m.share_low, 3), round(m.share_high, 3)) == (0.044, 0.175)
    assert m.excess_low < m.excess < m.excess_high
    place = local_attribution(city36, replicates=2000, background="place").markets[0]
    assert (round(place.share, 3), round(place.share_low, 3)) == (0.089, 0.045)
    far = local_attribution(city36, replicates=2000, background="distance").markets[0]
    assert (round(far.share, 3), round(far.share_low, 3)) == (0.089, -0.008)
    plain = local_attribution(city36, replicates=200, background="placebo").markets[0]
    assert (round(plain.share, 3), plain.observed) == (0.081, m.observed)


@pytest.mark.slow
def test_simulated_markets_excess_against_truth(tmp_path: Path) -> None:
    """SYNTHETIC city (seed 7, not a tuning seed): the excess of the markets' cells against
    the harm the simulator's markets truly caused there (market behaviours, recorded)."""
    from harmscope.checks.attribution import MARKET_BEHAVIOURS, known_market_intelligence
    from harmscope.simulate import simulate
    from harmscope.simulate.codes import BEHAVIOURS
    from harmscope.simulate.truth import harm_rows
    from harmscope.warehouse.ingest import ingest_paths

    res = simulate(seed=7, months=36, size="small")
    res.write(tmp_path / "sim")
    db = tmp_path / "w.duckdb"
    ingest_paths(sorted(p for p in (tmp_path / "sim").glob("20*") if p.is_dir()), db=db)
    labels = sorted(res.truth["behaviour_month"]["month"].unique())
    intel = known_market_intelligence(res.intel["markets"], labels)
    result = local_attribution(db, intelligence=intel, replicates=1000, seed=7)
    assert result.markets
    # Truth per cell: recorded harm of the events a market caused.
    e = harm_rows(res)
    cc = res.cell_cols(e["cell"].to_numpy())
    codes = [BEHAVIOURS.index(b) for b in MARKET_BEHAVIOURS]
    e = e.assign(cx=cc["cell_x"], cy=cc["cell_y"])
    caused = e[e["behaviour"].isin(codes)].groupby(["cx", "cy"])["recorded_harm"].sum()
    from harmscope.markets import markets

    found = markets(db, intelligence=intel)
    assert [m.id for m in found] == [m.market_id for m in result.markets]
    xy = np.array(list(caused.index), dtype=float)
    truths = []
    for row, mk in zip(result.markets, found, strict=True):
        # Cells of this market (nearest centroid within 500 m, as market_cells).
        d_own = np.hypot(xy[:, 0] + 125 - mk.centroid_x, xy[:, 1] + 125 - mk.centroid_y)
        d_all = np.min(
            [np.hypot(xy[:, 0] + 125 - o.centroid_x, xy[:, 1] + 125 - o.centroid_y) for o in found],
            axis=0,
        )
        mine = (d_own <= 500) & (d_own <= d_all)
        truth = float(caused.to_numpy()[mine].sum())
        truths.append(truth)
        # Each market's true harm in its cells lies in its interval.
        assert row.excess_low <= truth <= row.excess_high, (row, truth)
    # ... and so does the sum over markets in the area's interval. (The city-wide share,
    # markets' harm outside their cells included, is scored over 20 seeds by
    # validate-attribution: on this seed alone it lies above the interval.)
    assert result.excess_low <= sum(truths) <= result.excess_high


def _radial(n: int, bump: float) -> tuple[AttributionCells, np.ndarray]:
    # n x n cells (n odd), background exp(3 - 0.8 d + 0.1 d^2) with d the distance from the
    # middle cell in cells / 4; the market holds the middle cell and adds ``bump`` there, so
    # the harm-weighted centre stays the middle cell.
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    ix, iy = ix.ravel().astype(np.int64), iy.ravel().astype(np.int64)
    mid = n // 2
    d = np.hypot(ix - mid, iy - mid) / 4.0
    mean = np.exp(3.0 - 0.8 * d + 0.1 * d * d)
    market = np.where((ix == mid) & (iy == mid), 0, -1).astype(np.int64)
    harm = mean + bump * (market == 0)
    return AttributionCells(harm=harm, ix=ix, iy=iy, market=market, reference=mean), mean


def test_distance_background_recovers_a_radial_background() -> None:
    cells, mean = _radial(11, 40.0)
    fitted = distance_background(cells)
    assert np.allclose(fitted, mean, rtol=1e-8)
    observed, expected, boot, count, offset = attribute_cells(
        cells, 1, reach_cells=3.0, replicates=300, background="distance"
    )
    # Middle cell: background exp(3), the bump is the whole excess, and every placebo area
    # (one cell each) is predicted exactly, so each replicate ratio is 1.
    assert expected[0] == pytest.approx(math.exp(3.0))
    assert observed[0] - expected[0] == pytest.approx(40.0)
    assert np.allclose(boot[0], 40.0)
    # The offset reports the model's prediction over the placebo mean.
    ring = placebo_areas(cells, 0, reach_cells=3.0, min_share=0.5)
    assert len(ring) == count[0]
    assert offset[0] == pytest.approx(math.exp(3.0) / ring.mean())


def test_distance_background_solves_the_quasi_poisson_equations() -> None:
    # Noisy lattice: the fit must satisfy X'(y - mu) = 0 on the background cells, with X
    # built here by hand from the harm-weighted centre.
    rng = np.random.default_rng(5)
    n = 12
    ix, iy = np.meshgrid(np.arange(n), np.arange(n))
    ix, iy = ix.ravel().astype(np.int64), iy.ravel().astype(np.int64)
    harm = rng.gamma(2.0, 10.0, size=n * n)
    ref = rng.gamma(2.0, 5.0, size=n * n)
    market = np.full(n * n, -1, dtype=np.int64)
    market[(ix >= 3) & (ix <= 4) & (iy == 6)] = 0
    cells = AttributionCells(harm=harm, ix=ix, iy=iy, market=market, reference=ref)
    mu = distance_background(cells)
    w = harm + ref
    cx, cy = (ix * w).sum() / w.sum(), (iy * w).sum() / w.sum()
    d = np.hypot(ix - cx, iy - cy) / 4.0
    out = market < 0
    x = np.column_stack([np.ones(out.sum()), d[out], d[out] ** 2])
    assert np.allclose(x.T @ (harm[out] - mu[out]), 0.0, atol=1e-6 * harm.sum())
    # log mu is quadratic in d (the model's form), market cells included.
    coef = np.polyfit(d, np.log(mu), 2)
    assert np.allclose(np.polyval(coef, d), np.log(mu), atol=1e-9)
    # Replicates: observed minus the expected times one placebo area's observed/predicted.
    obs, expected, boot, _, _ = attribute_cells(
        cells, 1, reach_cells=2.0, replicates=400, seed=2, background="distance"
    )
    assert expected[0] == pytest.approx(mu[market == 0].sum())
    lp = placebo_areas(cells, 0, reach_cells=2.0, min_share=0.5)
    mp = placebo_areas(
        AttributionCells(harm=mu, ix=ix, iy=iy, market=market), 0, reach_cells=2.0, min_share=0.5
    )
    ratio = lp[mp > 0] / mp[mp > 0]
    want = _replicates_by_hand(
        expected[0] * ratio, float(obs[0] - expected[0]), seed=2, replicates=400
    )
    assert np.allclose(boot[0], want)
    assert len(set(np.round(boot[0], 6))) > len(ratio) // 2
    with pytest.raises(ValueError, match="background"):
        attribute_cells(cells, 1, reach_cells=2.0, background="kriging")
