"""``validate_priorities`` and ``harmscope validate-priorities`` (one folder and ``--seeds``).

The scorer is checked on small hand-made rankings whose scores are worked out by hand; the
one-folder run on a small simulated city is recomputed from the folder's CSVs with pandas and
plain SQL on the warehouse (cells, police activity, the markets' linked harm, a brute-force
matching), independently of :mod:`harmscope.checks`.
"""

from __future__ import annotations

import glob
import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.checks.priorities import (
    AUDIT_REASON,
    AUDIT_USER,
    LensValidation,
    SimulationFolderError,
    market_hits,
    precision_at_k,
    true_market_ranking,
    true_place_ranking,
    validate_priorities,
)
from harmscope.checks.rankings import LENS_CHECKS, Rankings
from harmscope.checks.scoring import exact_matcher, mean_interval, score_rankings, summarise
from harmscope.checks.seeds import TUNING_SEEDS, validate_priorities_seeds
from harmscope.cli import app
from harmscope.markets import markets
from harmscope.priorities import rank_places
from harmscope.simulate import simulate

SEED = 1
MONTHS = 6
K = 10

runner = CliRunner()

#: DESIGN §3 category weights (CCHI days) of the police.uk crime types, for the recomputation.
CCHI = {
    "Violence and sexual offences": 230.89,
    "Robbery": 365.0,
    "Burglary": 247.28,
    "Criminal damage and arson": 10.39,
    "Public order": 7.5,
    "Other crime": 10.0,
    "Vehicle crime": 5.0,
    "Theft from the person": 2.0,
    "Bicycle theft": 2.0,
    "Other theft": 2.0,
    "Shoplifting": 1.0,
    "Anti-social behaviour": 1.0,
}


# --------------------------------------------------------------------------- the scorer


def _rankings(**kw: object) -> Rankings:
    truth = pd.Series({"a": 10.0, "b": 8.0, "c": 5.0, "d": 1.0, "e": 0.0})
    base: dict[str, object] = {
        "lens": "toy",
        "predicted": ["a", "c", "x", "b"],
        "counting": ["d", "a", "b"],
        "busyness": ["x", "y"],
        "truth": truth,
    }
    base.update(kw)
    return Rankings(**base)  # type: ignore[arg-type]


def test_scorer_by_hand() -> None:
    s = score_rankings(_rankings(), k=2, k2=3)
    # truth order a, b, c, d (e has no harm); T_2 = {a, b}, best = 18
    assert s.n_true == 4 and s.true_top == ("a", "b") and s.best_harm == 18.0
    lens, count, busy = (s.scores[r] for r in ("lens", "counting", "busyness"))
    # lens top 2 = a, c: one hit; harm captured (a 10 + c 5) / 18
    assert lens.precision_at_k == 0.5 and lens.hits == 1
    assert lens.harm_captured == pytest.approx(15 / 18)
    # lens top 3 = a, c, x against T_3 = a, b, c: two hits
    assert lens.precision_at_20 == pytest.approx(2 / 3)
    # counting top 2 = d, a: one hit, captured (1 + 10) / 18
    assert count.precision_at_k == 0.5 and count.harm_captured == pytest.approx(11 / 18)
    assert count.precision_at_20 == pytest.approx(2 / 3)  # d, a, b vs a, b, c
    # busyness ranks units with no truth: nothing
    assert busy.precision_at_k == 0.0 and busy.harm_captured == 0.0 and busy.n_ranked == 2
    d = s.to_dict()
    assert list(d)[:3] == ["precision_at_k", "baseline_precision_at_k", "busyness_precision_at_k"]
    assert d["harm_captured"] == pytest.approx(15 / 18)
    # k beyond the units with harm is capped, never a larger denominator
    big = score_rankings(_rankings(), k=10, k2=20)
    assert big.k_effective == 4 and big.scores["lens"].precision_at_k == pytest.approx(3 / 4)


def test_scorer_uses_the_matcher() -> None:
    # a matcher that lets "x" stand for "c" (as a market footprint locates a true market)
    def matcher(pred: list[str], true: list[str]) -> list[tuple[str, str]]:
        alias = {"x": "c"}
        return exact_matcher([alias.get(p, p) for p in pred], true)

    s = score_rankings(_rankings(predicted=["x", "a"], matcher=matcher), k=2)
    assert s.scores["lens"].hits == 1  # a in T_2; c is not in T_2
    assert s.scores["lens"].harm_captured == pytest.approx(15 / 18)  # c still carries harm


def test_summary_wins_and_interval_by_hand() -> None:
    per_seed = []
    for seed, (lens, count) in enumerate(
        [(["a", "b"], ["a", "d"]), (["a", "d"], ["a", "b"]), (["a", "b"], ["b", "a"])], start=1
    ):
        per_seed.append((seed, score_rankings(_rankings(predicted=lens, counting=count), k=2)))
    out = summarise(per_seed)
    # lens p@2: 1.0, 0.5, 1.0; counting: 0.5, 1.0, 1.0 -> 1 win, 1 loss, 1 tie
    assert out["precision_at_k"] == pytest.approx(2.5 / 3)
    assert out["baseline_precision_at_k"] == pytest.approx(2.5 / 3)
    w = out["wins"]["counting"]["precision_at_k"]
    assert (w["wins"], w["ties"], w["losses"]) == (1, 1, 1) and w["win_share"] == pytest.approx(
        1 / 3
    )
    x = np.array([1.0, 0.5, 1.0])
    half = 4.302652729911275 * x.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    band = out["intervals"]["precision_at_k"]["lens"]
    assert band["low"] == pytest.approx(x.mean() - half) and band["high"] == pytest.approx(
        x.mean() + half
    )
    assert mean_interval([0.4]) == {"mean": 0.4, "low": None, "high": None}
    assert [r["seed"] for r in out["per_seed"]] == [1, 2, 3]


# --------------------------------------------------------------------------- one folder


@pytest.fixture(scope="module")
def simdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "harmbridge"
    simulate(seed=SEED, months=MONTHS, size="small").write(out)
    return out


@pytest.fixture(scope="module")
def warehouse(simdir: Path) -> Path:
    return simdir.parent / "validate.duckdb"


@pytest.fixture(scope="module")
def results(simdir: Path, warehouse: Path) -> dict[str, LensValidation]:
    return validate_priorities(simdir, k=K, db=warehouse)


def _truth(simdir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(simdir / "truth" / f"{name}.csv")


def _police_activity(simdir: Path, warehouse: Path) -> pd.Series:
    """Drug and weapon offences, searches and arrests per 250 m cell, by plain SQL."""
    arrests = pd.read_csv(simdir / "records" / "arrests.csv", dtype=str)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.register("arrests", arrests[["crime_id"]].dropna())
        frame = con.execute(
            """
            WITH police AS (
              SELECT floor(x / 250) * 250 AS cx, floor(y / 250) * 250 AS cy FROM events
              WHERE x IS NOT NULL AND (source = 'stop_search' OR (source = 'street'
                    AND event_type IN ('Drugs', 'Possession of weapons')))
              UNION ALL
              SELECT floor(e.x / 250) * 250, floor(e.y / 250) * 250
              FROM arrests a JOIN (SELECT DISTINCT crime_id, x, y FROM events
                                   WHERE source = 'street' AND x IS NOT NULL) e
                ON a.crime_id = e.crime_id)
            SELECT cx, cy, count(*) AS n FROM police GROUP BY cx, cy
            """
        ).df()
    finally:
        con.close()
    ids = [f"cell-250m-{int(x)}-{int(y)}" for x, y in zip(frame.cx, frame.cy, strict=True)]
    return pd.Series(frame["n"].to_numpy(dtype=float), index=ids)


def test_places_recomputed_from_truth_and_lens(
    simdir: Path, warehouse: Path, results: dict[str, LensValidation]
) -> None:
    truth = _truth(simdir, "places").groupby(["cell_x", "cell_y"])["true_harm"].sum()
    truth = truth[truth > 0]
    true_top = {f"cell-250m-{int(x)}-{int(y)}" for x, y in truth.nlargest(K).index}
    best = truth.nlargest(K).sum()
    harm = {f"cell-250m-{int(x)}-{int(y)}": v for (x, y), v in truth.items()}
    v = results["places"]
    assert v.available and v.score is not None and v.k_effective == K
    assert v.n_true == len(truth) and set(v.score.true_top) == true_top
    for role, scheme in (("lens", "cchi"), ("counting", "count")):
        lens = rank_places(warehouse, scheme=scheme, top=K, harm="all", score_by="harm")
        ids = [
            f"cell-250m-{int(x)}-{int(y)}" for x, y in zip(lens.cell_x, lens.cell_y, strict=True)
        ]
        got = v.score.scores[role]
        assert list(got.predicted) == ids
        assert got.precision_at_k == pytest.approx(len(set(ids) & true_top) / K)
        assert got.harm_captured == pytest.approx(sum(harm.get(u, 0.0) for u in ids) / best)
    # busyness: police activity per cell, recomputed by SQL; its top k in activity order
    activity = _police_activity(simdir, warehouse)
    busy = v.score.scores["busyness"]
    values = [activity[u] for u in busy.predicted]
    assert values == sorted(values, reverse=True)
    assert values[0] == activity.max()
    assert busy.precision_at_k == pytest.approx(len(set(busy.predicted) & true_top) / K)
    d = v.to_dict()
    for key in ("precision_at_k", "baseline_precision_at_k", "busyness_precision_at_k"):
        assert 0.0 <= d[key] <= 1.0


def _max_matching(areas: list[set[tuple[float, float]]], cells: list[tuple[float, float]]) -> int:
    """Largest one-to-one matching by brute force over assignments of true markets."""
    for size in range(min(len(areas), len(cells)), 0, -1):
        for chosen in itertools.combinations(range(len(cells)), size):
            for order in itertools.permutations(range(len(areas)), size):
                if all(cells[c] in areas[a] for c, a in zip(chosen, order, strict=True)):
                    return size
    return 0


def _linked_harm(simdir: Path) -> pd.Series:
    """Harm of street crimes linked (suspect/offender) to each market's nominals and to the
    nominals a ``buys_from`` link graded 1-3 ties to them (its buyers), from CSVs."""
    street = pd.concat(
        pd.read_csv(f, usecols=["Crime ID", "Crime type"])
        for f in sorted(glob.glob(str(simdir / "20*" / "*-street.csv")))
    ).dropna(subset=["Crime ID"])
    street = street.drop_duplicates("Crime ID")
    street["w"] = street["Crime type"].map(CCHI)
    links = pd.read_csv(simdir / "records" / "crime_people.csv")
    links = links[links["role"].isin(["suspect", "offender"])]
    nominals = pd.read_csv(simdir / "intel" / "nominals.csv").dropna(subset=["market_id"])
    sellers = nominals.set_index("nominal_id")["market_id"]
    intel = pd.read_csv(simdir / "intel" / "links.csv", dtype={"intelligence_assessment": str})
    buys = intel[
        (intel["link_type"] == "buys_from") & intel["intelligence_assessment"].isin(["1", "2", "3"])
    ]
    buyers = pd.DataFrame(
        {"nominal_id": buys["source_id"], "market_id": buys["target_id"].map(sellers)}
    )
    people = pd.concat([nominals[["nominal_id", "market_id"]], buyers.dropna()])
    pairs = links.merge(people, on="nominal_id")
    pairs = pairs[["crime_id", "market_id"]].drop_duplicates()
    joined = pairs.merge(street.dropna(subset=["w"]), left_on="crime_id", right_on="Crime ID")
    return joined.groupby("market_id")["w"].sum()


def test_markets_recomputed_from_truth_and_records(
    simdir: Path, warehouse: Path, results: dict[str, LensValidation]
) -> None:
    harm = _truth(simdir, "market_month").groupby("market_id")["true_harm"].sum()
    info = _truth(simdir, "markets").set_index("market_id")
    harm = harm[harm > 0].sort_values(ascending=False)
    k_eff = min(K, len(harm))
    cells = [(float(info.at[m, "cell_x"]), float(info.at[m, "cell_y"])) for m in harm.index[:k_eff]]
    v = results["markets"]
    assert v.available and v.score is not None and v.k_effective == k_eff
    assert list(v.score.true_top) == list(harm.index[:k_eff])
    found = markets(warehouse, harm="all", user=AUDIT_USER, reason=AUDIT_REASON)
    by_id = {m.id: m for m in found}
    # every known market of intel/markets.csv is a detected market at its own cell
    known = pd.read_csv(simdir / "intel" / "markets.csv")
    sites = {fid: m for m in found for fid in m.force_ids}
    for r in known.itertuples():
        assert (float(r.cell_x), float(r.cell_y)) in sites[r.market_id].cells
    # the lens ranks by linked harm, recomputed from the CSVs
    linked = _linked_harm(simdir)
    for m in found:
        expected = float(linked.reindex(list(m.force_ids)).fillna(0.0).sum())
        assert m.linked_harm == pytest.approx(expected, rel=1e-9, abs=1e-9)
    order = sorted(found, key=lambda m: (-(m.linked_harm or 0.0), m.id))
    top = [m.id for m in order[:k_eff]]
    lens = v.score.scores["lens"]
    assert list(lens.predicted) == top
    areas = [set(by_id[u].area_cells) for u in top]
    assert lens.precision_at_k == pytest.approx(_max_matching(areas, cells) / k_eff)
    assert lens.hits is not None and lens.hits >= 1


def test_unchecked_lenses_reported_unavailable_not_zero(
    results: dict[str, LensValidation],
) -> None:
    for name in ("people", "groups", "behaviours"):
        if name in LENS_CHECKS:  # registered by another module (checks/people.py)
            continue
        v = results[name]
        assert not v.available
        assert v.precision_at_k is None and v.busyness_precision_at_k is None
        assert v.reason and name in v.reason
        assert v.to_dict()["baseline_precision_at_k"] is None


def test_cli_json_contract(simdir: Path, results: dict[str, LensValidation]) -> None:
    res = runner.invoke(
        app, ["validate-priorities", str(simdir), "--k", str(K), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data)[:2] == ["places", "markets"]
    assert {"people", "groups", "behaviours"} <= set(data)
    for name, entry in data.items():
        assert {"precision_at_k", "baseline_precision_at_k", "busyness_precision_at_k"} <= set(
            entry
        )
        if entry["available"]:
            for key in (
                "precision_at_k",
                "baseline_precision_at_k",
                "busyness_precision_at_k",
                "precision_at_20",
                "harm_captured",
            ):
                assert isinstance(entry[key], float) and 0.0 <= entry[key] <= 1.0 + 1e-9
            # a fresh temporary warehouse gives the same numbers as the library run
            assert entry["precision_at_k"] == results[name].precision_at_k
            assert entry["busyness_precision_at_k"] == results[name].busyness_precision_at_k
        else:
            assert entry["precision_at_k"] is None and entry["reason"]
    only = runner.invoke(
        app, ["validate-priorities", str(simdir), "--lens", "places", "--format", "json"]
    )
    assert only.exit_code == 0, only.output
    assert list(json.loads(only.stdout)) == ["places"]


def test_cli_table_and_errors(
    simdir: Path, results: dict[str, LensValidation], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def fake(folder: Path, **options: object) -> dict[str, LensValidation]:
        seen.update(options, folder=folder)
        return results

    monkeypatch.setattr("harmscope.cli.validate.validate_priorities", fake)
    res = runner.invoke(
        app,
        ["validate-priorities", str(simdir), "--k", "7", "--market-match", "footprint", "--wide"],
    )
    assert res.exit_code == 0, res.output
    assert seen["k"] == 7 and seen["market_match"] == "footprint" and seen["folder"] == simdir
    places = next(line for line in res.stdout.splitlines() if "places" in line and "│" in line)
    sc = results["places"].score
    assert sc is not None
    for role in ("lens", "counting", "busyness"):
        assert f"{sc.scores[role].precision_at_k:.2f}" in places
    assert "people: unavailable" in res.stdout or "people" in LENS_CHECKS
    monkeypatch.undo()
    bad = runner.invoke(app, ["validate-priorities", str(simdir / "intel")])
    assert bad.exit_code == 2 and "truth/places.csv" in bad.output
    fmt = runner.invoke(app, ["validate-priorities", str(simdir), "--format", "xml"])
    assert fmt.exit_code == 2 and "--format" in fmt.output
    both = runner.invoke(app, ["validate-priorities", str(simdir), "--seeds", "2"])
    assert both.exit_code == 2 and "SIMDIR" in both.output
    neither = runner.invoke(app, ["validate-priorities"])
    assert neither.exit_code == 2 and "--seeds" in neither.output


def test_tuning_seeds_refused() -> None:
    assert TUNING_SEEDS[0] == 101 and TUNING_SEEDS[-1] == 180
    with pytest.raises(ValueError, match="tune"):
        validate_priorities_seeds(3, first_seed=99)
    res = runner.invoke(app, ["validate-priorities", "--seeds", "2", "--first-seed", "150"])
    assert res.exit_code == 2 and "101" in res.output


def test_not_a_simulator_folder(tmp_path: Path) -> None:
    with pytest.raises(SimulationFolderError, match=r"truth/markets\.csv"):
        validate_priorities(tmp_path)
    with pytest.raises(SimulationFolderError, match="no such folder"):
        validate_priorities(tmp_path / "missing")


def test_bad_options(simdir: Path) -> None:
    with pytest.raises(ValueError, match="k must be"):
        validate_priorities(simdir, k=0)
    with pytest.raises(ValueError, match="multiple"):
        validate_priorities(simdir, cell_size=300)
    with pytest.raises(ValueError, match="market_match"):
        validate_priorities(simdir, market_match="centroid")  # type: ignore[arg-type]


def test_precision_at_k_and_market_matching() -> None:
    assert precision_at_k(["a", "b", "c"], ["c", "a", "d"], 3) == pytest.approx(2 / 3)
    assert precision_at_k(["a"], ["a", "b"], 2) == 0.5  # a short ranking misses
    areas = [("big", [(0, 0), (250, 0), (500, 0)]), ("small", [(500, 0)])]
    truth = [("M1", (0.0, 0.0)), ("M2", (250.0, 0.0)), ("M3", (500.0, 0.0))]
    pairs = market_hits(areas, truth)
    assert len(pairs) == 2 and ("small", "M3") in pairs
    assert market_hits([], truth) == []


def test_truth_rankings_aggregate_and_order() -> None:
    places = pd.DataFrame(
        {
            "month": ["2021-01", "2021-02", "2021-01", "2021-01"],
            "cell_x": [470000, 470000, 470250, 470500],
            "cell_y": [262000, 262000, 262250, 262000],
            "true_harm": [10.0, 5.0, 20.0, 0.0],
        }
    )
    fine = true_place_ranking(places)
    assert list(fine["unit_id"]) == ["cell-250m-470250-262250", "cell-250m-470000-262000"]
    coarse = true_place_ranking(places, cell_size=500)
    assert list(coarse["unit_id"]) == ["cell-500m-470000-262000"]
    info = pd.DataFrame(
        {"market_id": ["M1", "M2", "M3"], "cell_x": [470250] * 3, "cell_y": [262250] * 3}
    )
    mm = pd.DataFrame({"market_id": ["M1", "M2", "M2", "M3"], "true_harm": [5.0, 3.0, 4.0, 0.0]})
    ranked = true_market_ranking(info, mm, cell_size=500)
    assert list(ranked["market_id"]) == ["M2", "M1"]


def test_docs_name_every_option() -> None:
    import typer.main

    docs = (Path(__file__).resolve().parents[2] / "docs" / "priorities.md").read_text()
    command = typer.main.get_command(app).commands["validate-priorities"]  # type: ignore[attr-defined]
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    assert {"--k", "--format", "--seeds", "--lens"} <= set(options)
    missing = [o for o in options if f"`{o}" not in docs and f" {o} " not in docs]
    assert not missing, f"docs/priorities.md does not mention {missing}"


# --------------------------------------------------------------------------- seeds


@pytest.mark.slow
def test_seeds_mode_two_cities(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "validate-priorities",
            "--seeds",
            "2",
            "--first-seed",
            "7",
            "--size",
            "small",
            "--months",
            "6",
            "--lens",
            "places",
            "--lens",
            "markets",
            "--cache",
            str(tmp_path),
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data) == ["places", "markets"]
    for name, entry in data.items():
        assert entry["seeds"] == [7, 8] and entry["n_seeds"] == 2
        # each mean is the mean of the per-seed values, recomputed from the one-folder run
        per = entry["per_seed"]
        for key in (
            "precision_at_k",
            "baseline_precision_at_k",
            "busyness_precision_at_k",
            "harm_captured",
        ):
            assert entry[key] == pytest.approx(np.mean([p[key] for p in per]))
        for seed_row in per:
            folder = tmp_path / f"seed-{seed_row['seed']}-small-6"
            one = validate_priorities(folder, lenses=[name], db=folder / "warehouse.duckdb")
            assert one[name].precision_at_k == seed_row["precision_at_k"]
            assert one[name].busyness_precision_at_k == seed_row["busyness_precision_at_k"]
        for baseline in ("counting", "busyness"):
            w = entry["wins"][baseline]["precision_at_k"]
            key = "baseline_precision_at_k" if baseline == "counting" else "busyness_precision_at_k"
            wins = sum(p["precision_at_k"] > p[key] for p in per)
            ties = sum(p["precision_at_k"] == p[key] for p in per)
            assert (w["wins"], w["ties"]) == (wins, ties)


def test_places_and_markets_share_one_study_area(
    simdir: Path,
    warehouse: Path,
    results: dict[str, LensValidation],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both checks ask for the city's study area; one validation computes it once.
    from harmscope.places import study_area

    calls: list[object] = []
    real = study_area._dataset_area

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(study_area, "_dataset_area", counted)
    again = validate_priorities(simdir, k=K, db=warehouse, lenses=["places", "markets"])
    assert len(calls) == 1
    for name in ("places", "markets"):
        assert again[name].to_dict() == results[name].to_dict()
