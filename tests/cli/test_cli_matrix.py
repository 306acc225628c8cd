"""``harmscope matrix`` and ``harmscope areas`` on real City of London data (DESIGN §5)."""

from __future__ import annotations

import csv
import io
import json
import os
import tomllib
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import harmscope.harm
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
    assert {"scheme", "total", "not_attributed", "activity", "cells"} <= set(doc)
    assert doc["scheme"] == "cchi" and doc["harm"] == "drug"
    assert doc["view"] == "drug-attributed harm"
    for c in doc["cells"]:
        assert {"harm_type", "bearer", "source", "value", "low", "high"} <= set(c)
        assert c["basis"] == "fraction" and c["source"] != "not_attributed"
        assert set(c["refs"]) <= set(doc["attribution"]["references"])
    assert sum(c["value"] for c in doc["cells"]) == pytest.approx(doc["total"])
    w = {x.event_type: x for x in load_scheme("cchi").weights}
    all_harm = sum(
        n * w[t].weight for t, n in _street_counts([2, 3]).items() if w[t].kind == "harm"
    )
    assert doc["total"] + doc["not_attributed"] == pytest.approx(all_harm)
    everything = runner.invoke(
        app,
        ["matrix", "--db", str(db), "--from", "2020-02", "--to", "2020-03", "--format", "json",
         "--harm", "all"],
    )  # fmt: skip
    assert everything.exit_code == 0, everything.output
    doc_all = json.loads(everything.stdout)
    assert doc_all["total"] == pytest.approx(all_harm)  # the all-crime total as before
    assert doc_all["not_attributed"] == pytest.approx(doc["not_attributed"])


def test_matrix_lsoa_filter_and_count_scheme(db: Path) -> None:
    res = runner.invoke(
        app,
        [
            "matrix",
            "--db",
            str(db),
            "--scheme",
            "count",
            "--lsoa",
            "E01000005",
            "--format",
            "json",
            "--harm",
            "all",
        ],
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
    assert doc["total"] == pytest.approx(expected)


def test_matrix_csv_and_table(db: Path) -> None:
    res = runner.invoke(app, ["matrix", "--db", str(db), "--format", "csv"])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert {"view", "kind", "harm_type", "bearer", "source", "value", "low", "high"} <= set(rows[0])
    # Measured cells (harms of control from the searches) follow, in their own units.
    assert {r["kind"] for r in rows} == {"harm", "activity", "measured"}
    assert {r["view"] for r in rows} == {"drug-attributed harm"}
    rows_all = list(
        csv.DictReader(
            io.StringIO(
                runner.invoke(
                    app, ["matrix", "--db", str(db), "--format", "csv", "--harm", "all"]
                ).stdout
            )
        )
    )
    assert {r["view"] for r in rows_all} == {"all crime harm"}
    assert "not_attributed" in {r["source"] for r in rows_all}
    table = runner.invoke(app, ["matrix", "--db", str(db)])
    assert table.exit_code == 0 and "Harm total (drug-attributed harm)" in table.stdout
    assert "drug-attributed harm" in table.stdout and "not attributed to drugs" in table.stdout
    table_all = runner.invoke(app, ["matrix", "--db", str(db), "--harm", "all"])
    assert table_all.exit_code == 0 and "Harm total (all crime harm)" in table_all.stdout
    bad = runner.invoke(app, ["matrix", "--db", str(db), "--harm", "some"])
    assert bad.exit_code == 2 and "--harm" in bad.stderr


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


# --- City of London, 2019-01 to 2019-06 (tests/conftest.py city_db), recomputed with SQL ----


def _fractions() -> dict[str, dict[str, dict[str, float]]]:
    """The packaged fractions read with tomllib, not through the loader."""
    path = Path(harmscope.harm.__file__).parent / "data" / "attribution.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["fractions"]


def _harm_by_type(city_db: Path) -> dict[str, float]:
    """All-crime harm per event type: street rows x cchi weight, harm kinds only (SQL)."""
    weights = load_scheme("cchi")
    with duckdb.connect(str(city_db), read_only=True) as con:
        rows = con.execute(
            "SELECT event_type, count(*) FROM events WHERE source = 'street' GROUP BY 1"
        ).fetchall()
    kinds = {w.event_type: (w.kind, w.weight) for w in weights.weights}
    return {t: n * kinds[t][1] for t, n in rows if kinds[t][0] == "harm"}


def test_city_drug_total_is_harm_times_central_fraction(city_db: Path) -> None:
    fractions = _fractions()
    harm = _harm_by_type(city_db)
    drug = sum(h * sum(f["central"] for f in fractions[t].values()) for t, h in harm.items())
    low = sum(h * sum(f["low"] for f in fractions[t].values()) for t, h in harm.items())
    high = sum(h * sum(f["high"] for f in fractions[t].values()) for t, h in harm.items())
    # --no-local: the cited fractions alone (the local excess is tested below)
    res = runner.invoke(app, ["matrix", "--db", str(city_db), "--format", "json", "--no-local"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["total"] == pytest.approx(drug, rel=1e-9)
    assert (doc["total_low"], doc["total_high"]) == (
        pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))  # fmt: skip
    assert doc["not_attributed"] == pytest.approx(sum(harm.values()) - drug, rel=1e-9)
    for c in doc["cells"]:
        assert c["low"] <= c["value"] <= c["high"]
    # Drug harm is a part of crime harm, not all of it.
    assert 0.1 < doc["total"] / sum(harm.values()) < 0.5
    by_source: dict[str, float] = {}
    for c in doc["cells"]:
        by_source[c["source"]] = by_source.get(c["source"], 0.0) + c["value"]
    expected_use = sum(
        h * fractions[t]["use"]["central"] for t, h in harm.items() if "use" in fractions[t]
    )
    assert by_source["use"] == pytest.approx(expected_use, rel=1e-9)


def test_city_all_view_is_drug_plus_not_attributed_and_the_old_total(city_db: Path) -> None:
    harm = _harm_by_type(city_db)
    drug = json.loads(
        runner.invoke(app, ["matrix", "--db", str(city_db), "--format", "json"]).stdout
    )
    every = json.loads(
        runner.invoke(
            app, ["matrix", "--db", str(city_db), "--format", "json", "--harm", "all"]
        ).stdout
    )
    assert every["harm"] == "all" and every["view"] == "all crime harm"
    assert every["total"] == pytest.approx(drug["total"] + drug["not_attributed"], rel=1e-9)
    assert every["total"] == pytest.approx(sum(harm.values()), rel=1e-9)  # old all-crime total
    rest = [c for c in every["cells"] if c["source"] == "not_attributed"]
    assert rest and all(c["basis"] == "remainder" for c in rest)
    assert sum(c["value"] for c in rest) == pytest.approx(drug["not_attributed"], rel=1e-9)
    for c in every["cells"]:
        assert c["low"] <= c["value"] <= c["high"]
    assert every["activity"] == drug["activity"]


def test_matrix_attribution_file_localises_and_bad_file_fails(db: Path, tmp_path: Path) -> None:
    path = Path(harmscope.harm.__file__).parent / "data" / "attribution.toml"
    text = path.read_text(encoding="utf-8")
    old = '[fractions."Burglary".use]\nlow = 0.33\ncentral = 0.45'
    assert old in text
    local = tmp_path / "force.toml"
    local.write_text(text.replace(old, old.replace("central = 0.45", "central = 0.33")))
    args = ["matrix", "--db", str(db), "--format", "json", "--no-local"]
    base = json.loads(runner.invoke(app, args).stdout)
    res = runner.invoke(app, [*args, "--attribution", str(local)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    burglary = next(r for r in base["by_event_type"] if r["event_type"] == "Burglary")
    assert doc["total"] == pytest.approx(base["total"] - burglary["harm"] * 0.12)
    assert doc["total"] + doc["not_attributed"] == pytest.approx(
        base["total"] + base["not_attributed"]
    )
    local.write_text(text.replace(old, old.replace("low = 0.33", "low = 1.5")))
    bad = runner.invoke(app, ["matrix", "--db", str(db), "--attribution", str(local)])
    assert bad.exit_code == 2
    assert f"{local}: fractions.Burglary.use.low: expected a number in [0, 1], got 1.5" in (
        " ".join(bad.stderr.split())
    )


def test_local_excess_replaces_the_distribution_share_inside_the_market(city_db: Path) -> None:
    """By default the matrix puts the local excess around the City's market in place of the
    national distribution share inside its cells: distribution cells cite the local excess
    and explain it, other drug sources keep their fractions on the market cells' background
    only (harm/local.py), and drug + not attributed is still every crime's harm."""
    from harmscope.harm.local import LOCAL_BASIS, LOCAL_REF

    national = json.loads(
        runner.invoke(
            app, ["matrix", "--db", str(city_db), "--format", "json", "--no-local"]
        ).stdout
    )
    res = runner.invoke(app, ["matrix", "--db", str(city_db), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert "local attribution: 1 drug market" in res.stderr
    doc = json.loads(res.stdout)
    assert doc["total"] + doc["not_attributed"] == pytest.approx(
        national["total"] + national["not_attributed"]
    )
    before = {(c["harm_type"], c["bearer"], c["source"]): c for c in national["cells"]}
    changed = 0
    for c in doc["cells"]:
        old = before[(c["harm_type"], c["bearer"], c["source"])]
        if c["source"] == "distribution" and c["value"] != pytest.approx(old["value"]):
            changed += 1
            assert c["basis"] == LOCAL_BASIS and LOCAL_REF in c["refs"]
            assert "local-excess estimate" in c["explanation"]
        elif c["source"] in ("use", "production", "control"):
            assert c["value"] <= old["value"] + 1e-9
    assert changed > 0
    # Selections the excess is not measured on leave the national fractions, and say so.
    typed = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--format", "json", "--type", "Robbery"]
    )
    assert typed.exit_code == 0 and "local attribution not applied" in typed.stderr
