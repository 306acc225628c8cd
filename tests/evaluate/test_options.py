"""Options that do nothing: every option of ``harmscope evaluate`` changes the result, or is
refused in that combination with a message that names it. The table below must cover every
option the command has, so an option added without a case here fails the suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.sources.areas import IMD, load_areas_csv
from harmscope.warehouse import connect

from .conftest import LINCS, shared_data

runner = CliRunner()

BASE = [
    "--target",
    "lsoa:E01032739",
    "--buffer",
    "lsoa:E01032740,E01000005",
    "--control",
    "all",
    "--pre",
    "2019-08:2020-01",
    "--post",
    "2020-02:2020-03",
]
SPEC = (
    'name = "From the spec"\ntarget = "lsoa:E01032739"\ncontrol = "all"\n'
    'pre = "2019-08:2020-01"\npost = "2020-02:2020-03"\n'
)


def _run(db: Path, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["evaluate", "--db", str(db), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _spec(tmp: Path) -> str:
    path = tmp / "op.toml"
    path.write_text(SPEC)
    return str(path)


# Each case: (option, check). A check runs the command with and without the option and
# asserts what the option changed, or that it is refused with a message naming it.
def _check_db(db: Path, tmp: Path) -> None:
    other = tmp / "empty.duckdb"
    connect(other).close()
    result = runner.invoke(app, ["evaluate", "--db", str(other), *BASE])
    assert result.exit_code == 2 and result.output.strip()


def _check_spec(db: Path, tmp: Path) -> None:
    assert _run(db, "--spec", _spec(tmp))["intervention"]["name"] == "From the spec"  # type: ignore[index]
    both = runner.invoke(
        app, ["evaluate", "--db", str(db), "--spec", _spec(tmp), "--pre", "2019-01:2019-02"]
    )
    assert both.exit_code == 2 and "--pre" in both.output


def _check_area(option: str) -> Callable[[Path, Path], None]:
    def check(db: Path, tmp: Path) -> None:
        i = BASE.index(option)
        without = [a for j, a in enumerate(BASE) if j not in (i, i + 1)]
        if option == "--target":
            result = runner.invoke(app, ["evaluate", "--db", str(db), *without])
            assert result.exit_code == 2 and "--target" in result.output
            return
        a, b = _run(db, *BASE), _run(db, *without)
        assert a["intervention"] != b["intervention"] and a["totals"] != b["totals"]

    return check


def _check_period(option: str) -> Callable[[Path, Path], None]:
    def check(db: Path, tmp: Path) -> None:
        i = BASE.index(option)
        moved = list(BASE)
        moved[i + 1] = "2019-09:2020-01" if option == "--pre" else "2020-02"
        a, b = _run(db, *BASE), _run(db, *moved)
        assert a["totals"] != b["totals"]

    return check


def _check_scheme(db: Path, tmp: Path) -> None:
    for extra in ([*BASE], ["--spec", _spec(tmp)]):
        a, b = _run(db, *extra), _run(db, *extra, "--scheme", "count")
        assert a["scheme"] == "cchi" and b["scheme"] == "count" and a["unit"] != b["unit"]


def _check_harm(db: Path, tmp: Path) -> None:
    for extra in ([*BASE], ["--spec", _spec(tmp)]):
        a, b = _run(db, *extra), _run(db, *extra, "--harm", "all")
        assert (a["harm_view"], b["harm_view"]) == ("drug", "all")
        assert a["intervention"]["harm"] == "drug" and b["intervention"]["harm"] == "all"  # type: ignore[index]
        assert a["estimates"]["wdd"] == b["estimates"]["wdd"]  # type: ignore[index]  # counts
        assert a["estimates"]["wdd_harm"] != b["estimates"]["wdd_harm"]  # type: ignore[index]


def _check_type(db: Path, tmp: Path) -> None:
    for extra in ([*BASE], ["--spec", _spec(tmp)]):
        a, b = _run(db, *extra), _run(db, *extra, "--type", "theft from the person")
        assert b["types"] == ["Theft from the person"] and a["types"] is None
        assert a["totals"] != b["totals"]


def _check_name(db: Path, tmp: Path) -> None:
    for extra in ([*BASE], ["--spec", _spec(tmp)]):
        assert _run(db, *extra, "--name", "Op Z")["intervention"]["name"] == "Op Z"  # type: ignore[index]


def _check_baseline(db: Path, tmp: Path) -> None:
    for extra in ([*BASE], ["--spec", _spec(tmp)]):
        a, b = _run(db, *extra), _run(db, *extra, "--baseline-start", "2018-12")
        assert a["estimates"]["its"] is None  # type: ignore[index]
        assert b["estimates"]["its"] is not None  # type: ignore[index]
        assert b["intervention"]["baseline_start"] == "2018-12"  # type: ignore[index]


def _check_out(db: Path, tmp: Path) -> None:
    out = tmp / "report"
    payload = _run(db, *BASE, "--out", str(out))
    assert set(payload["files"]) == {"html", "pdf", "json"}  # type: ignore[arg-type]
    assert (out / "intervention.html").exists()


def _check_format(db: Path, tmp: Path) -> None:
    text = runner.invoke(app, ["evaluate", "--db", str(db), *BASE])
    assert text.exit_code == 0 and text.stdout.startswith("intervention: pre")
    bad = runner.invoke(app, ["evaluate", "--db", str(db), *BASE, "--format", "xml"])
    assert bad.exit_code == 2 and "--format" in bad.output


def _check_engine(db: Path, tmp: Path) -> None:
    # Another engine on a DuckDB file is refused, naming it (tests/engines runs each engine).
    bad = runner.invoke(app, ["evaluate", "--db", str(db), *BASE, "--engine", "postgres"])
    assert bad.exit_code == 2 and "--engine postgres" in bad.stderr, bad.output


CASES: dict[str, Callable[[Path, Path], None]] = {
    "--db": _check_db,
    "--engine": _check_engine,
    "--spec": _check_spec,
    "--target": _check_area("--target"),
    "--buffer": _check_area("--buffer"),
    "--control": _check_area("--control"),
    "--pre": _check_period("--pre"),
    "--post": _check_period("--post"),
    "--scheme": _check_scheme,
    "--harm": _check_harm,
    "--type": _check_type,
    "--baseline-start": _check_baseline,
    "--name": _check_name,
    "--out": _check_out,
    "--format": _check_format,
}


def test_every_evaluate_option_has_a_case() -> None:
    command = typer.main.get_command(app)
    params = command.commands["evaluate"].params  # type: ignore[attr-defined]
    options = {opt for p in params for opt in p.opts if opt.startswith("--") and opt != "--help"}
    assert options == set(CASES)


@pytest.mark.parametrize("option", sorted(CASES))
def test_option_changes_the_result_or_is_refused(
    option: str, city_db: Path, tmp_path: Path
) -> None:
    CASES[option](city_db, tmp_path)


def test_a_spec_accepts_lad_areas(lincs_street_db: Path, tmp_path: Path) -> None:
    # The LSOAs of Lincoln (E07000138) from IMD 2019, read with pandas, as the areas table.
    imd = pd.read_csv(shared_data() / IMD, dtype=str, encoding="utf-8-sig")
    lincoln = imd[imd["Local Authority District code (2019)"] == "E07000138"]
    areas = tmp_path / "areas.csv"
    pd.DataFrame(
        {
            "lsoa_code": lincoln["LSOA code (2011)"],
            "lad_code": "E07000138",
            "lad_name": "Lincoln",
        }
    ).to_csv(areas, index=False)
    db = tmp_path / "w.duckdb"
    db.write_bytes(lincs_street_db.read_bytes())
    con = connect(db)
    load_areas_csv(con, areas)
    con.close()
    spec = tmp_path / "lincoln.toml"
    spec.write_text(
        'name = "Lincoln district"\ntarget = "lad:E07000138"\ncontrol = "all"\n'
        'pre = "2019-01:2019-03"\npost = "2019-04:2019-06"\n'
    )
    payload = _run(db, "--spec", str(spec))
    codes = set(lincoln["LSOA code (2011)"])
    harm_types = {"Drugs", "Possession of weapons"}
    frames = [
        pd.read_csv(LINCS / "street" / f"2019-0{m}-lincolnshire-street.csv.gz") for m in (1, 2, 3)
    ]
    street = pd.concat(frames, ignore_index=True)
    want = int((street["LSOA code"].isin(codes) & ~street["Crime type"].isin(harm_types)).sum())
    pre = next(
        t
        for t in payload["totals"]  # type: ignore[attr-defined]
        if t["role"] == "target" and t["period"] == "pre"
    )
    assert pre["events"] == want > 1000
    assert payload["intervention"]["target"]["kind"] == "lsoas"  # type: ignore[index]
    assert len(payload["intervention"]["target"]["lsoas"]) == len(codes)  # type: ignore[index]
    # The same area on the command line, by district name.
    by_name = _run(
        db,
        "--target",
        "lad:Lincoln",
        "--control",
        "all",
        "--pre",
        "2019-01:2019-03",
        "--post",
        "2019-04:2019-06",
    )
    assert by_name["totals"] == payload["totals"]
