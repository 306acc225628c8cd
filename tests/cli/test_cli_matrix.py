"""``harmscope matrix`` and ``harmscope areas`` on real City of London data (DESIGN §5)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import load_scheme
from harmscope.warehouse.ingest import ingest_paths

SHARED = Path(
    os.environ.get("HARMSCOPE_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = SHARED / "policeuk-city-of-london-2018-12_2021-11"
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "w.duckdb"
    ingest_paths(
        [CITY / "street" / f"2020-0{m}-city-of-london-street.csv" for m in (1, 2, 3)]
        + [
            CITY / "stop-and-search" / f"2020-0{m}-city-of-london-stop-and-search.csv"
            for m in (1, 2, 3)
        ],
        db=path,
    )
    return path


def _street_counts(months: list[int]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for m in months:
        with open(CITY / "street" / f"2020-0{m}-city-of-london-street.csv", encoding="utf-8") as fh:
            seen: set[str] = set()
            for r in csv.DictReader(fh):
                if r["Crime ID"] and r["Crime ID"] in seen:
                    continue  # folded duplicate
                seen.add(r["Crime ID"])
                counts[r["Crime type"]] += 1
    return counts


def test_matrix_json_contract(db: Path) -> None:
    res = runner.invoke(
        app, ["matrix", "--db", str(db), "--from", "2020-02", "--to", "2020-03", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert {"scheme", "total", "activity", "cells"} <= set(doc)
    assert doc["scheme"] == "cchi"
    assert all(set(c) == {"harm_type", "bearer", "source", "value"} for c in doc["cells"])
    assert sum(c["value"] for c in doc["cells"]) == pytest.approx(doc["total"])
    w = {x.event_type: x for x in load_scheme("cchi").weights}
    expected = sum(
        n * w[t].weight for t, n in _street_counts([2, 3]).items() if w[t].kind == "harm"
    )
    assert doc["total"] == pytest.approx(expected)


def test_matrix_lsoa_filter_and_count_scheme(db: Path) -> None:
    res = runner.invoke(
        app,
        ["matrix", "--db", str(db), "--scheme", "count", "--lsoa", "E01000005", "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    expected = 0
    for m in (1, 2, 3):
        with open(CITY / "street" / f"2020-0{m}-city-of-london-street.csv", encoding="utf-8") as fh:
            seen: set[str] = set()
            for r in csv.DictReader(fh):
                if r["Crime ID"] and r["Crime ID"] in seen:
                    continue
                seen.add(r["Crime ID"])
                if r["LSOA code"] == "E01000005" and r["Crime type"] not in (
                    "Drugs",
                    "Possession of weapons",
                ):
                    expected += 1
    assert doc["total"] == expected


def test_matrix_csv_and_table(db: Path) -> None:
    res = runner.invoke(app, ["matrix", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert {"kind", "harm_type", "bearer", "source", "value"} <= set(rows[0])
    assert {r["kind"] for r in rows} == {"harm", "activity"}
    table = runner.invoke(app, ["matrix", "--db", str(db)])
    assert table.exit_code == 0 and "Harm total" in table.stdout


def test_bad_month_and_missing_warehouse(db: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["matrix", "--db", str(db), "--from", "2020-13"])
    assert res.exit_code == 2
    assert "2020-13" in res.stderr
    res = runner.invoke(app, ["matrix", "--db", str(tmp_path / "none.duckdb")])
    assert res.exit_code == 2
    assert "no warehouse here yet" in res.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_areas_json_ranked_by_harm(db: Path) -> None:
    res = runner.invoke(app, ["areas", "--db", str(db), "--format", "json", "--top", "5"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 5
    harms = [r["harm"] for r in rows]
    assert harms == sorted(harms, reverse=True)
    assert all(r["lsoa_name"] for r in rows)  # published names when no areas are loaded
    by_month = json.loads(
        runner.invoke(app, ["areas", "--db", str(db), "--format", "json", "--by-month"]).stdout
    )
    assert {r["month"] for r in by_month} == {"2020-01", "2020-02", "2020-03"}
    top = rows[0]["lsoa_code"]
    assert sum(r["harm"] for r in by_month if r["lsoa_code"] == top) == pytest.approx(
        rows[0]["harm"]
    )
