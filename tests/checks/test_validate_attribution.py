"""``validate_attribution`` and ``harmscope validate-attribution`` on SYNTHETIC cities.

The truth is recomputed here from the simulator's event records (``harm_rows``), not from
the check's own reading of ``truth/behaviour_month.csv``; the JSON contract (DESIGN §5:
``{bias, coverage, seeds}``) and the per-seed figures are checked against each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.checks.attribution import (
    MARKET_BEHAVIOURS,
    TUNING_SEEDS,
    true_market_share,
    validate_attribution,
)
from harmscope.cli import app
from harmscope.simulate import simulate
from harmscope.simulate.codes import BEHAVIOURS
from harmscope.simulate.truth import harm_rows

runner = CliRunner()


def test_true_share_from_the_event_records() -> None:
    res = simulate(seed=3, months=12, size="small")
    e = harm_rows(res)
    codes = [BEHAVIOURS.index(b) for b in MARKET_BEHAVIOURS]
    want = e.loc[e["behaviour"].isin(codes), "recorded_harm"].sum() / e["recorded_harm"].sum()
    assert true_market_share(res.truth["behaviour_month"]) == pytest.approx(want, rel=1e-6)
    # users' acquisitive crime is a market's in market_month.csv but not distribution harm
    mm = res.truth["market_month"]["recorded_harm"].sum() / e["recorded_harm"].sum()
    assert mm > want


def test_tuning_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="tune"):
        validate_attribution(3, first_seed=TUNING_SEEDS[0] - 1)
    res = runner.invoke(app, ["validate-attribution", "--seeds", "1", "--first-seed", "101"])
    assert res.exit_code == 2 and "tune" in res.stderr


@pytest.mark.slow
def test_command_end_to_end_two_seeds() -> None:
    res = runner.invoke(
        app, ["validate-attribution", "--seeds", "2", "--months", "24", "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"bias", "coverage", "seeds"} <= set(out)
    assert out["seeds"] == [1, 2]
    runs = out["runs"]
    assert [r["seed"] for r in runs] == [1, 2]
    for r in runs:
        # the true share, recomputed from the simulation's event records
        sim = simulate(seed=r["seed"], months=24, size="small")
        e = harm_rows(sim)
        codes = [BEHAVIOURS.index(b) for b in MARKET_BEHAVIOURS]
        truth = e.loc[e["behaviour"].isin(codes), "recorded_harm"].sum()
        assert r["true_share"] == pytest.approx(truth / e["recorded_harm"].sum(), rel=1e-6)
        assert r["relative_error"] == pytest.approx(r["share"] / r["true_share"] - 1)
        assert r["covered"] == (r["share_low"] <= r["true_share"] <= r["share_high"])
        assert r["share_low"] <= r["share"] <= r["share_high"]
        assert r["markets_true"] == len(sim.truth["markets"])
    assert out["bias"] == pytest.approx(np.mean([r["relative_error"] for r in runs]))
    assert out["coverage"] == pytest.approx(np.mean([r["covered"] for r in runs]))
    assert out["targets_met"] is False  # two seeds are never enough
    table = runner.invoke(app, ["validate-attribution", "--seeds", "2", "--months", "24"])
    assert table.exit_code == 0
    assert "bias" in table.stdout and "targets NOT met" in table.stdout


def test_json_contract_shape() -> None:
    """DESIGN §5: ``{bias, coverage, seeds}`` (plus the runs that produce them)."""
    from harmscope.checks.attribution import AttributionValidation, SeedResult

    runs = [
        SeedResult(1, 6, 3, 0.08, 0.06, 0.02, 0.10, 0.06 / 0.08 - 1, True),
        SeedResult(2, 6, 2, 0.09, 0.03, -0.01, 0.05, 0.03 / 0.09 - 1, False),
    ]
    v = AttributionValidation(bias=-0.458, coverage=0.5, seeds=[1, 2], runs=runs)
    out = json.loads(json.dumps(v.to_dict()))
    assert (out["bias"], out["coverage"], out["seeds"]) == (-0.458, 0.5, [1, 2])
    assert out["n_seeds"] == 2 and out["targets_met"] is False
    assert out["tuning_seeds"] == list(TUNING_SEEDS)
    assert out["mean_true_share"] == pytest.approx(0.085)
    assert out["relative_error_sd"] == pytest.approx(
        np.std([r.relative_error for r in runs], ddof=1)
    )
    assert [r["seed"] for r in out["runs"]] == [1, 2]
    assert set(out["runs"][0]) == {
        "seed",
        "markets_true",
        "markets_found",
        "true_share",
        "share",
        "share_low",
        "share_high",
        "relative_error",
        "covered",
    }


@pytest.mark.slow
def test_report_sites_from_the_raw_files(tmp_path: Path) -> None:
    """SYNTHETIC city, seed 118 (its intelligence names markets police do not list): sites
    from graded reports recomputed from ``intel/reports.csv`` and the police.uk rows."""
    from pyproj import Transformer

    from harmscope.checks.attribution import confirmed_sites, report_sites
    from harmscope.warehouse.ingest import ingest_paths

    sim = simulate(seed=118, months=36, size="small")
    out = tmp_path / "sim"
    sim.write(out)
    db = tmp_path / "w.duckdb"
    ingest_paths(sorted(p for p in out.glob("20*") if p.is_dir()), db=db)
    known = pd.read_csv(out / "intel" / "markets.csv", dtype=str)
    reports = pd.read_csv(out / "intel" / "reports.csv", dtype=str)
    conf = confirmed_sites(known.astype({"cell_x": float, "cell_y": float}))
    assert [c.id for c in conf] == known["market_id"].tolist()
    assert all(c.centroid_x == float(x) + 125 for c, x in zip(conf, known["cell_x"], strict=True))
    sites = report_sites(reports, db, known=known["market_id"].tolist())
    # Markets named by >= 3 reports assessed 1-3 (3x5x2), not among the known ones.
    graded = reports[reports["intelligence_assessment"].isin(["1", "2", "3"])]
    counts = graded.dropna(subset=["market_id"]).groupby("market_id").size()
    want = sorted(m for m, n in counts.items() if n >= 3 and m not in set(known["market_id"]))
    assert want, "seed 118 should name an unlisted market"
    assert sorted(s.id for s in sites) == want
    # Each site: the cell of the reports' LSOA with the most drug activity in the raw rows.
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)

    def cells(frame: pd.DataFrame) -> pd.DataFrame:
        x, y = to_bng.transform(frame["Longitude"].astype(float), frame["Latitude"].astype(float))
        return frame.assign(
            cx=np.floor(np.asarray(x) / 250) * 250, cy=np.floor(np.asarray(y) / 250) * 250
        )

    street = cells(pd.concat(pd.read_csv(f, dtype=str) for f in out.glob("20*/*-street.csv")))
    search = cells(
        pd.concat(pd.read_csv(f, dtype=str) for f in out.glob("20*/*-stop-and-search.csv")).dropna(
            subset=["Longitude"]
        )
    )
    lsoa = street.groupby(["cx", "cy"])["LSOA code"].agg(lambda s: s.value_counts().index[0])
    drug_found = search[
        (search["Object of search"] == "Controlled drugs")
        & (search["Outcome linked to object of search"] == "True")
    ]
    activity = (
        street[street["Crime type"] == "Drugs"]
        .groupby(["cx", "cy"])
        .size()
        .add(drug_found.groupby(["cx", "cy"]).size(), fill_value=0)
        .reindex(lsoa.index)
        .fillna(0)
    )
    for site in sites:
        where = graded.loc[graded["market_id"] == site.id, "lsoa_code"].mode().iloc[0]
        cell = (site.centroid_x - 125, site.centroid_y - 125)
        assert lsoa[cell] == where
        assert activity[cell] == activity[lsoa[lsoa == where].index].max()


def test_report_sites_refuse_codes_outside_3x5x2(tmp_path: Path) -> None:
    """An assessment outside 1-5 (an old A-E export) is refused, not matched to nothing."""
    from harmscope.checks.attribution import report_sites

    reports = pd.DataFrame(
        {
            "market_id": ["M001"] * 3,
            "lsoa_code": ["E01000001"] * 3,
            "intelligence_assessment": ["A", "B", "2"],
        }
    )
    with pytest.raises(ValueError, match=r"intelligence_assessment: \['A', 'B'\] are not 3x5x2"):
        report_sites(reports, tmp_path / "none.duckdb")
