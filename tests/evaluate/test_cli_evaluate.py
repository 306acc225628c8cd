"""The evaluation commands through Typer's CliRunner, on real files in temporary warehouses."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from harmscope.cli import app

runner = CliRunner()


def test_evaluate_from_options_writes_the_report(city_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--db",
            str(city_db),
            "--name",
            "Test op",
            "--target",
            "lsoa:E01032739",
            "--buffer",
            "lsoa:E01032740,E01000005",
            "--control",
            "all",
            "--pre",
            "2019-03:2019-08",
            "--post",
            "2019-09:2019-11",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Harm in the target area" in result.stdout
    assert "relative to the control" in result.stdout
    html = (out / "test-op.html").read_text(encoding="utf-8")
    assert "Displacement to the buffer" in html or "diffusion of benefits" in html
    assert (out / "test-op.pdf").read_bytes().startswith(b"%PDF")


def test_evaluate_from_a_spec_as_json(city_db: Path, tmp_path: Path) -> None:
    spec = tmp_path / "lockdown.toml"
    spec.write_text(
        'name = "Lockdown"\ntarget = "all"\npre = "2018-12:2020-03"\npost = "2020-04:2020-06"\n'
    )
    result = runner.invoke(
        app, ["evaluate", "--db", str(city_db), "--spec", str(spec), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["intervention"]["name"] == "Lockdown"
    assert payload["estimates"]["its"]["ratio"] < 0.5
    assert payload["verdict"].startswith("Recorded crime (harm types) in the target")


def test_evaluate_rejects_bad_input(city_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--db",
            str(city_db),
            "--target",
            "all",
            "--pre",
            "2019-13:2019-14",
            "--post",
            "2020-01:2020-02",
        ],
    )
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    result = runner.invoke(app, ["evaluate", "--db", str(city_db), "--target", "all"])
    assert result.exit_code != 0 and "missing --pre, --post" in result.output
    spec = tmp_path / "x.toml"
    spec.write_text("target = [")
    result = runner.invoke(app, ["evaluate", "--db", str(city_db), "--spec", str(spec)])
    assert result.exit_code != 0 and "x.toml" in result.output


def test_scorecard_formats(lincs_db: Path) -> None:
    as_json = runner.invoke(
        app,
        [
            "scorecard",
            "--db",
            str(lincs_db),
            "--from",
            "2019-01",
            "--to",
            "2019-02",
            "--format",
            "json",
        ],
    )
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    drug = {r["key"]: r for r in payload["activity"]}["drug_offences"]
    as_csv = runner.invoke(
        app,
        [
            "scorecard",
            "--db",
            str(lincs_db),
            "--from",
            "2019-01",
            "--to",
            "2019-02",
            "--format",
            "csv",
        ],
    )
    assert as_csv.exit_code == 0, as_csv.output
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert float(rows["drug_offences"]["value"]) == drug["value"] > 0
    table = runner.invoke(app, ["scorecard", "--db", str(lincs_db), "--lsoa", "E01026143"])
    assert table.exit_code == 0 and "Drug offences recorded" in table.stdout
    bad = runner.invoke(app, ["scorecard", "--db", str(lincs_db), "--format", "xml"])
    assert bad.exit_code != 0


def test_validate_evaluation_json(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "validate-evaluation",
            str(tmp_path / "sim"),
            "--operations",
            "4",
            "--seed",
            "5",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"wdd", "wdd_harm", "wdq", "etest", "did_count"} <= set(payload)
    assert payload["did_count"]["n"] == 4 and payload["did_count"]["default"] is True
    assert (tmp_path / "sim" / "validation" / "evaluation_operations.csv").exists()


def test_load_survey_command(tmp_path: Path) -> None:
    survey = tmp_path / "responses.csv"
    survey.write_text(
        "month,lsoa_code,drug_problem,confidence_in_police,feel_safe_after_dark\n"
        "2020-01,E01000001,3,4,2\n2020-01,E01000001,1,,4\n"
    )
    db = tmp_path / "w.duckdb"
    first = runner.invoke(app, ["load-survey", str(survey), "--db", str(db)])
    assert first.exit_code == 0 and "2 survey responses loaded" in first.stdout
    again = runner.invoke(app, ["load-survey", str(survey), "--db", str(db)])
    assert again.exit_code == 0 and "nothing added" in again.stdout
