"""The partners source: real drug statistics (BritishDrugDynamics) and a simulated city's
per-LSOA indicators load strictly, atomically and once; figures recomputed with pandas."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import InputError
from harmscope.sources import registry
from harmscope.sources.base import SourceFile
from harmscope.sources.partners import ADAPTER, SUSPECT_YEAR, read_partner_file
from harmscope.warehouse.loaders import load_partners

DATA = (
    Path(os.environ["HARMSCOPE_SHARED_DATA"])
    if os.environ.get("HARMSCOPE_SHARED_DATA")
    else Path(__file__).resolve().parents[3] / "shared" / "data"
)
BDD = DATA / "drug-area-stats-britishdrugdynamics" / "drugs_usage"
DEATHS = BDD / "deaths" / "local_resolution"
ADMISSIONS = BDD / "hospital_admissions" / "local_resolution"
runner = CliRunner()


def _table(db: Path) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT * FROM partner_indicators").df()


def _wide(path: Path) -> pd.DataFrame:
    """The file as pandas reads it, long: (area, year, value), blanks dropped."""
    frame = pd.read_csv(path)
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed")])
    long = frame.melt(id_vars="year", var_name="area", value_name="value").dropna()
    long["year"] = long["year"].astype(int)
    return long


def test_recognised_and_registered() -> None:
    assert registry.adapter("partners") is ADAPTER
    found = registry.recognise(SourceFile(DEATHS / "deaths_misuse.csv"))
    assert found is not None and found[1] == "bdd_wide"
    assert ADAPTER.recognise(SourceFile(ADMISSIONS / "misuse.csv")) == "bdd_wide"
    # A file called misuse.csv outside a hospital_admissions folder is not taken for one.
    assert ADAPTER.recognise(SourceFile(DATA / "x" / "misuse.csv")) is None


def test_deaths_by_la_load_as_published(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    done = load_partners([DEATHS / "deaths_misuse.csv"], db=db)
    got = _table(db)
    want = _wide(DEATHS / "deaths_misuse.csv")
    assert done.rows_loaded == len(got) == len(want) == 10 * 137
    assert set(got["indicator"]) == {"drug_misuse_deaths"}
    assert set(got["area_level"]) == {"upper_tier_la"}
    merged = want.assign(period=want["year"].astype(str)).merge(
        got, left_on=["area", "period"], right_on=["area_name", "period"], suffixes=("", "_db")
    )
    assert len(merged) == len(want)
    assert (merged["value"] == merged["value_db"]).all()
    birmingham_2018 = got[(got["area_name"] == "Birmingham") & (got["period"] == "2018")]
    assert birmingham_2018["value"].tolist() == [206.0]
    assert birmingham_2018["month_from"].iat[0] == pd.Timestamp("2018-01-01")
    assert birmingham_2018["month_to"].iat[0] == pd.Timestamp("2018-12-01")


def test_force_file_with_index_column_agrees_with_la_file(tmp_path: Path) -> None:
    # deaths_misuse_polices.csv starts with an unnamed pandas index column; its force
    # columns are sums of the local authorities, so per year the totals agree.
    db = tmp_path / "w.duckdb"
    load_partners([DEATHS / "deaths_misuse_polices.csv", DEATHS / "deaths_misuse.csv"], db=db)
    got = _table(db)
    forces = got[got["area_level"] == "police_force"]
    assert len(forces) == 10 * 39 and "" not in set(forces["area_name"])
    per_level = got.groupby(["area_level", "period"])["value"].sum().unstack(0)
    want = _wide(DEATHS / "deaths_misuse_polices.csv").groupby("year")["value"].sum()
    assert per_level["police_force"].tolist() == want.tolist()
    assert per_level["police_force"].tolist() == per_level["upper_tier_la"].tolist()


def test_suspect_2020_admission_rows_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    done = load_partners([ADMISSIONS / "misuse.csv"], db=db)
    got = _table(db)
    want = _wide(ADMISSIONS / "misuse.csv")
    kept = want[want["year"] != SUSPECT_YEAR]
    assert (want["year"] == SUSPECT_YEAR).any()  # the file has the suspect row
    assert len(got) == len(kept) and str(SUSPECT_YEAR) not in set(got["period"])
    assert got["value"].sum() == pytest.approx(kept["value"].sum())
    assert set(got["indicator"]) == {"drug_poisoning_admissions"}
    assert list(done.refused) == [str(ADMISSIONS / "misuse.csv")]
    assert "2020 row" in next(iter(done.refused.values()))


def test_whole_folder_loads_counts_only_and_once(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first = load_partners([BDD], db=db)
    # 4 deaths count files, 6 local and 3 national admission count files; no rate file.
    assert first.files == 13
    got = _table(db)
    assert not got["source_file"].str.contains("_100k").any()
    assert set(got["area_level"]) == {"upper_tier_la", "police_force", "region", "country"}
    again = load_partners([BDD], db=db)
    assert again.rows_loaded == 0 and len(_table(db)) == len(got)
    # The same bytes under another name are the same content: nothing added either.
    copy = tmp_path / "deaths" / "deaths_misuse.csv"
    copy.parent.mkdir()
    shutil.copy(DEATHS / "deaths_misuse.csv", copy)
    assert load_partners([copy], db=db).rows_loaded == 0


def test_kind_keeps_only_named_indicators(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    load_partners([DEATHS], db=db, indicators=["drug_poisoning_deaths"])
    assert set(_table(db)["indicator"]) == {"drug_poisoning_deaths"}
    # A later load of the other indicator of the same files still adds it.
    assert load_partners([DEATHS], db=db).rows_loaded == 2 * 10 * (137 + 39) - 10 * (137 + 39)
    with pytest.raises(KeyError, match="unknown indicator 'deaths'"):
        load_partners([DEATHS], db=db, indicators=["deaths"])


def test_rate_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="rates per 100,000 are not loaded"):
        read_partner_file(DEATHS / "deaths_misuse_100k.csv")
    national = BDD / "deaths" / "national_resolution" / "deaths_misuse_England_and_regions.csv"
    with pytest.raises(InputError, match="hold rates, not counts"):
        read_partner_file(national)


@pytest.mark.parametrize(
    ("line", "field", "bad", "message"),
    [
        (5, "Barnet", "n/a", "expected a count"),
        (8, "Birmingham", "-3", "expected a count"),
        (4, "year", "twenty", "expected a year"),
    ],
)
def test_bad_value_names_file_line_column_and_loads_nothing(
    tmp_path: Path, line: int, field: str, bad: str, message: str
) -> None:
    src = (DEATHS / "deaths_misuse.csv").read_text(encoding="utf-8").splitlines()
    header = pd.read_csv(DEATHS / "deaths_misuse.csv", nrows=0).columns.tolist()
    col = header.index(field)
    cells = pd.read_csv(DEATHS / "deaths_misuse.csv", dtype=str, keep_default_na=False)
    row = cells.iloc[line - 2].tolist()
    row[col] = bad
    src[line - 1] = ",".join(f'"{v}"' if "," in v else v for v in row)
    bad_file = tmp_path / "deaths" / "deaths_misuse.csv"
    bad_file.parent.mkdir()
    bad_file.write_text("\n".join(src) + "\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    load_partners([ADMISSIONS / "primary.csv"], db=db)
    before = len(_table(db))
    with pytest.raises(InputError) as err:
        load_partners([DEATHS / "deaths_poisoning.csv", bad_file], db=db)
    text = str(err.value)
    assert text.startswith(f"{bad_file}, line {line}, column {col + 1} ({field}): ")
    assert message in text
    assert len(_table(db)) == before  # the good file of the batch was not loaded either
    res = runner.invoke(app, ["load-partners", str(bad_file), "--db", str(tmp_path / "c.duckdb")])
    assert res.exit_code == 2 and f"line {line}, column {col + 1}" in res.stderr


# -- the simulator's per-LSOA indicators -----------------------------------------------------


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SYNTHETIC: a small simulated city (seed 5, 12 months)."""
    out = tmp_path_factory.mktemp("sim") / "city"
    res = runner.invoke(app, ["simulate", "--seed", "5", "--months", "12", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_simulated_indicators_load_per_lsoa_and_month(sim: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    res = runner.invoke(app, ["load-partners", str(sim / "partners"), "--db", str(db)])
    assert res.exit_code == 0, res.output
    got = _table(db)
    raw = pd.read_csv(sim / "partners" / "indicators.csv")
    names = {
        "overdoses": "nonfatal_overdoses",
        "drug_deaths": "drug_deaths",
        "needle_finds": "needle_finds",
        "treatment_entries": "treatment_entries",
    }
    sums = got.groupby("indicator")["value"].sum()
    for column, indicator in names.items():
        assert sums[indicator] == raw[column].sum()
    assert set(got["area_level"]) == {"lsoa"} and set(got["area_code"]) == set(raw["lsoa_code"])
    assert len(got) == 4 * len(raw)
    again = runner.invoke(app, ["load-partners", str(sim / "partners"), "--db", str(db)])
    assert "already loaded" in again.stdout and len(_table(db)) == len(got)


def test_simulated_indicators_bad_month_and_count(sim: Path, tmp_path: Path) -> None:
    lines = (sim / "partners" / "indicators.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "indicators.csv"
    month = lines[6].split(",")
    month[0] = "2021-13"
    bad.write_text("\n".join([*lines[:6], ",".join(month), *lines[7:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 7, column 1 \(month\): month '2021-13'"):
        read_partner_file(bad)
    count = lines[9].split(",")
    count[4] = "2.5"
    bad.write_text("\n".join([*lines[:9], ",".join(count), *lines[10:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 10, column 5 \(needle_finds\): .*whole count"):
        read_partner_file(bad)


def test_repeated_year_and_short_row_are_named(tmp_path: Path) -> None:
    lines = (DEATHS / "deaths_misuse.csv").read_text(encoding="utf-8").splitlines()
    folder = tmp_path / "deaths"
    folder.mkdir()
    bad = folder / "deaths_misuse.csv"
    bad.write_text("\n".join([*lines, lines[3]]) + "\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"line 12, column 1 \(year\): year 2011 again \(first on line 4\)"
    ):
        read_partner_file(bad)
    bad.write_text("\n".join([*lines[:5], "2013,1,2", *lines[6:]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 6: 3 fields, expected 138"):
        read_partner_file(bad)


def test_cli_refuses_unknown_kind_and_folders_without_partner_files(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    res = runner.invoke(app, ["load-partners", str(DEATHS), "--kind", "deaths", "--db", db])
    assert res.exit_code == 2 and "--kind: unknown indicator 'deaths'" in res.stderr
    empty = tmp_path / "notes"
    empty.mkdir()
    (empty / "readme.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    res = runner.invoke(app, ["load-partners", str(empty), "--db", db])
    assert res.exit_code == 2 and "no partner file found here" in res.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing was opened, let alone written
