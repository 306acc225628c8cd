"""The matrix with measured and assessed cells, end to end: City of London (real police.uk
records and real drug statistics) and a small SYNTHETIC simulated city; an assessment round
trip. Figures recomputed with pandas and scipy."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import gamma
from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()
DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
ADMISSIONS = DATA / "drug-area-stats-britishdrugdynamics" / "drugs_usage" / "hospital_admissions"
DESIGN_KEYS = {"scheme", "total", "not_attributed", "activity", "cells"}
CELL_KEYS = {"harm_type", "bearer", "source", "value", "low", "high"}


def _json(args: list[str]) -> dict[str, object]:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    doc: dict[str, object] = json.loads(res.stdout)
    return doc


@pytest.fixture
def city(city_db: Path, tmp_path: Path) -> Path:
    """A copy of the six-month City warehouse (2019-01..06) with the force's admissions."""
    db = tmp_path / "city.duckdb"
    shutil.copy(city_db, db)
    res = runner.invoke(
        app, ["load-partners", str(ADMISSIONS / "local_resolution"), "--db", str(db)]
    )
    assert res.exit_code == 0, res.output
    assert "2020 row of a hospital-admissions file is refused" in res.stderr
    return db


def test_city_matrix_json_keeps_its_shape_and_adds_measured_cells(
    city: Path, city_db: Path
) -> None:
    before = _json(["matrix", "--db", str(city_db), "--format", "json"])
    doc = _json(["matrix", "--db", str(city), "--format", "json", "--to", "2019-12"])
    assert set(doc) >= DESIGN_KEYS and {"measured", "assessed", "apart"} <= set(doc)
    cells = doc["cells"]
    assert isinstance(cells, list) and cells
    for c in cells:
        assert set(c) >= CELL_KEYS and c["low"] <= c["value"] <= c["high"]
        if c["value"]:
            assert c["explanation"].startswith(f"{c['value']:,.0f} days of imprisonment")
            assert "times the cited share attributable to" in c["explanation"]
        else:
            assert (
                c["explanation"]
                == "0 days of imprisonment: no recorded crime of the period lands in this cell."
            )
    # Measured cells are beside the matrix, never in it: the totals are those of the matrix
    # of the same events without any partner data.
    assert doc["total"] == before["total"] and doc["not_attributed"] == before["not_attributed"]
    measured = {m["indicator"]: m for m in doc["measured"]}  # type: ignore[attr-defined]
    # The force's 2019 figure as published (the year lies inside --to 2019-12).
    published = pd.read_csv(ADMISSIONS / "local_resolution" / "misuse_polices.csv")
    want = float(published.set_index("year").loc[2019, "City of London"])
    poisoning = measured["drug_poisoning_admissions"]
    assert poisoning["value"] == want == 35.0
    assert poisoning["low"] == pytest.approx(gamma.ppf(0.025, want))
    assert poisoning["high"] == pytest.approx(gamma.ppf(0.975, want + 1))
    assert poisoning["areas"] == ["City of London"] and poisoning["periods"] == ["2019"]
    assert "Hackney" in poisoning["note"] and "Hackney" in poisoning["explanation"]
    assert measured["nil_find_searches"]["source"] == "control"
    # Without the end of 2019 no year lies wholly inside the period: unknown, not zero.
    half = _json(["matrix", "--db", str(city), "--format", "json"])
    short = {m["indicator"]: m for m in half["measured"]}  # type: ignore[attr-defined]
    assert short["drug_poisoning_admissions"]["value"] is None
    assert "no period wholly inside" in short["drug_poisoning_admissions"]["note"]


def test_city_table_explains_every_cell_it_shows(city: Path) -> None:
    res = runner.invoke(
        app, ["matrix", "--db", str(city), "--to", "2019-12"], env={"COLUMNS": "200"}
    )
    assert res.exit_code == 0, res.output
    text = res.stdout
    assert "Where each number comes from:" in text
    # Sentences wrap at the terminal width: read them with the line breaks undone.
    flat = " ".join(text.split())
    assert flat.count("- health/individuals/use:") == 1
    sentence = flat.split("- health/individuals/use:")[1].split(" - ")[0]
    assert "times the cited share attributable to drug use" in sentence
    assert "Measured cells (own units, not in the harm total)" in text
    assert "Hospital admissions for poisoning by drug misuse: 35 admissions" in text
    assert "Neither is included in total." in text


@pytest.fixture(scope="module")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """SYNTHETIC: a small simulated city (seed 4, 12 months), ingested with its partners."""
    folder = tmp_path_factory.mktemp("sim")
    out, db = folder / "city", folder / "sim.duckdb"
    assert (
        runner.invoke(
            app, ["simulate", "--seed", "4", "--months", "12", "--out", str(out)]
        ).exit_code
        == 0
    )
    months = sorted(str(p) for p in out.glob("20*"))
    assert runner.invoke(app, ["ingest", *months, "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["load-partners", str(out / "partners"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    return out, db


def test_simulated_partner_cells_sum_the_partner_file(sim_db: tuple[Path, Path]) -> None:
    out, db = sim_db
    raw = pd.read_csv(out / "partners" / "indicators.csv")
    spring = raw[raw["month"].between("2021-03", "2021-05")]
    doc = _json(
        ["matrix", "--db", str(db), "--format", "json", "--from", "2021-03", "--to", "2021-05"]
    )
    m = {c["indicator"]: c for c in doc["measured"]}  # type: ignore[attr-defined]
    assert m["needle_finds"]["value"] == spring["needle_finds"].sum()
    assert (m["needle_finds"]["harm_type"], m["needle_finds"]["bearer"]) == (
        "environmental",
        "communities",
    )
    assert m["drug_deaths"]["value"] == spring["drug_deaths"].sum()
    assert m["nonfatal_overdoses"]["value"] == spring["overdoses"].sum()
    assert m["treatment_entries"]["basis"] == "service" and m["treatment_entries"]["source"] is None
    n = spring["needle_finds"].sum()
    assert m["needle_finds"]["high"] == pytest.approx(gamma.ppf(0.975, n + 1))
    # One LSOA: only its rows.
    lsoa = str(raw.groupby("lsoa_code")["needle_finds"].sum().idxmax())
    one = _json(["matrix", "--db", str(db), "--format", "json", "--lsoa", lsoa])
    needles = next(c for c in one["measured"] if c["indicator"] == "needle_finds")  # type: ignore[attr-defined]
    assert needles["value"] == raw.loc[raw["lsoa_code"] == lsoa, "needle_finds"].sum()
    # CSV: measured and service rows follow the matrix, each with its sentence.
    res = runner.invoke(app, ["matrix", "--db", str(db), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    kinds = {r["kind"] for r in rows}
    assert {"harm", "activity", "measured", "service"} <= kinds
    assert all(r["explanation"] for r in rows)


def test_assessment_round_trip(sim_db: tuple[Path, Path], tmp_path: Path) -> None:
    _, shared = sim_db
    db = tmp_path / "w.duckdb"
    shutil.copy(shared, db)
    before = _json(["matrix", "--db", str(db), "--format", "json"])
    base = [
        "assess", "add", "--harm-type", "social", "--bearer", "individuals",
        "--source", "distribution", "--category", "exploitation", "--incidence", "recurrent",
        "--evidence", "four county-lines referrals", "--by", "analyst", "--db", str(db),
    ]  # fmt: skip
    first = runner.invoke(app, [*base, "--severity", "serious", "--confidence", "low"])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("assessment 1: social/individuals/distribution: Analyst")
    second = runner.invoke(app, [*base, "--severity", "grave", "--confidence", "high"])
    assert second.exit_code == 0 and second.stdout.startswith("assessment 2:")
    listed = _json(["assess", "list", "--db", str(db), "--format", "json"])
    cells = listed["assessed"]
    assert isinstance(cells, list) and len(cells) == 1
    latest = cells[0]
    assert (latest["assessment_id"], latest["severity"], latest["superseded"]) == (2, "grave", 1)
    assert latest["priority"] == latest["priority_low"] == latest["priority_high"] == "high"
    assert (
        latest["assessed_by"] == "analyst" and latest["evidence"] == "four county-lines referrals"
    )
    every = _json(["assess", "list", "--db", str(db), "--format", "json", "--all"])
    assert [c["assessment_id"] for c in every["assessed"]] == [2, 1]  # type: ignore[attr-defined]
    after = _json(["matrix", "--db", str(db), "--format", "json"])
    assert [c["assessment_id"] for c in after["assessed"]] == [2]  # type: ignore[attr-defined]
    assert after["total"] == before["total"] and after["cells"] == before["cells"]
    bad = runner.invoke(app, [*base, "--severity", "awful", "--confidence", "low"])
    assert bad.exit_code == 2 and "--severity: expected one of marginal" in bad.stderr
    assert (
        len(_json(["assess", "list", "--db", str(db), "--format", "json", "--all"])["assessed"])
        == 2
    )  # type: ignore[arg-type]


def test_report_shows_measured_cells_under_its_small_number_rules(
    sim_db: tuple[Path, Path], tmp_path: Path
) -> None:
    from bs4 import BeautifulSoup

    out, db = sim_db
    html = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "--db", str(db), "--out", str(html)])
    assert res.exit_code == 0, res.output
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    tables = {t.find("th").get_text(): t for t in soup.find_all("table")}
    harm = tables["harm type"]
    assert "where the number comes from" in [th.get_text() for th in harm.find_all("th")]
    first = [td.get_text() for td in harm.find_all("tr")[1].find_all("td")]
    # The sentence names where the number comes from, never the number itself.
    assert first[-1].startswith("Police-recorded") and first[4] not in first[-1]
    rows = {
        tr.find_all("td")[0].get_text(): [td.get_text() for td in tr.find_all("td")]
        for tr in tables["measured"].find_all("tr")[1:]
    }
    raw = pd.read_csv(out / "partners" / "indicators.csv")
    deaths, needles = int(raw["drug_deaths"].sum()), int(raw["needle_finds"].sum())
    assert 0 < deaths < 10 and needles >= 10
    assert rows["Drug deaths"][2:4] == ["<10", ""]  # small count and its interval withheld
    assert rows["Discarded needles found"][2] == f"{needles:,}"
    assert rows["Entries into drug treatment"][1] == "service (not harm)"


@pytest.mark.slow
def test_docs_quote_the_city_figures(tmp_path: Path) -> None:
    """docs/harm-model.md quotes the measured cells of City of London 2019; rerun its
    commands and find each figure in the page."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "harm-model.md").read_text("utf-8")
    db = tmp_path / "col.duckdb"
    city = DATA / "policeuk-city-of-london-2018-12_2021-11"
    assert runner.invoke(app, ["ingest", str(city), "--db", str(db)]).exit_code == 0
    drugs = ADMISSIONS.parent
    loaded = runner.invoke(app, ["load-partners", str(drugs), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    line = loaded.stdout.strip()
    assert line == "9,627 partner indicator rows loaded from 13 files" and line in doc
    assert "9 file(s): the 2020 row" in loaded.stderr
    res = _json(
        ["matrix", "--db", str(db), "--from", "2019-01", "--to", "2019-12", "--format", "json"]
    )
    m = {c["indicator"]: c for c in res["measured"]}  # type: ignore[attr-defined]
    quoted = [
        f"admissions for poisoning by drug misuse {m['drug_poisoning_admissions']['value']:,.0f} "
        f"({m['drug_poisoning_admissions']['low']:,.1f}–{m['drug_poisoning_admissions']['high']:,.1f})",
        f"admissions {m['drug_disorder_admissions_primary']['value']:,.0f} "
        f"({m['drug_disorder_admissions_primary']['low']:,.1f}–"
        f"{m['drug_disorder_admissions_primary']['high']:,.1f})",
        f"primary or secondary {m['drug_disorder_admissions_any']['value']:,.0f} "
        f"({m['drug_disorder_admissions_any']['low']:,.1f}–{m['drug_disorder_admissions_any']['high']:,.1f})",
        f"found nothing {m['nil_find_searches']['value']:,.0f} "
        f"({m['nil_find_searches']['low']:,.0f}–{m['nil_find_searches']['high']:,.0f})",
        f"enforcement {m['violence_after_enforcement']['value']:,.1f} days "
        f"(−{-m['violence_after_enforcement']['low']:,.1f} to "
        f"{m['violence_after_enforcement']['high']:,.1f}: no clear excess)",
    ]
    flat = " ".join(doc.replace("#", " ").split())
    for text in quoted:
        assert text in flat, text
    assert m["drug_misuse_deaths"]["value"] is None
