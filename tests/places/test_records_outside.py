"""Commands that count every record say how many lie outside the study area (issue: one study
area per dataset). Recomputed here with pandas from the warehouse rows and the area's cells."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.places.study_area import dataset_area, records_outside
from harmscope.warehouse import ibis_connect

runner = CliRunner()


def _strays_by_pandas(db: Path, cells: set[tuple[float, float]], months: tuple[str, str]) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        ev = con.execute(
            "SELECT x, y FROM events WHERE x IS NOT NULL AND y IS NOT NULL "
            "AND source <> 'outcome' AND strftime(month, '%Y-%m') BETWEEN ? AND ?",
            list(months),
        ).df()
    cx = np.floor(ev["x"] / 250) * 250
    cy = np.floor(ev["y"] / 250) * 250
    inside = pd.Series(list(zip(cx, cy, strict=True))).isin(cells)
    return int((~inside).sum())


def test_matrix_and_report_say_how_many_records_lie_outside(city_db: Path, tmp_path: Path) -> None:
    events = ibis_connect(city_db).table("events")
    area = dataset_area(events)
    cells = set(zip(area.mask[0].tolist(), area.mask[1].tolist(), strict=True))
    months = ("2019-02", "2019-05")
    expected = _strays_by_pandas(city_db, cells, months)
    assert expected > 0  # police.uk places some City records in neighbouring boroughs
    assert records_outside(events, area, months=months) == expected

    res = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--from", months[0], "--to", months[1]]
    )
    assert res.exit_code == 0, res.output
    assert f"{expected:,} of them located outside the study area" in " ".join(res.stderr.split())
    restricted = runner.invoke(
        app, ["matrix", "--db", str(city_db), "--lsoa", "E01000001", "--format", "json"]
    )
    assert "outside the study area" not in restricted.stderr  # --lsoa: the user chose the area

    out = tmp_path / "r.html"
    rep = runner.invoke(
        app,
        ["report", "--db", str(city_db), "--out", str(out), "--from", months[0], "--to", months[1]],
    )
    assert rep.exit_code == 0, rep.output
    text = " ".join(out.read_text(encoding="utf-8").split())
    shown = f"{expected:,}" if expected >= 10 else "<10"
    assert (
        f"count every record of the period, {shown} of them located outside the study area" in text
    )
