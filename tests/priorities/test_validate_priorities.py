"""``validate_priorities`` and ``harmscope validate-priorities`` on a small simulated city.

Every precision is recomputed here from the truth CSVs and the lens output with pandas (and a
brute-force matching for markets), independently of :mod:`harmscope.checks.priorities`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.checks.priorities import (
    LensValidation,
    SimulationFolderError,
    market_hits,
    precision_at_k,
    true_market_ranking,
    true_place_ranking,
    validate_priorities,
)
from harmscope.cli import app
from harmscope.markets import markets
from harmscope.priorities import rank_markets, rank_places
from harmscope.simulate import simulate

SEED = 1
MONTHS = 6
K = 10

runner = CliRunner()


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


def test_places_precision_recomputed_from_truth_and_lens(
    simdir: Path, warehouse: Path, results: dict[str, LensValidation]
) -> None:
    truth = _truth(simdir, "places").groupby(["cell_x", "cell_y"])["true_harm"].sum()
    truth = truth[truth > 0]
    true_top = {f"cell-250m-{int(x)}-{int(y)}" for x, y in truth.nlargest(K).index}
    v = results["places"]
    assert v.available and v.k == K and v.k_effective == K
    assert v.n_true == len(truth)
    assert set(v.true_top) == true_top
    for scheme, got, predicted in (
        ("cchi", v.precision_at_k, v.predicted),
        ("count", v.baseline_precision_at_k, v.baseline_predicted),
    ):
        lens = rank_places(warehouse, scheme=scheme, top=K, harm="all", score_by="harm")
        ids = [
            f"cell-250m-{int(x)}-{int(y)}" for x, y in zip(lens.cell_x, lens.cell_y, strict=True)
        ]
        assert list(predicted) == ids
        expected = len(set(ids) & true_top) / K
        assert got == pytest.approx(expected)
        assert 0.0 <= got <= 1.0
    # The two rankings differ: the baseline is a different ranking, not a copy.
    assert v.predicted != v.baseline_predicted


def _max_matching(areas: list[set[tuple[float, float]]], cells: list[tuple[float, float]]) -> int:
    """Largest one-to-one matching by brute force over assignments of true markets."""
    for size in range(min(len(areas), len(cells)), 0, -1):
        for chosen in itertools.combinations(range(len(cells)), size):
            for order in itertools.permutations(range(len(areas)), size):
                if all(cells[c] in areas[a] for c, a in zip(chosen, order, strict=True)):
                    return size
    return 0


def test_markets_precision_recomputed_from_truth_and_lens(
    simdir: Path, warehouse: Path, results: dict[str, LensValidation]
) -> None:
    harm = _truth(simdir, "market_month").groupby("market_id")["true_harm"].sum()
    info = _truth(simdir, "markets").set_index("market_id")
    harm = harm[harm > 0].sort_values(ascending=False)
    k_eff = min(K, len(harm))
    top_ids = list(harm.index[:k_eff])
    cells = [(float(info.at[m, "cell_x"]), float(info.at[m, "cell_y"])) for m in top_ids]
    v = results["markets"]
    assert v.available and v.n_true == len(harm) and v.k_effective == k_eff
    assert list(v.true_top) == top_ids
    for scheme, got, predicted in (
        ("cchi", v.precision_at_k, v.predicted),
        ("count", v.baseline_precision_at_k, v.baseline_predicted),
    ):
        lens = rank_markets(warehouse, scheme=scheme, top=k_eff)
        assert list(predicted) == list(lens["unit_id"])
        found = {m.id: m for m in markets(warehouse, scheme=scheme)}
        areas = [set(found[u].area_cells) for u in lens["unit_id"]]
        expected = _max_matching(areas, cells) / k_eff
        assert got == pytest.approx(expected)
        assert 0.0 <= got <= 1.0
    # At least one true market is found by the harm lens on this city.
    assert v.hits is not None and v.hits >= 1


def test_people_and_behaviours_reported_unavailable_not_zero(
    results: dict[str, LensValidation],
) -> None:
    for name in ("people", "groups", "behaviours"):
        v = results[name]
        assert not v.available
        assert v.precision_at_k is None and v.baseline_precision_at_k is None
        assert v.reason is not None and "not implemented" in v.reason


def test_cli_json_contract(simdir: Path, results: dict[str, LensValidation]) -> None:
    res = runner.invoke(
        app, ["validate-priorities", str(simdir), "--k", str(K), "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert list(data)[:5] == ["places", "markets", "people", "groups", "behaviours"]
    for name, entry in data.items():
        assert {"precision_at_k", "baseline_precision_at_k", "k", "n_true"} <= set(entry)
        if entry["available"]:
            for key in ("precision_at_k", "baseline_precision_at_k"):
                assert isinstance(entry[key], float) and 0.0 <= entry[key] <= 1.0
            # A fresh temporary warehouse gives the same numbers as the library run.
            assert entry["precision_at_k"] == results[name].precision_at_k
            assert entry["baseline_precision_at_k"] == results[name].baseline_precision_at_k
            assert entry["k"] == K
        else:
            assert entry["precision_at_k"] is None and entry["reason"]


def test_cli_table_and_errors(
    simdir: Path, results: dict[str, LensValidation], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The numbers are checked above; here only the table built from them, so reuse them.
    seen: dict[str, object] = {}

    def fake(folder: Path, **options: object) -> dict[str, LensValidation]:
        seen.update(options, folder=folder)
        return results

    monkeypatch.setattr("harmscope.cli.validate.validate_priorities", fake)
    res = runner.invoke(
        app, ["validate-priorities", str(simdir), "--k", "7", "--market-match", "footprint"]
    )
    assert res.exit_code == 0, res.output
    assert seen["k"] == 7 and seen["market_match"] == "footprint" and seen["folder"] == simdir
    places = next(line for line in res.stdout.splitlines() if "places" in line)
    p, b = results["places"].precision_at_k, results["places"].baseline_precision_at_k
    assert f"{p:.2f}" in places and f"{b:.2f}" in places
    assert "people: unavailable" in res.stdout
    monkeypatch.undo()
    bad = runner.invoke(app, ["validate-priorities", str(simdir / "intel")])
    assert bad.exit_code == 2
    assert "truth/places.csv" in bad.output
    fmt = runner.invoke(app, ["validate-priorities", str(simdir), "--format", "xml"])
    assert fmt.exit_code == 2 and "--format" in fmt.output


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
    # One detected area over two true markets earns one hit; the other area finds the third.
    areas = [("big", [(0, 0), (250, 0), (500, 0)]), ("small", [(500, 0)])]
    truth = [("M1", (0.0, 0.0)), ("M2", (250.0, 0.0)), ("M3", (500.0, 0.0))]
    pairs = market_hits(areas, truth)
    assert len(pairs) == 2
    assert ("small", "M3") in pairs
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
    assert list(fine["true_harm"]) == [20.0, 15.0]
    coarse = true_place_ranking(places, cell_size=500)
    assert list(coarse["unit_id"]) == ["cell-500m-470000-262000"]
    assert list(coarse["true_harm"]) == [35.0]
    info = pd.DataFrame(
        {"market_id": ["M1", "M2", "M3"], "cell_x": [470250] * 3, "cell_y": [262250] * 3}
    )
    mm = pd.DataFrame({"market_id": ["M1", "M2", "M2", "M3"], "true_harm": [5.0, 3.0, 4.0, 0.0]})
    ranked = true_market_ranking(info, mm, cell_size=500)
    assert list(ranked["market_id"]) == ["M2", "M1"]
    assert list(ranked["cell_x"]) == [470000.0, 470000.0]


def test_docs_name_every_option() -> None:
    import typer.main

    docs = (Path(__file__).resolve().parents[2] / "docs" / "priorities.md").read_text()
    command = typer.main.get_command(app).commands["validate-priorities"]  # type: ignore[attr-defined]
    options = [o for p in command.params for o in p.opts if o.startswith("--")]
    assert "--k" in options and "--format" in options
    missing = [o for o in options if f"`{o}" not in docs and f" {o} " not in docs]
    assert not missing, f"docs/priorities.md does not mention {missing}"
