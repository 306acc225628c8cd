"""Numbers a person can read: rounded CSV and text, full precision in JSON, units stated.

Real data: six months of City of London street crime and stop-and-search (``city_db``). The
expected figures come from the library's full-precision results (JSON, the DataFrame) and
from the scheme TOML read with ``tomllib``, rounded here with plain Python.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmscope.app.serialise import COLUMN_KINDS, KINDS, readable, units, write_csv_out
from harmscope.cli import app
from harmscope.harm.schemes import available_schemes
from harmscope.places.hotspots import hotspots

runner = CliRunner()


def _csv(args: list[str]) -> tuple[list[str], list[dict[str, str]]]:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    reader = csv.DictReader(io.StringIO(res.stdout))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def test_hotspot_csv_is_rounded_to_the_stated_precision(city_db: Path) -> None:
    _, rows = _csv(["hotspots", "--db", str(city_db)])
    exact = hotspots(city_db).set_index(["cell_x", "cell_y"])
    assert rows
    for row in rows:
        full = exact.loc[(int(row["cell_x"]), int(row["cell_y"]))]
        # Counts and BNG corners are whole numbers: no "704.0".
        for col in ("cell_x", "cell_y", "activity", "harm_events", "activity_events", "gi_bin"):
            assert re.fullmatch(r"-?\d+", row[col]), (col, row[col])
        assert _decimals(row["harm"]) <= 1 and _decimals(row["gi_z"]) <= 2
        assert _decimals(row["p_fdr"]) <= 4 and _decimals(row["p"]) <= 4
        assert float(row["harm"]) == pytest.approx(round(float(full["harm"]), 1), abs=1e-9)
        assert float(row["gi_z"]) == pytest.approx(round(float(full["gi_z"]), 2), abs=1e-9)
        assert float(row["p_fdr"]) == pytest.approx(round(float(full["p_fdr"]), 4), abs=1e-9)
        assert int(row["activity"]) == int(full["activity"])
        assert row["harm_unit"] == "days of imprisonment"


def test_count_scheme_harm_is_whole_events(city_db: Path) -> None:
    # All crime harm under `count` is whole events; drug-attributed harm is a share of
    # events (each event times its type's drug fraction), shown to 0.1.
    _, rows = _csv(["hotspots", "--db", str(city_db), "--scheme", "count", "--harm", "all"])
    for row in rows:
        assert re.fullmatch(r"\d+", row["harm"]), row["harm"]  # "348", never "348.0"
        assert int(row["harm"]) == int(row["harm_events"])  # one event, one unit
        assert row["harm_unit"] == "events"
    _, drug = _csv(["hotspots", "--db", str(city_db), "--scheme", "count"])
    assert all(re.fullmatch(r"\d+(\.\d)?", r["harm"]) for r in drug)
    assert any("." in r["harm"] for r in drug)


def test_json_keeps_full_precision(city_db: Path) -> None:
    res = runner.invoke(app, ["emerging", "--db", str(city_db), "--format", "json"])
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    _, text = _csv(["emerging", "--db", str(city_db)])
    assert len(rows) == len(text)
    # Some figure is not already round at 0.1: JSON keeps what CSV rounds.
    assert any(r["harm"] != round(r["harm"], 1) for r in rows)
    for full, shown in zip(rows, text, strict=True):
        assert float(shown["harm"]) == pytest.approx(round(full["harm"], 1), abs=1e-9)
        assert full["harm_unit"] == "days of imprisonment"


def test_months_are_year_and_month(city_db: Path) -> None:
    _, rows = _csv(["areas", "--db", str(city_db), "--by-month", "--top", "2", "--format", "csv"])
    months = {r["month"] for r in rows}
    assert months == {f"2019-0{m}" for m in range(1, 7)}
    for row in rows:
        assert re.fullmatch(r"-?\d+", row["activity"]) and _decimals(row["harm"]) <= 1


def test_units_name_every_kind_and_the_scheme_units_come_from_its_file() -> None:
    for name, path in available_schemes().items():
        unit = tomllib.loads(path.read_text(encoding="utf-8"))["scheme"]["unit"]
        got = units(["harm", "harm_per_1000", "activity", "cell_x", "gi_z", "month"], unit)
        assert got["harm"] == unit, name
        assert got["harm_per_1000"].startswith(f"{unit} per 1,000 residents")
        assert got["activity"] == "events" and got["cell_x"] == "metres (EPSG:27700)"
        assert got["month"] == "month (YYYY-MM)"
    assert set(COLUMN_KINDS.values()) <= set(KINDS)


def test_readable_leaves_text_alone_and_trims_float_noise(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["=cmd", "mkt-1"],
            "centroid_x": [312855.95000001066, 531000.4],
            "other": [20828.179999999975, np.nan],
            "population": [1044.0, np.nan],
            "month": pd.to_datetime(["2018-12-01", "2019-01-01"]),
        }
    )
    out = tmp_path / "t.csv"
    write_csv_out(frame, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    # Text is made inert, coordinates go to the metre, other floats lose binary noise only,
    # counts print whole and missing values stay empty.
    assert lines == [
        "id,centroid_x,other,population,month",
        "'=cmd,312856,20828.18,1044,2018-12",
        "mkt-1,531000,,,2019-01",
    ]
    assert not list(tmp_path.glob(".*part*"))  # the temporary file is gone
    assert readable(frame)["id"].tolist() == ["=cmd", "mkt-1"]  # neutralised on write only


def test_matrix_csv_keeps_activity_counts_whole_beside_rounded_harm(city_db: Path) -> None:
    """One ``value`` column holds harm (days) and activity (counted events) rows."""
    _, rows = _csv(["matrix", "--db", str(city_db), "--format", "csv"])
    res = runner.invoke(app, ["matrix", "--db", str(city_db), "--format", "json"])
    doc = json.loads(res.stdout)
    activity = [r for r in rows if r["kind"] == "activity" and r["value"]]
    assert activity and all(re.fullmatch(r"\d+", r["value"]) for r in activity)
    assert sum(int(r["value"]) for r in activity) == doc["activity"]
    harm = [r for r in rows if r["kind"] == "harm"]
    assert harm and all(_decimals(r["value"]) <= 1 for r in harm)
    assert sum(float(r["value"]) for r in harm) == pytest.approx(doc["total"], abs=0.05 * len(harm))


def test_other_floats_are_rounded_value_by_value_once_per_distinct_value() -> None:
    """Distinct values are rounded once: repeats, signed zeros and non-finite values as alone."""
    values = [0.1 + 0.2, -0.0, 0.0, 0.1 + 0.2, np.inf, np.nan, -np.inf, 1 / 3, -0.0]
    shown = readable(pd.DataFrame({"other": values}))["other"].to_numpy()
    alone = [float(readable(pd.DataFrame({"other": [v]}))["other"].iloc[0]) for v in values]
    assert [repr(v) for v in shown.tolist()] == [repr(v) for v in alone]
    assert str(shown[1]) == "-0.0" and str(shown[2]) == "0.0"
