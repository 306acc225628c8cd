"""--harm drug|all and --type through the analyses, recomputed independently on real data.

Data: six months of City of London street crime and stop-and-search (``city_db``, 2019-01 to
2019-06), read again here with pandas from the police.uk CSVs. The expected figures use only
pandas, pyproj and the TOML files read with tomllib: a harm event's drug-attributed harm is
its scheme weight (``schemes/cchi.toml``) times the sum of its type's central fractions
(``attribution.toml``); ``--harm all`` is the weight alone; ``--type`` is a pandas filter on
the crime type.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.evaluate.counts import area_counts
from harmscope.evaluate.spec import Intervention
from harmscope.harm.attribution import DEFAULT_ATTRIBUTION_PATH
from harmscope.places.hotspots import hotspots
from harmscope.priorities import rank

runner = CliRunner()
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SCHEMES = Path(__file__).resolve().parents[2] / "src" / "harmscope" / "harm" / "data" / "schemes"
MONTHS = ("2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06")


def _city_folder() -> Path:
    import os

    base = (
        Path(os.environ["HARMSCOPE_SHARED_DATA"])
        if os.environ.get("HARMSCOPE_SHARED_DATA")
        else DATA
    )
    return base / "policeuk-city-of-london-2018-12_2021-11"


@pytest.fixture(scope="module")
def weights() -> dict[str, float]:
    """Harm-kind weights of cchi, read from the scheme file."""
    doc = tomllib.loads((SCHEMES / "cchi.toml").read_text(encoding="utf-8"))
    return {w["event_type"]: float(w["weight"]) for w in doc["weight"] if w["kind"] == "harm"}


@pytest.fixture(scope="module")
def shares() -> dict[str, float]:
    """Central drug-attributable share of each type: the sum of its sources' central values."""
    doc = tomllib.loads(DEFAULT_ATTRIBUTION_PATH.read_text(encoding="utf-8"))
    return {
        t: sum(float(f["central"]) for f in sources.values())
        for t, sources in doc["fractions"].items()
    }


def _records() -> pd.DataFrame:
    """The six months of street rows, one per Crime ID and month as ingest folds them (the
    located row kept; rows with no Crime ID, e.g. anti-social behaviour, all kept)."""
    folder = _city_folder() / "street"
    frame = pd.concat(
        [pd.read_csv(folder / f"{m}-city-of-london-street.csv") for m in MONTHS],
        ignore_index=True,
    )
    frame = frame.assign(_unlocated=frame["Longitude"].isna()).sort_values(
        "_unlocated", kind="stable"
    )
    keyed = frame["Crime ID"].notna()
    folded = frame[keyed].drop_duplicates(["Crime ID", "Month"])
    return pd.concat([folded, frame[~keyed]]).sort_index()


@pytest.fixture(scope="module")
def street() -> pd.DataFrame:
    """The folded street records with a location, with their 250 m BNG cell."""
    frame = _records().dropna(subset=["Longitude", "Latitude"])
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(frame["Longitude"].to_numpy(), frame["Latitude"].to_numpy())
    frame["cell_x"] = np.floor(np.asarray(x) / 250) * 250
    frame["cell_y"] = np.floor(np.asarray(y) / 250) * 250
    return frame


def _by_cell(frame: pd.DataFrame) -> pd.DataFrame:
    """A result indexed by (cell_x, cell_y) as floats, the pandas side's keys."""
    return frame.astype({"cell_x": float, "cell_y": float}).set_index(["cell_x", "cell_y"])


def _per_cell(street: pd.DataFrame, value: pd.Series) -> pd.Series:
    return street.assign(v=value).groupby(["cell_x", "cell_y"])["v"].sum()


def test_hotspot_harm_per_cell_is_weight_times_drug_share(
    city_db: Path, street: pd.DataFrame, weights: dict[str, float], shares: dict[str, float]
) -> None:
    # within=None: every cell holding a located record, so no stray is left out.
    got = _by_cell(hotspots(city_db, within=None))["harm"]
    kind = street["Crime type"]
    drug = kind.map(weights).fillna(0.0) * kind.map(shares).fillna(0.0)
    expected = _per_cell(street, drug)
    assert len(expected) > 50
    np.testing.assert_allclose(
        got.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-9
    )
    assert got.sum() == pytest.approx(drug.sum())
    # --harm all gives the old numbers: the weight alone.
    every = _by_cell(hotspots(city_db, within=None, harm="all"))["harm"]
    assert every.sum() == pytest.approx(kind.map(weights).fillna(0.0).sum())
    assert every.sum() > 2 * got.sum()  # drugs are a part of crime harm, not all of it
    out = hotspots(city_db, within=None)
    assert (out.attrs["harm_view"], out.attrs["harm_label"]) == ("drug", "drug-attributed harm")


def test_type_burglary_equals_a_pandas_filter(
    city_db: Path, street: pd.DataFrame, weights: dict[str, float], shares: dict[str, float]
) -> None:
    burglary = street[street["Crime type"] == "Burglary"]
    assert len(burglary) > 10
    one = weights["Burglary"] * shares["Burglary"]
    # hot spots, per cell
    found = hotspots(city_db, within=None, types=["burglary"])
    spots = _by_cell(found)
    expected = burglary.groupby(["cell_x", "cell_y"]).size() * one
    nonzero = spots[spots["harm"] > 0]["harm"]
    assert sorted(nonzero.index) == sorted((float(x), float(y)) for x, y in expected.index)
    np.testing.assert_allclose(
        nonzero.reindex(expected.index).to_numpy(), expected.to_numpy(), rtol=1e-9
    )
    assert found.attrs["types"] == ["Burglary"]
    assert spots["activity"].sum() == 0  # no search or drug offence is a burglary
    # the matrix, every Burglary record (located or not)
    res = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--type", "BURGLARY", "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    street_all = _records()
    n_all = int((street_all["Crime type"] == "Burglary").sum())
    assert doc["total"] == pytest.approx(n_all * one)
    assert doc["types"] == ["Burglary"] and doc["harm"] == "drug"
    every = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--type", "burglary", "--harm", "ALL", "--format",
              "json"],
    )  # fmt: skip
    assert json.loads(every.stdout)["total"] == pytest.approx(n_all * weights["Burglary"])
    # priorities, places lens: each ranked cell's harm is its burglary harm (its score is
    # the forecast of it, docs/forecast.md)
    ranked = rank("places", city_db, types=["Burglary"])
    assert ranked.attrs["types"] == ["Burglary"]
    for row in ranked.itertuples():
        assert row.harm == pytest.approx(expected[(row.cell_x, row.cell_y)])
    assert len(ranked) <= len(expected)
    res = runner.invoke(
        app,
        ["priorities", "--lens", "places", "--db", str(city_db), "--type", "Burglary",
         "--format", "json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert {r["harm_view"] for r in rows} == {"drug-attributed harm"}
    # the CLI's score is the board's (docs/priorities.md); the lens's own is lens_score
    lens_scores = dict(zip(ranked["unit_id"], ranked["score"], strict=True))
    assert {r["unit_id"]: r["lens_score"] for r in rows} == pytest.approx(lens_scores)


def test_unknown_type_is_refused_listing_the_valid_ones(city_db: Path) -> None:
    for command in (["matrix"], ["hotspots"], ["priorities", "--lens", "places"], ["areas"]):
        res = runner.invoke(app, [*command, "--db", str(city_db), "--type", "Burglry"])
        assert res.exit_code == 2, (command, res.stdout)
        assert "--type 'Burglry'" in res.stderr
        assert "Violence and sexual offences" in res.stderr and "Burglary" in res.stderr
    bad = runner.invoke(app, ["hotspots", "--db", str(city_db), "--harm", "some"])
    assert bad.exit_code == 2 and "--harm: expected drug or all" in bad.stderr


def test_an_empty_selection_says_so(city_db: Path) -> None:
    # 'Public disorder and weapons' was split in 2013: no 2019 record has that type.
    for command in (["matrix"], ["hotspots"], ["markets"], ["concentration"]):
        res = runner.invoke(
            app, [*command, "--db", str(city_db), "--type", "public disorder and weapons"]
        )
        assert res.exit_code == 2, (command, res.stdout)
        assert "records of type Public disorder and weapons" in res.stderr
        assert res.stdout == ""


def test_dropped_and_strays_describe_the_selection(city_db: Path, street: pd.DataFrame) -> None:
    res = runner.invoke(app, ["hotspots", "--db", str(city_db), "--type", "shoplifting"])
    assert res.exit_code == 0, res.stderr
    n = int((street["Crime type"] == "Shoplifting").sum())
    assert f"selection: {n:,} located records of type Shoplifting in the period" in res.stderr


def test_markets_measure_the_types_asked_for(city_db: Path) -> None:
    from harmscope.markets import markets

    drug = markets(city_db)
    every = markets(city_db, harm="all")
    violence = markets(city_db, types=["Violence and sexual offences"])
    assert drug and [m.cells for m in drug] == [m.cells for m in violence]  # same detection
    by_cells = {m.cells: m for m in every}
    for m in drug:
        assert m.matrix.harm == "drug"
        assert m.harm == pytest.approx(by_cells[m.cells].matrix.drug_attributed)
    for m in violence:
        assert {t["event_type"] for t in m.top_types} <= {"Violence and sexual offences"}
        assert m.harm <= by_cells[m.cells].matrix.drug_attributed + 1e-9


def test_evaluation_weights_are_drug_attributed_counts_unchanged(
    city_db: Path, weights: dict[str, float], shares: dict[str, float]
) -> None:
    doc = {"target": "all", "pre": "2019-01:2019-03", "post": "2019-04:2019-06"}
    drug = area_counts(Intervention.from_dict(doc), db=city_db)
    every = area_counts(Intervention.from_dict({**doc, "harm": "all"}), db=city_db)
    assert drug["count"].tolist() == every["count"].tolist()
    w = drug[drug["kind"] == "harm"].groupby("event_type")["weight"].first()
    for event_type, value in w.items():
        assert value == pytest.approx(weights[event_type] * shares[event_type])
    burglary = area_counts(Intervention.from_dict({**doc, "types": ["burglary"]}), db=city_db)
    assert set(burglary["event_type"]) == {"Burglary"}


def test_evaluate_report_and_json_name_the_view(city_db: Path, tmp_path: Path) -> None:
    args = ["evaluate", "--db", str(city_db), "--target", "all", "--pre", "2019-01:2019-03",
            "--post", "2019-04:2019-06", "--format", "json"]  # fmt: skip
    drug = runner.invoke(app, [*args, "--out", str(tmp_path / "d")])
    every = runner.invoke(app, [*args, "--harm", "all", "--type", "Burglary"])
    assert drug.exit_code == 0 and every.exit_code == 0, (drug.stderr, every.stderr)
    d, e = json.loads(drug.stdout), json.loads(every.stdout)
    assert (d["harm_view"], d["harm_label"], d["types"]) == ("drug", "drug-attributed harm", None)
    assert (e["harm_view"], e["types"]) == ("all", ["Burglary"])
    html = (tmp_path / "d" / "intervention.html").read_text(encoding="utf-8")
    assert "<strong>drug-attributed harm</strong>" in html
