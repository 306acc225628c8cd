"""Market descriptions are set-based: one grouped matrix query for all markets.

Each market's matrix must equal the per-market path it replaced: ``harm_matrix`` of the events
in the market's held cells alone (rebuilt here with its own semi-join), on real data: the 36
City of London months with every drug search counted (two markets whose buffers are split;
stop and search held in some market areas and not others) and a year of Lincolnshire street
crime (many markets, no stop and search at all). Activity and the monthly series are
recomputed with plain pandas from the warehouse rows.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest

from harmscope.harm import harm_matrix
from harmscope.harm.grouped import harm_matrices
from harmscope.markets import Market, markets
from harmscope.places.grid import with_cells
from harmscope.warehouse import Warehouse, connect
from harmscope.warehouse.ingest import ingest_paths


def _data() -> Path:
    env = os.environ.get("HARMSCOPE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def city36(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _data() / "policeuk-city-of-london-2018-12_2021-11"
    files = sorted((folder / "street").glob("*.csv")) + sorted(
        (folder / "stop-and-search").glob("*.csv")
    )
    assert len(files) == 72, f"expected 36 street and 36 stop-and-search files under {folder}"
    db = tmp_path_factory.mktemp("describe_city") / "city.duckdb"
    ingest_paths(files, db=db)
    return db


@pytest.fixture(scope="module")
def lincs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = _data() / "policeuk-lincolnshire-2017-02_2020-01" / "street"
    files = sorted(folder.glob("2018-*-lincolnshire-street.csv.gz"))
    assert len(files) == 12, f"expected the 12 street files of 2018 under {folder}"
    db = tmp_path_factory.mktemp("describe_lincs") / "lincs.duckdb"
    ingest_paths(files, db=db)
    return db


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal structures; floats to 1e-9 relative (the engine's sums may add in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), where
    else:
        assert a == b, where


def _per_market_matrices(db: Path, found: list[Market], **options: Any) -> dict[str, Any]:
    """The deleted per-market path: one ``harm_matrix`` query on each market's held cells."""
    out = {}
    with Warehouse.of(db) as wh:
        events = wh.events()
        located = with_cells(events.filter(events.x.notnull() & events.y.notnull()))
        for m in found:
            lookup = ibis.memtable(
                pd.DataFrame(m.area_cells, columns=["cell_x", "cell_y"]),
                schema={"cell_x": "float64", "cell_y": "float64"},
            )
            chosen = located.semi_join(
                lookup, [located.cell_x == lookup.cell_x, located.cell_y == lookup.cell_y]
            )
            out[m.id] = harm_matrix(chosen.drop("cell_x", "cell_y"), scheme="cchi", **options)
    return out


def _cell_months(db: Path, activity: str) -> pd.DataFrame:
    """Harm (every crime's, cchi days) and market activity per cell and month, by pandas."""
    days = {
        "Other theft": 2.0,
        "Anti-social behaviour": 1.0,
        "Violence and sexual offences": 230.89,
        "Robbery": 365.0,
        "Burglary": 247.28,
        "Criminal damage and arson": 10.39,
        "Public order": 7.5,
        "Other crime": 10.0,
        "Vehicle crime": 5.0,
        "Theft from the person": 2.0,
        "Bicycle theft": 2.0,
        "Shoplifting": 1.0,
    }
    con = connect(db, read_only=True)
    try:
        ev = con.execute(
            "SELECT source, event_type, month, x, y, object_of_search FROM events "
            "WHERE x IS NOT NULL"
        ).df()
    finally:
        con.close()
    street = ev["source"] == "street"
    ev["harm"] = np.where(street, ev["event_type"].map(days).fillna(0.0), 0.0)
    ev["market"] = np.where(street & (ev["event_type"] == "Drugs"), 1.0, 0.0)
    if activity == "all_searches":
        drug_search = (ev["source"] == "stop_search") & (
            ev["object_of_search"] == "Controlled drugs"
        )
        ev["market"] += np.where(drug_search, 1.0, 0.0)
    ev["cell_x"] = np.floor(ev["x"] / 250) * 250
    ev["cell_y"] = np.floor(ev["y"] / 250) * 250
    ev["month"] = pd.to_datetime(ev["month"]).dt.strftime("%Y-%m")
    return ev.groupby(["cell_x", "cell_y", "month"], as_index=False)[["harm", "market"]].sum()


def _check(db: Path, found: list[Market], cells: pd.DataFrame, **options: Any) -> None:
    reference = _per_market_matrices(db, found, **options)
    for m in found:
        _same(reference[m.id].to_dict(), m.matrix.to_dict(), m.id)
        own = cells.merge(pd.DataFrame(m.area_cells, columns=["cell_x", "cell_y"]))
        assert m.activity == pytest.approx(own["market"].sum(), rel=1e-9)
        foot = cells.merge(pd.DataFrame(m.cells, columns=["cell_x", "cell_y"]))
        assert m.footprint_activity == pytest.approx(foot["market"].sum(), rel=1e-9)
        monthly = own.groupby("month")["harm"].sum()
        expected = [float(monthly.get(month, 0.0)) for month in m.months]
        assert list(m.monthly_harm) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.slow
def test_city_descriptions_equal_the_per_market_matrices(city36: Path) -> None:
    found = markets(city36, harm="all", unfound_search_weight=1.0, within=0.0)
    assert len(found) >= 2 and any(m.split_with for m in found), "two markets, buffers split"
    _check(city36, found, _cell_months(city36, "all_searches"), harm="all")


@pytest.mark.slow
def test_lincolnshire_descriptions_equal_the_per_market_matrices(lincs: Path) -> None:
    found = markets(lincs, harm="all", months=("2018-03", "2018-10"), within=0.0)
    assert len(found) >= 5, f"Lincolnshire 2018 holds several drug markets, found {len(found)}"
    cells = _cell_months(lincs, "street")
    cells = cells[cells["month"].between("2018-03", "2018-10")]
    _check(lincs, found, cells, harm="all", months=("2018-03", "2018-10"))
    # The all-crime view: each market's harm is its drug-attributed part plus the rest.
    for m in found:
        assert math.isclose(
            m.harm, m.matrix.drug_attributed + m.matrix.not_attributed, rel_tol=1e-12
        )


def test_grouped_matrices_mark_searches_per_unit_and_fill_empty_units(city36: Path) -> None:
    """A unit with a search in any month counts searches (0 when none in the period); a unit
    without one says searches are not known; a unit with no rows gets the empty matrix."""
    with Warehouse.of(city36) as wh:
        events = wh.events()
        located = with_cells(events.filter(events.x.notnull() & events.y.notnull()))
        per_cell = located.group_by(["cell_x", "cell_y"]).aggregate(
            searches=(located.source == "stop_search").sum()
        )
        frame = per_cell.to_pandas().sort_values(["cell_x", "cell_y"])
        with_search = frame[frame["searches"] > 0].iloc[0]
        without = frame[frame["searches"] == 0].iloc[0]
        unit = ibis.cases(
            (
                (located.cell_x == float(with_search["cell_x"]))
                & (located.cell_y == float(with_search["cell_y"])),
                ibis.literal("searched"),
            ),
            (
                (located.cell_x == float(without["cell_x"]))
                & (located.cell_y == float(without["cell_y"])),
                ibis.literal("unsearched"),
            ),
            else_=ibis.null("string"),
        )
        tagged = located.mutate(unit=unit).filter(ibis._.unit.notnull())
        got = harm_matrices(
            tagged.drop("cell_x", "cell_y"),
            by="unit",
            units=["searched", "unsearched", "nowhere"],
            scheme="cchi",
        )
        for name in ("searched", "unsearched"):
            alone = tagged.filter(tagged.unit == name).drop("cell_x", "cell_y", "unit")
            _same(harm_matrix(alone, scheme="cchi").to_dict(), got[name].to_dict(), name)
        nothing = harm_matrix(located.filter(located.x < 0).drop("cell_x", "cell_y"), scheme="cchi")
    assert list(got) == ["searched", "unsearched", "nowhere"]
    searches = {c["event_type"]: c["value"] for c in got["searched"].activity_cells}
    assert searches["Stop and search"] is not None
    searches = {c["event_type"]: c["value"] for c in got["unsearched"].activity_cells}
    assert searches["Stop and search"] is None
    assert got["nowhere"].total == 0.0
    _same(nothing.to_dict(), got["nowhere"].to_dict(), "nowhere")
