"""Police activity is counted by kind, never weighed in days (Lincolnshire, real files).

Under ``cchi`` one weapons-possession offence weighs 273.75 days and one drug offence 3.39, so
weighing activity made weapons possession 96 % of Lincolnshire "activity", reported in days of
imprisonment. Activity is a count of police-found offences and searches, by kind. Every
expected figure here is recomputed with plain SQL on the warehouse file.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from harmscope.cli import app
from harmscope.harm import harm_by_area, harm_matrix
from harmscope.harm.activity import NO_SEARCH_DATA
from harmscope.warehouse import ibis_connect
from harmscope.warehouse.ingest import ingest_paths

MONTHS = ("2019-01", "2019-02", "2019-03")
ACTIVITY_TYPES = ("Drugs", "Possession of weapons")
runner = CliRunner()


@pytest.fixture(scope="module")
def lincs_db(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = shared_data / "policeuk-lincolnshire-2017-02_2020-01" / "street"
    db = tmp_path_factory.mktemp("lincs") / "lincs.duckdb"
    ingest_paths([root / f"{m}-lincolnshire-street.csv.gz" for m in MONTHS], db=db)
    return db


def _sql(db: Path, query: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).fetchall()


def _counts(db: Path, where: str = "") -> dict[str, int]:
    rows = _sql(
        db,
        "SELECT event_type, count(*) FROM events WHERE source = 'street' "
        f"AND event_type IN ('Drugs', 'Possession of weapons') {where} GROUP BY event_type",
    )
    return {str(t): int(str(n)) for t, n in rows}


def test_matrix_activity_is_a_count_by_kind(lincs_db: Path) -> None:
    counts = _counts(lincs_db)
    assert counts["Drugs"] > 100 and counts["Possession of weapons"] > 20
    m = harm_matrix(ibis_connect(lincs_db).table("events"), scheme="cchi")
    assert m.activity == counts["Drugs"] + counts["Possession of weapons"]
    kinds = {c["event_type"]: c["value"] for c in m.activity_cells}
    # No search file loaded: the count is unknown ("no data", with the reason), never 0.
    assert kinds == {**counts, "Stop and search": None}
    unknown = next(c for c in m.activity_cells if c["event_type"] == "Stop and search")
    assert unknown["no_data"] == NO_SEARCH_DATA
    labels = {c["event_type"]: c["label"] for c in m.activity_cells}
    assert labels["Possession of weapons"] == "weapons possession offences"
    # Weighed, weapons possession was most of the "activity"; counted, it is a minority.
    days = counts["Possession of weapons"] * 273.75
    assert days / (days + counts["Drugs"] * 3.39) > 0.9
    assert counts["Possession of weapons"] / m.activity < 0.5
    # The count does not depend on the scheme's weights.
    count_scheme = harm_matrix(ibis_connect(lincs_db).table("events"), scheme="count")
    assert count_scheme.activity_cells == m.activity_cells


def test_matrix_cli_json_and_table_state_events(lincs_db: Path) -> None:
    counts = _counts(lincs_db)
    res = runner.invoke(app, ["matrix", "--db", str(lincs_db), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["activity"] == sum(counts.values())
    assert doc["activity_unit"] == "events"
    assert doc["unit"] == "days of imprisonment"
    assert {c["event_type"]: c["value"] for c in doc["activity_cells"]} == {
        **counts,
        "Stop and search": None,
    }
    table = runner.invoke(app, ["matrix", "--db", str(lincs_db)])
    assert table.exit_code == 0, table.output
    assert f"Police activity (not harm): {sum(counts.values()):,} events" in table.stdout
    assert "weapons possession offences" in table.stdout
    assert "scheme units" not in table.stdout
    assert "stop-and-searches" in table.stdout and "no data" in table.stdout
    csv_out = runner.invoke(app, ["matrix", "--db", str(lincs_db), "--format", "csv"])
    lines = [ln for ln in csv_out.stdout.splitlines() if ",activity," in ln]
    n = counts["Drugs"]
    assert any(f"drug offences,{n},{n},{n},events,count" in ln for ln in lines)
    assert any(",,,events,no data: no stop-and-search data loaded" in ln for ln in lines)


def test_per_area_and_per_cell_activity_are_counts(lincs_db: Path) -> None:
    from harmscope.places.hotspots import hotspots

    counts = _counts(lincs_db)
    events = ibis_connect(lincs_db).table("events")
    per_area = harm_by_area(events, scheme="cchi").to_pandas()
    assert per_area["activity"].sum() == sum(counts.values())
    assert (per_area["activity"] == per_area["activity_events"]).all()
    located = _counts(lincs_db, "AND x IS NOT NULL AND y IS NOT NULL")
    cells = hotspots(events, scheme="cchi", within=0.0)  # every occupied cell, strays too
    assert cells["activity"].sum() == sum(located.values())
    # The busiest cell, recomputed with SQL on the 250 m grid.
    top = cells.loc[cells["activity"].idxmax()]
    (n,) = _sql(
        lincs_db,
        "SELECT count(*) FROM events WHERE source = 'street' "
        "AND event_type IN ('Drugs', 'Possession of weapons') "
        f"AND floor(x / 250) * 250 = {top['cell_x']} AND floor(y / 250) * 250 = {top['cell_y']}",
    )[0]
    assert top["activity"] == n


def test_scorecard_evaluation_and_priorities_report_counts(lincs_db: Path, tmp_path: Path) -> None:
    from harmscope.evaluate.intervention import Intervention, evaluate_intervention
    from harmscope.evaluate.scorecard import scorecard
    from harmscope.priorities import rank
    from harmscope.report.overview import write_overview

    counts = _counts(lincs_db)
    card = scorecard(db=lincs_db)
    assert card.value("drug_offences") == counts["Drugs"]
    assert card.value("weapons_offences") == counts["Possession of weapons"]
    assert card.get("drug_offences").unit == "events"

    (lsoa,) = _sql(
        lincs_db,
        "SELECT lsoa_code FROM events WHERE event_type = 'Drugs' AND lsoa_code IS NOT NULL "
        "GROUP BY lsoa_code ORDER BY count(*) DESC, lsoa_code LIMIT 1",
    )[0]
    iv = Intervention.from_dict(
        {
            "name": "busyness",
            "target": f"lsoa:{lsoa}",
            "control": "all",
            "pre": "2019-01:2019-02",
            "post": "2019-03:2019-03",
        },
        base=tmp_path,
    )
    ev = evaluate_intervention(iv, db=lincs_db)
    target = _counts(lincs_db, f"AND lsoa_code = '{lsoa}' AND month <= DATE '2019-02-01'")
    assert ev.total("target", "pre", "activity") == sum(target.values())

    places = rank("places", lincs_db, scheme="cchi")
    assert places["activity"].sum() <= sum(counts.values())
    row = places.iloc[0]
    cell = _counts(
        lincs_db,
        f"AND floor(x / 250) * 250 = {row['cell_x']} AND floor(y / 250) * 250 = {row['cell_y']}",
    )
    assert row["activity"] == sum(cell.values())

    html = write_overview(tmp_path / "o.html", db=lincs_db).read_text(encoding="utf-8")
    assert f"{sum(counts.values()):,}</b>police activity (events" in html
    assert f"{counts['Drugs']:,} drug offences" in html
    assert "scheme units" not in html
