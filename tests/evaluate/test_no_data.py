"""No answer from no data, and missing is not zero: evaluations of empty areas or months not
loaded are refused with the reason; counts the data cannot give are "no data", never 0."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.errors import EstimatorError, WarehouseError
from harmscope.evaluate.areas import AreaSpec
from harmscope.evaluate.intervention import (
    Intervention,
    Period,
    evaluate_counts,
    evaluate_intervention,
)
from harmscope.evaluate.scorecard import scorecard
from harmscope.report.evaluation import render_html

from .conftest import CITY

runner = CliRunner()
TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _counts(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"role": r, "month": m, "event_type": "Robbery", "kind": "harm", "weight": 365.0}
            | {"count": n}
            for r, m, n in rows
        ]
    )


def _iv(**kw: object) -> Intervention:
    base: dict[str, object] = {
        "name": "k",
        "target": AreaSpec.from_lsoas(["E01000001"]),
        "pre": Period.parse("2020-01"),
        "post": Period.parse("2020-02"),
        "control": AreaSpec.from_lsoas(["E01000003"]),
    }
    return Intervention(**(base | kw))  # type: ignore[arg-type]


def test_the_issue_case_is_refused_on_the_command_line(city_db: Path) -> None:
    # City of London has no crime at cell 100000_100000 (off the Cornish coast): the
    # evaluation used to report "462 crimes (95% CI 300 to 624)" from the buffer and control.
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--db",
            str(city_db),
            "--target",
            "cells:100000_100000",
            "--buffer",
            "ring:500",
            "--control",
            "all",
            "--pre",
            "2019-06:2019-11",
            "--post",
            "2019-12:2020-02",
        ],
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "no answer from no data" in lines[0] and "target" in lines[0]
    assert "pre period (2019-06 to 2019-11)" in lines[0] and "462" not in lines[0]


def test_an_empty_period_of_the_target_or_control_is_refused() -> None:
    full = [("target", "2020-01", 10), ("target", "2020-02", 8)]
    with pytest.raises(EstimatorError, match=r"the control .* post period \(2020-02\)"):
        evaluate_counts(_counts([*full, ("control", "2020-01", 50)]), _iv())
    with pytest.raises(EstimatorError, match=r"the target .* pre period \(2020-01\)"):
        evaluate_counts(
            _counts(
                [("target", "2020-02", 8), ("control", "2020-01", 5), ("control", "2020-02", 6)]
            ),
            _iv(),
        )
    # Without a control, the target alone must have events in both periods.
    with pytest.raises(EstimatorError, match="the target"):
        evaluate_counts(_counts([("target", "2020-01", 10)]), _iv(control=None))


def test_a_buffer_needs_events_in_one_period_at_least() -> None:
    rows = [
        ("target", "2020-01", 10),
        ("target", "2020-02", 8),
        ("control", "2020-01", 50),
        ("control", "2020-02", 40),
    ]
    with pytest.raises(EstimatorError, match="the buffer"):
        evaluate_counts(_counts(rows), _iv(buffer=AreaSpec.from_lsoas(["E01000002"])))
    # A buffer whose crime fell to zero is data (a real zero), not missing data.
    ev = evaluate_counts(
        _counts([*rows, ("buffer", "2020-01", 6)]), _iv(buffer=AreaSpec.from_lsoas(["E01000002"]))
    )
    assert ev.total("buffer", "post") == 0 and any("the buffer has no" in n for n in ev.notes)


def test_months_not_in_the_warehouse_are_refused(city_db: Path) -> None:
    iv = Intervention(
        "early",
        AreaSpec.everything(),
        Period.parse("2018-09:2018-12"),
        Period.parse("2019-01:2019-02"),
    )
    with pytest.raises(WarehouseError) as err:
        evaluate_intervention(iv, db=city_db)
    text = str(err.value)
    assert "2018-09, 2018-10, 2018-11" in text and "2018-12 to 2021-11" in text


def test_searches_without_data_are_no_data_not_zero(lincs_street_db: Path) -> None:
    # Lincolnshire's files came without stop-and-search: its search counts are unknown.
    iv = Intervention(
        "lincs",
        AreaSpec.from_lsoas(["E01026143"]),
        Period.parse("2019-01:2019-03"),
        Period.parse("2019-04:2019-06"),
        control=AreaSpec.everything(),
    )
    ev = evaluate_intervention(iv, db=lincs_street_db)
    assert set(ev.no_data) == {"target.searches", "control.searches"}
    assert "no stop-and-search records" in ev.no_data["target.searches"]
    assert math.isnan(ev.total("target", "pre", "searches"))
    assert ev.total("target", "pre", "events") > 0  # crimes are data
    html = render_html(ev)
    table = html[html.index('<table id="areas">') : html.index("</table>")]
    assert table.count("no data") == 4  # pre and post searches of target and control
    assert "No data for target searches: no stop-and-search records" in html
    assert ev.to_dict()["no_data"] == ev.no_data


def test_searches_in_lsoas_are_no_data_but_cells_are_counted(
    city_db: Path, city_street: pd.DataFrame
) -> None:
    pre, post = Period.parse("2019-01:2019-06"), Period.parse("2019-07:2019-09")
    by_lsoa = evaluate_intervention(
        Intervention(
            "l", AreaSpec.from_lsoas(["E01032739"]), pre, post, control=AreaSpec.everything()
        ),
        db=city_db,
    )
    assert "carry no LSOA" in by_lsoa.no_data["target.searches"]
    assert "cannot be told apart" in by_lsoa.no_data["control.searches"]
    # Cells: searches have coordinates, so they are counted; recount them with pyproj.
    cells = [(532250.0, 181250.0), (532000.0, 181250.0), (532500.0, 181250.0)]
    by_cell = evaluate_intervention(
        Intervention("c", AreaSpec.from_cells(cells), pre, post, control=AreaSpec.everything()),
        db=city_db,
    )
    assert by_cell.no_data == {}
    frames = [
        pd.read_csv(CITY / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv")
        for m in pre.months
    ]
    ss = pd.concat(frames, ignore_index=True).dropna(subset=["Longitude", "Latitude"])
    x, y = TO_BNG.transform(ss["Longitude"].to_numpy(), ss["Latitude"].to_numpy())
    cx, cy = np.floor(np.asarray(x) / 250) * 250, np.floor(np.asarray(y) / 250) * 250
    inside = np.zeros(len(ss), dtype=bool)
    for a, b in cells:
        inside |= (cx == a) & (cy == b)
    assert by_cell.total("target", "pre", "searches") == inside.sum() > 0


def test_scorecard_says_no_data_for_searches_it_cannot_count(
    lincs_street_db: Path, city_db: Path
) -> None:
    card = scorecard(db=lincs_street_db, months=("2019-01", "2019-03"))
    for key in ("searches", "drug_searches", "search_arrests", "searches_nothing_found"):
        m = card.get(key)
        assert m.value is None and "no stop-and-search records" in m.note, key
    assert card.value("drug_offences") > 0  # street data are there
    lsoa = scorecard(db=city_db, lsoas=["E01032739"], months=("2019-01", "2019-03"))
    assert lsoa.get("searches").value is None and "carry no LSOA" in lsoa.get("searches").note
    everything = scorecard(db=city_db, months=("2019-01", "2019-03"))
    want = sum(
        len(pd.read_csv(CITY / "stop-and-search" / f"2019-0{m}-city-of-london-stop-and-search.csv"))
        for m in (1, 2, 3)
    )
    assert everything.value("searches") == want
    table = runner.invoke(
        app, ["scorecard", "--db", str(lincs_street_db), "--from", "2019-01", "--to", "2019-03"]
    )
    assert table.exit_code == 0
    row = next(line for line in table.stdout.splitlines() if "Stop-and-searches " in line)
    assert "no data" in row and " 0 " not in row
