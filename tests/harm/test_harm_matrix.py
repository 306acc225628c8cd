"""harm_matrix() and harm_by_area(): hand-computed fixtures and real police.uk files."""

from __future__ import annotations

import json
import math
from datetime import date

import ibis
import pandas as pd
import pytest
from harm_testdata import DESIGN_WEIGHTS

from harmscope.errors import SchemeError
from harmscope.harm import harm_by_area, harm_matrix, load_scheme, load_taxonomy
from harmscope.harm.attribution import DEFAULT_ATTRIBUTION_PATH
from harmscope.harm.taxonomy import DEFAULT_TAXONOMY_PATH

# Hand computation for the `events` fixture under cchi (days of imprisonment):
#   harm:  2 x V&SO 230.89 = 461.78 -> health/individuals
#          1 x ASB 1                -> social/communities
#          1 x Robbery 365          -> 182.5 health/individuals + 182.5 economic/individuals
#          3 x Burglary 247.28 = 741.84 -> 0.7: 519.288 economic/individuals,
#                                          0.3: 222.552 economic/communities
#          1 x Shoplifting 1        -> economic/communities
#   default fractions (central): V&SO use 0.10, distribution 0.05; ASB use 0.10,
#   distribution 0.05; Robbery use 0.40, distribution 0.05; Burglary use 0.45;
#   Shoplifting use 0.45. The rest of each type is not drug-attributed.
#   activity is counted, never weighed: 2 Drugs, 1 Possession of weapons, 5 Stop and search
DRUG_CELLS = {
    ("health", "individuals", "use"): 461.78 * 0.10 + 182.5 * 0.40,
    ("health", "individuals", "distribution"): 461.78 * 0.05 + 182.5 * 0.05,
    ("economic", "individuals", "use"): 182.5 * 0.40 + 519.288 * 0.45,
    ("economic", "individuals", "distribution"): 182.5 * 0.05,
    ("economic", "communities", "use"): 222.552 * 0.45 + 1.0 * 0.45,
    ("social", "communities", "use"): 0.10,
    ("social", "communities", "distribution"): 0.05,
}
# low ends: V&SO use 0.05, dist 0.02; ASB 0.05, 0.02; Robbery 0.30, 0.0; Burglary and
# Shoplifting 0.33. High ends: V&SO 0.20, 0.15; ASB 0.20, 0.10; Robbery 0.50, 0.10;
# Burglary 0.50; Shoplifting 0.55.
DRUG_LOW = 461.78 * 0.07 + 1 * 0.07 + 365 * 0.30 + 741.84 * 0.33 + 1 * 0.33
DRUG_HIGH = 461.78 * 0.35 + 1 * 0.30 + 365 * 0.60 + 741.84 * 0.50 + 1 * 0.55
ACTIVITY_CELLS = [
    {"event_type": "Stop and search", "label": "stop-and-searches", "value": 5, "no_data": None},
    {"event_type": "Drugs", "label": "drug offences", "value": 2, "no_data": None},
    {
        "event_type": "Possession of weapons",
        "label": "weapons possession offences",
        "value": 1,
        "no_data": None,
    },
]
HARM_TOTAL = 461.78 + 1 + 365 + 741.84 + 1  # 1570.62
DRUG_TOTAL = sum(DRUG_CELLS.values())  # 567.945
ACTIVITY_TOTAL = 2 + 1 + 5  # events


def _by_cell(cells):
    return {(c["harm_type"], c["bearer"], c["source"]): c["value"] for c in cells}


def test_matrix_by_hand(events):
    m = harm_matrix(events, scheme="cchi", harm="all")
    assert m.scheme == "cchi"
    assert m.unit == "days of imprisonment"
    assert m.harm == "all" and m.view_label == "all crime harm"
    assert m.total == pytest.approx(HARM_TOTAL)
    assert m.activity == ACTIVITY_TOTAL
    drug = {k: v for k, v in _by_cell(m.cells).items() if v and k[2] != "not_attributed"}
    assert drug == pytest.approx(DRUG_CELLS)
    assert m.drug_attributed == pytest.approx(DRUG_TOTAL)
    assert m.not_attributed == pytest.approx(HARM_TOTAL - DRUG_TOTAL)
    assert (m.drug_low, m.drug_high) == (pytest.approx(DRUG_LOW), pytest.approx(DRUG_HIGH))
    assert m.not_attributed_low == pytest.approx(HARM_TOTAL - DRUG_HIGH)
    assert m.not_attributed_high == pytest.approx(HARM_TOTAL - DRUG_LOW)
    rest = {k: v for k, v in _by_cell(m.cells).items() if k[2] == "not_attributed"}
    assert rest[("health", "individuals", "not_attributed")] == pytest.approx(
        461.78 * 0.85 + 182.5 * 0.55
    )
    assert sum(rest.values()) == pytest.approx(m.not_attributed)
    assert m.activity_cells == ACTIVITY_CELLS
    assert m.unknown == {"Fraud": 1}
    assert m.dropped.by_type == {"Fraud": 1} and m.dropped.events == 1
    assert (m.month_from, m.month_to) == ("2020-01", "2020-03")
    assert m.taxonomy == "ukdpc-default"
    assert m.attribution == "uk-default"
    by_type = {t.event_type: (t.kind, t.events, t.value) for t in m.by_event_type}
    assert by_type["Burglary"] == ("harm", 3, pytest.approx(741.84))
    assert by_type["Stop and search"] == ("activity", 5, 5.0)
    assert by_type["Possession of weapons"] == ("activity", 1, 1.0)  # counted, not 273.75 days
    assert m.by_event_type[0].event_type == "Burglary"  # largest value first


def test_drug_view_is_the_default_and_the_taxonomy_view_is_gone(events):
    # Issue 11 item 5: drug-attributed harm everywhere by default; the pre-attribution
    # "taxonomy" placement (every crime's harm on the taxonomy's own sources) was removed.
    m = harm_matrix(events, scheme="cchi")
    assert (m.harm, m.view_label) == ("drug", "drug-attributed harm")
    assert m.total == pytest.approx(DRUG_TOTAL)
    assert harm_matrix(events, scheme="cchi", harm=" ALL ").total == pytest.approx(HARM_TOTAL)
    with pytest.raises(ValueError, match="harm 'taxonomy': expected drug or all"):
        harm_matrix(events, scheme="cchi", harm="taxonomy")


def test_types_keep_only_those_crime_types(events):
    # Burglary only: 3 x 247.28 days; its drug share 0.45 (central); Fraud is not a type
    # asked for, so nothing is reported as left out.
    m = harm_matrix(events, scheme="cchi", types=["BURGLARY"])
    assert m.types == ("Burglary",)
    assert m.total == pytest.approx(741.84 * 0.45)
    assert harm_matrix(events, scheme="cchi", harm="all", types=["burglary"]).total == (
        pytest.approx(741.84)
    )
    assert m.activity == 0 and not m.dropped
    assert m.to_dict()["types"] == ["Burglary"]
    with pytest.raises(ValueError, match=r"--type 'Burgled'.*expected one of: .*Burglary"):
        harm_matrix(events, scheme="cchi", types=["Burgled"])


def test_drug_view_by_hand(events):
    m = harm_matrix(events, scheme="cchi", harm="drug")
    assert m.view_label == "drug-attributed harm"
    assert m.total == pytest.approx(DRUG_TOTAL)
    assert (m.total_low, m.total_high) == (pytest.approx(DRUG_LOW), pytest.approx(DRUG_HIGH))
    assert m.not_attributed == pytest.approx(HARM_TOTAL - DRUG_TOTAL)
    assert all(c["source"] != "not_attributed" for c in m.cells)
    assert {k: v for k, v in _by_cell(m.cells).items() if v} == pytest.approx(DRUG_CELLS)
    for c in m.cells:
        assert c["low"] <= c["value"] <= c["high"]
        assert c["basis"] == "fraction"
    robbery_dist = next(
        c for c in m.cells if (c["harm_type"], c["bearer"], c["source"]) == (
            "economic", "individuals", "distribution")
    )  # fmt: skip
    assert (robbery_dist["low"], robbery_dist["high"]) == (0.0, pytest.approx(18.25))
    assert robbery_dist["event_types"] == ["Robbery"]
    assert robbery_dist["refs"] == ["ons_drh_2024", "review_of_drugs_2020"]
    assert robbery_dist["judgement"] is True
    assert set(m.references) == {r for c in m.cells for r in c["refs"]}
    with pytest.raises(ValueError, match="harm 'some': expected drug or all"):
        harm_matrix(events, scheme="cchi", harm="some")


def test_cells_sum_exactly_to_totals_and_are_ordered(events):
    m = harm_matrix(events, scheme="cchi")
    assert sum(c["value"] for c in m.cells) == m.total
    assert sum(c["value"] for c in m.activity_cells) == m.activity
    values = [c["value"] for c in m.cells]
    assert values == sorted(values, reverse=True)
    # Every cell a harm type of the scheme maps to is listed, zeros included: stable shape.
    assert ("environmental", "communities", "use") in _by_cell(m.cells)
    assert _by_cell(m.cells)[("environmental", "communities", "use")] == 0.0
    # Harm and activity never mix: stop-and-search's control cell is activity only.
    assert ("social", "individuals", "control") not in _by_cell(m.cells)


def test_to_dict_is_the_design_contract(events):
    d = harm_matrix(events, scheme="cchi", harm="drug").to_dict()
    assert {"scheme", "total", "not_attributed", "activity", "cells"} <= set(d)
    assert {"unit", "activity_unit", "activity_cells", "dropped", "from", "to"} <= set(d)
    assert (d["harm"], d["view"]) == ("drug", "drug-attributed harm")
    for cell in d["cells"]:
        assert list(cell)[:6] == ["harm_type", "bearer", "source", "value", "low", "high"]
        assert cell["basis"] == "fraction" and isinstance(cell["refs"], list)
    for cell in d["activity_cells"]:
        assert list(cell) == ["event_type", "label", "value", "no_data"]
    assert d["activity_unit"] == "events" and d["unit"] == "days of imprisonment"
    assert d["activity"] == 8 and isinstance(d["activity"], int)
    assert d["dropped"] == {"scheme": "cchi", "events": 1, "types": {"Fraud": 1}}
    assert set(d["attribution"]["references"]) == {r for c in d["cells"] for r in c["refs"]}
    back = json.loads(json.dumps(d))
    assert back == d
    assert sum(c["value"] for c in back["cells"]) == back["total"]
    assert back["total"] + back["not_attributed"] == pytest.approx(HARM_TOTAL)
    assert sum(c["value"] for c in back["activity_cells"]) == back["activity"]
    by_type = {r["event_type"]: r for r in back["by_event_type"]}
    assert by_type["Burglary"]["drug"] == pytest.approx(741.84 * 0.45)
    assert by_type["Burglary"]["not_attributed"] == pytest.approx(741.84 * 0.55)


def test_to_rows(events):
    m = harm_matrix(events, scheme="cchi", harm="drug")
    rows = m.to_rows()
    assert len(rows) == len(m.cells) + len(m.activity_cells)
    assert set(rows[0]) == {
        "scheme", "view", "kind", "harm_type", "bearer", "source", "activity", "value",
        "low", "high", "unit", "basis", "refs",
    }  # fmt: skip
    assert {r["view"] for r in rows} == {"drug-attributed harm"}
    assert math.fsum(r["value"] for r in rows if r["kind"] == "harm") == pytest.approx(m.total)
    activity = rows[len(m.cells) :]
    assert {r["kind"] for r in activity} == {"activity"}
    assert {r["unit"] for r in activity} == {"events"}
    assert [(r["activity"], r["value"]) for r in activity] == [
        ("stop-and-searches", 5),
        ("drug offences", 2),
        ("weapons possession offences", 1),
    ]


def test_count_scheme_counts_events(events):
    m = harm_matrix(events, scheme="count", harm="all")
    assert (m.total, m.activity) == (pytest.approx(8.0), 8)  # 2+1+1+3+1 harm; 2+1+5 activity
    # drug-attributed events: 2 V&SO x 0.15 + ASB 0.15 + Robbery 0.45 + 3 Burglary x 0.45
    # + Shoplifting 0.45
    drug = harm_matrix(events, scheme="count", harm="drug").total
    assert drug == pytest.approx(2 * 0.15 + 0.15 + 0.45 + 3 * 0.45 + 0.45)
    assert m.unit == "events"


def test_activity_is_counted_whatever_the_scheme_weight(events):
    # cchi weighs a weapons offence 273.75 days and count 1: activity is the same count.
    assert harm_matrix(events, scheme="cchi").activity_cells == (
        harm_matrix(events, scheme="count").activity_cells
    )


def test_months_and_lsoas(events):
    jan = harm_matrix(events, scheme="cchi", months=("2020-01", "2020-01"), harm="all")
    assert jan.total == pytest.approx(462.78)
    assert jan.activity == 2
    assert (jan.month_from, jan.month_to) == ("2020-01", "2020-01")
    b = harm_matrix(events, scheme="cchi", lsoas=["B"], harm="all")
    assert b.total == pytest.approx(741.84)
    assert b.activity == 4
    assert b.lsoas == ("B",)
    assert b.unknown == {"Fraud": 1}
    open_start = harm_matrix(events, scheme="cchi", months=(None, date(2020, 2, 1)), harm="all")
    assert open_start.total == pytest.approx(462.78 + 365 + 741.84)
    assert (open_start.month_from, open_start.month_to) == ("2020-01", "2020-02")


def test_empty_selection(events):
    m = harm_matrix(events, scheme="cchi", lsoas=["Z"])
    assert (m.total, m.activity) == (0.0, 0)
    assert m.cells and all(c["value"] == 0.0 for c in m.cells)
    # searches are loaded (in other LSOAs), so none here is a true 0, not "no data"
    assert [c["value"] for c in m.activity_cells] == [0, 0, 0]
    assert not m.dropped
    assert (m.month_from, m.month_to) == (None, None)
    assert m.unknown == {}


def test_progress_callback(events):
    seen: list[float] = []
    harm_matrix(events, scheme="count", progress=lambda label, frac: seen.append(frac))
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_custom_taxonomy_changes_the_spread_not_the_total(events, tmp_path):
    text = DEFAULT_TAXONOMY_PATH.read_text(encoding="utf-8")
    old = (
        'event_type = "Violence and sexual offences"\n[[mapping.cell]]\nharm_type = "health"\n'
        'category = "violence"\nbearer = "individuals"\nsub_bearer = "victims"'
    )
    assert old in text
    path = tmp_path / "local.toml"
    path.write_text(
        text.replace(
            old,
            old.replace(
                'bearer = "individuals"\nsub_bearer = "victims"',
                'bearer = "families"\nsub_bearer = "families"',
            ),
        )
    )
    m = harm_matrix(events, scheme="cchi", taxonomy=path, harm="drug")
    assert m.total == pytest.approx(DRUG_TOTAL)
    cells = _by_cell(m.cells)
    assert cells[("health", "families", "use")] == pytest.approx(461.78 * 0.10)
    assert cells[("health", "individuals", "use")] == pytest.approx(182.5 * 0.40)
    # The taxonomy's own `source` does not decide the source: the fractions do.
    assert cells[("health", "families", "distribution")] == pytest.approx(461.78 * 0.05)
    again = harm_matrix(events, scheme="cchi", taxonomy=load_taxonomy(path), harm="drug")
    assert again.total == m.total


def test_custom_attribution_changes_the_drug_share(events, tmp_path):
    text = DEFAULT_ATTRIBUTION_PATH.read_text(encoding="utf-8")
    old = '[fractions."Burglary".use]\nlow = 0.33\ncentral = 0.45\nhigh = 0.50'
    assert old in text
    path = tmp_path / "force.toml"
    path.write_text(text.replace(old, old.replace("central = 0.45", "central = 0.40")))
    m = harm_matrix(events, scheme="cchi", attribution=path, harm="drug")
    assert m.total == pytest.approx(DRUG_TOTAL - 741.84 * 0.05)
    assert m.not_attributed == pytest.approx(HARM_TOTAL - DRUG_TOTAL + 741.84 * 0.05)
    # A harm type without fractions is an error naming the attribution file.
    start = text.index('[fractions."Shoplifting".use]')
    path.write_text(text[:start] + text[text.index("[fractions.", start + 10) :])
    with pytest.raises(SchemeError, match=r"force\.toml: fractions\.'Shoplifting'"):
        harm_matrix(events, scheme="cchi", attribution=path)


def test_scheme_type_missing_from_taxonomy_is_an_error(events, tmp_path):
    p = tmp_path / "extra.toml"
    p.write_text(
        '[scheme]\nunit = "d"\ncitation = "c"\n'
        '[[weight]]\nevent_type = "Fraud"\nweight = 2\nkind = "harm"\ncitation = "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(SchemeError, match=r"extra\.toml: weight: .* does not map: 'Fraud'"):
        harm_matrix(events, scheme=p)


def test_harm_by_area_by_hand(events):
    df = harm_by_area(events, scheme="cchi", harm="all").execute()
    assert list(df.columns) == [
        "lsoa_code", "month", "harm", "activity", "harm_events", "activity_events"
    ]  # fmt: skip
    got = [
        (
            r.lsoa_code,
            pd.Timestamp(r.month).strftime("%Y-%m"),
            r.harm,
            r.activity,
            r.harm_events,
            r.activity_events,
        )
        for r in df.itertuples()
    ]
    assert got == [
        ("A", "2020-01", pytest.approx(462.78), 2, 3, 2),
        ("A", "2020-02", 365.0, 1, 1, 1),
        ("B", "2020-02", pytest.approx(741.84), 4, 3, 4),
        (None, "2020-03", 1.0, 1, 1, 1),
    ]
    assert df["harm"].sum() == pytest.approx(HARM_TOTAL)
    # The default view: each type's harm times its central drug share, summing to the
    # matrix's drug total.
    drug = harm_by_area(events, scheme="cchi").execute()
    assert drug["harm"].sum() == pytest.approx(DRUG_TOTAL)
    assert drug["activity"].tolist() == df["activity"].tolist()  # counted, not weighed
    burglary = harm_by_area(events, scheme="cchi", types=["burglary"]).execute()
    assert burglary["harm"].sum() == pytest.approx(741.84 * 0.45)
    located = harm_by_area(events, scheme="cchi", drop_unlocated=True, months=("2020-02", None))
    assert located.execute()["lsoa_code"].tolist() == ["A", "B"]


# --- real police.uk files ---------------------------------------------------------------


def _street(con, paths):
    t = con.read_csv([str(p) for p in paths], all_varchar=True)
    return t.select(
        source=ibis.literal("street"),
        event_type=t["Crime type"],
        month=(t["Month"] + "-01").cast("date"),
        lsoa_code=t["LSOA code"],
    )


def test_city_of_london_matrix_recomputed_independently(shared_data):
    root = shared_data / "policeuk-city-of-london-2018-12_2021-11"
    months = ["2019-01", "2019-02", "2019-03"]
    street_files = [root / "street" / f"{m}-city-of-london-street.csv" for m in months]
    sas_files = [
        root / "stop-and-search" / f"{m}-city-of-london-stop-and-search.csv" for m in months
    ]
    con = ibis.duckdb.connect()
    sas = con.read_csv([str(p) for p in sas_files], all_varchar=True)
    stops = sas.select(
        source=ibis.literal("stop_search"),
        event_type=ibis.literal("Stop and search"),
        month=sas["Date"].left(7).concat("-01").cast("date"),
        lsoa_code=ibis.null("string"),
    )
    events = _street(con, street_files).union(stops)

    m = harm_matrix(events, scheme="cchi", harm="all")

    # Independent recomputation with pandas and the DESIGN §3 weights.
    street = pd.concat([pd.read_csv(p, dtype=str) for p in street_files])
    counts = street["Crime type"].value_counts().to_dict()
    n_stops = sum(len(pd.read_csv(p, dtype=str)) for p in sas_files)
    weights = {**DESIGN_WEIGHTS, "Anti-social behaviour": 1.0}
    activity_types = {"Drugs", "Possession of weapons"}
    harm = sum(n * weights[t] for t, n in counts.items() if t not in activity_types)
    assert m.total == pytest.approx(harm, rel=1e-12)
    assert m.activity == counts["Drugs"] + counts["Possession of weapons"] + n_stops
    assert m.unknown == {}
    assert (m.month_from, m.month_to) == ("2019-01", "2019-03")
    cells = _by_cell(m.cells)
    # ASB and Public order land on social/communities; their use fractions are 0.10.
    assert cells[("social", "communities", "use")] == pytest.approx(
        (counts["Anti-social behaviour"] * 1.0 + counts["Public order"] * 7.5) * 0.10
    )
    assert cells[("social", "communities", "not_attributed")] == pytest.approx(
        counts["Anti-social behaviour"] * 1.0 * 0.85 + counts["Public order"] * 7.5 * 0.87
    )
    kinds = {c["event_type"]: c["value"] for c in m.activity_cells}
    assert kinds == {
        "Drugs": counts["Drugs"],
        "Possession of weapons": counts["Possession of weapons"],
        "Stop and search": n_stops,
    }
    assert sum(c["value"] for c in m.cells) == m.total


def test_lincolnshire_outcome_rows_are_never_weighted(shared_data):
    root = shared_data / "policeuk-lincolnshire-2017-02_2020-01"
    con = ibis.duckdb.connect()
    street = _street(con, [root / "street" / "2019-01-lincolnshire-street.csv.gz"])
    out = con.read_csv(
        str(root / "outcomes" / "2019-01-lincolnshire-outcomes.csv.gz"), all_varchar=True
    )
    outcomes = out.select(
        source=ibis.literal("outcome"),
        event_type=out["Outcome type"],
        month=(out["Month"] + "-01").cast("date"),
        lsoa_code=out["LSOA code"],
    )
    assert outcomes.count().execute() > 1000
    both = harm_matrix(street.union(outcomes), scheme="cchi")
    alone = harm_matrix(street, scheme="cchi")
    assert both.total == alone.total
    assert both.activity == alone.activity
    assert both.unknown == {}
    per_area = harm_by_area(street.union(outcomes), scheme="cchi").execute()
    assert per_area["harm"].sum() == pytest.approx(alone.total)
    # count scheme: harm events = street rows that are not activity
    raw = pd.read_csv(root / "street" / "2019-01-lincolnshire-street.csv.gz", dtype=str)
    harm_rows = (~raw["Crime type"].isin(["Drugs", "Possession of weapons"])).sum()
    assert harm_matrix(street, scheme=load_scheme("count"), harm="all").total == harm_rows
