"""weigh(): weights joined in the engine; outcome rows and unknown types excluded."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import ibis
import pytest

import harmscope.harm
from harmscope.harm.weigh import (
    Dropped,
    dropped_events,
    harm_and_activity,
    parse_month,
    select_events,
    unknown_event_types,
    weigh,
    weigh_keyed,
)


def _rows(table):
    return table.execute().sort_values(["event_type", "month"]).reset_index(drop=True)


def test_weigh_adds_weight_and_kind(events):
    out = weigh(events, "cchi")
    assert out.schema()["weight"].is_floating()
    assert out.schema()["kind"].is_string()
    df = out.execute()
    # 19 rows - 2 outcome rows - 1 unknown ('Fraud') = 16
    assert len(df) == 16
    assert "outcome" not in set(df["source"])
    assert "Fraud" not in set(df["event_type"])
    weights = df.groupby("event_type")["weight"].first().to_dict()
    assert weights == {
        "Anti-social behaviour": 1.0,
        "Burglary": 247.28,
        "Drugs": 3.39,
        "Possession of weapons": 273.75,
        "Robbery": 365.0,
        "Shoplifting": 1.0,
        "Stop and search": 1.0,
        "Violence and sexual offences": 230.89,
    }
    kinds = df.groupby("event_type")["kind"].first().to_dict()
    assert {t for t, k in kinds.items() if k == "activity"} == {
        "Drugs",
        "Possession of weapons",
        "Stop and search",
    }
    assert df["weight"].sum() == pytest.approx(1570.62 + 285.53)


def test_stop_search_rows_are_keyed_whatever_their_event_type(make_events):
    t = make_events(
        [
            ("stop_search", "Person search", date(2020, 1, 1), "A"),
            ("stop_search", None, date(2020, 1, 1), "A"),
            ("street", "Stop and search", date(2020, 1, 1), "A"),
        ]
    )
    df = weigh_keyed(t, "cchi").execute()
    assert list(df["event_key"]) == ["Stop and search"] * 3
    assert sorted(df["event_type"].fillna("<null>")) == [
        "<null>",
        "Person search",
        "Stop and search",
    ]
    assert (df["kind"] == "activity").all()


def test_existing_weight_and_kind_are_replaced(events):
    t = events.mutate(weight=ibis.literal(99.0), kind=ibis.literal("x"))
    df = weigh(t, "count").execute()
    assert set(df["weight"]) == {1.0}
    assert set(df["kind"]) == {"harm", "activity"}
    assert list(df.columns).count("weight") == 1


def test_table_without_source_column_is_all_weighted():
    t = ibis.memtable({"event_type": ["Robbery", "Drugs", "Nope"]})
    df = weigh(t, "cchi").execute()
    assert sorted(df["weight"]) == [3.39, 365.0]


def test_unknown_event_types_for_warnings(events, make_events):
    df = unknown_event_types(events, "cchi").execute()
    assert df.to_dict("records") == [{"event_type": "Fraud", "events": 1}]
    t = make_events(
        [
            ("street", "Fraud", date(2020, 1, 1), "A"),
            ("street", "Fraud", date(2020, 1, 1), "A"),
            ("street", None, date(2020, 1, 1), "A"),
            ("outcome", "Suspect charged", date(2020, 1, 1), "A"),
            ("street", "Robbery", date(2020, 1, 1), "A"),
        ]
    )
    df = unknown_event_types(t, "cchi").execute()
    assert df["event_type"].fillna("<null>").tolist() == ["Fraud", "<null>"]
    assert df["events"].tolist() == [2, 1]


def test_dropped_events_counts_what_weigh_leaves_out(events, make_events):
    # Fixture: 1 Fraud in Feb, LSOA B; outcome rows are never counted as dropped.
    d = dropped_events(events, "cchi")
    assert d.by_type == {"Fraud": 1} and d.events == 1 and d.scheme == "cchi"
    assert "Fraud 1" in d.describe() and "'cchi'" in d.describe()
    assert not dropped_events(events, "cchi", months=("2020-01", "2020-01"))
    assert not dropped_events(events, "cchi", lsoas=["A"])
    t = make_events(
        [
            ("street", "Fraud", date(2020, 1, 1), "A"),
            ("street", "Fraud", date(2020, 1, 1), "A"),
            ("street", None, date(2020, 1, 1), "A"),
            ("outcome", "Suspect charged", date(2020, 1, 1), "A"),
            ("street", "Robbery", date(2020, 1, 1), "A"),
        ]
    )
    d = dropped_events(t, "cchi")
    assert d.counts == (("Fraud", 2), ("", 1))
    assert "(no event type) 1" in d.describe() and "3 events left out" in d.describe()
    # Weighed rows + dropped rows = every non-outcome row: nothing vanishes unaccounted.
    assert weigh(t, "cchi").count().execute() + d.events == 4


def test_dropped_round_trips_through_its_dict():
    d = Dropped.of("s", [("B", 2), ("A", 2), ("C", 5), ("B", 1), ("Z", 0)])
    assert d.counts == (("C", 5), ("B", 3), ("A", 2))  # merged, zeros left out, most first
    assert Dropped.from_dict(d.to_dict()) == d
    assert Dropped.from_dict(d) is d
    assert not Dropped.from_dict(None) and Dropped.from_dict(None).notes() == []
    assert d.notes() == [d.describe()]


def test_keep_unknown_keeps_the_rows_with_null_kind(events):
    kept = weigh(events, "cchi", keep_unknown=True).execute()
    assert len(kept) == 17  # 19 rows minus the 2 outcome rows
    unknown = kept[kept["kind"].isna()]
    assert unknown["event_type"].tolist() == ["Fraud"]
    assert unknown["weight"].isna().all()


def test_harm_and_activity_counts_activity(events):
    w = weigh(events, "cchi")
    got = w.aggregate(**harm_and_activity(w)).execute().iloc[0]
    # Activity: 2 Drugs + 1 Possession of weapons + 5 searches, counted (not 6.78 + 273.75 + 5).
    assert (got["activity"], got["activity_events"]) == (8, 8)
    assert got["harm_events"] == 8
    assert got["harm"] == pytest.approx(461.78 + 1 + 365 + 741.84 + 1)


def test_select_events_months_inclusive_and_lsoas(events):
    feb = select_events(events, months=("2020-02", "2020-02")).execute()
    assert set(feb["month"].astype(str)) == {"2020-02-01"}
    assert len(feb) == 10
    open_end = select_events(events, months=(date(2020, 2, 15), None)).execute()
    assert len(open_end) == 12
    b = select_events(events, lsoas=["B"]).execute()
    assert set(b["lsoa_code"]) == {"B"} and len(b) == 8
    assert len(select_events(events, lsoas="A").execute()) == 9
    assert len(select_events(events, lsoas=[]).execute()) == 0


def test_bad_months():
    with pytest.raises(ValueError, match=r"month '2020-13': expected YYYY-MM"):
        parse_month("2020-13")
    with pytest.raises(ValueError, match="from 2020-03 is after to 2020-01"):
        select_events(ibis.memtable({"month": [date(2020, 1, 1)]}), months=("2020-03", "2020-01"))
    for day_or_sloppy in ("2019-04-17", "2019-01-01", "2019-1", "201904"):
        with pytest.raises(ValueError, match=r"expected YYYY-MM"):
            parse_month(day_or_sloppy)
    assert parse_month("2019-04") == parse_month(date(2019, 4, 17)) == date(2019, 4, 1)


def test_harm_package_imports_only_the_kernel_from_harmscope():
    """DESIGN §4: the domain core imports nothing else of ours but the kernel's leaf modules
    (``errors``, ``periods``; docs/architecture.md "Layers")."""
    root = Path(harmscope.harm.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("harmscope"):
                    assert name in ("harmscope.errors", "harmscope.periods") or name.startswith(
                        "harmscope.harm"
                    ), f"{path.name} imports {name}"


# -- the drug view and the type filter (issue 11 item 5, issue 10 item 4) ------------------


def _drug_shares_from_toml() -> dict[str, float]:
    """Central drug share per type, read straight from the TOML (independent of the loader)."""
    import tomllib

    doc = tomllib.loads(
        (Path(harmscope.harm.__file__).parent / "data" / "attribution.toml").read_text()
    )
    return {t: sum(f["central"] for f in srcs.values()) for t, srcs in doc["fractions"].items()}


def test_drug_view_weighs_each_event_by_its_drug_share(events):
    shares = _drug_shares_from_toml()
    full = weigh(events, "cchi").execute()
    drug = weigh(events, "cchi", harm="drug").execute()
    assert len(drug) == len(full)
    is_harm = full["kind"] == "harm"
    expected = (full.loc[is_harm, "weight"] * full.loc[is_harm, "event_type"].map(shares)).sum()
    assert drug.loc[drug["kind"] == "harm", "weight"].sum() == pytest.approx(expected)
    assert 0 < expected < full.loc[is_harm, "weight"].sum()
    # Activity is counted, so its weights do not change with the view.
    assert sorted(drug.loc[drug["kind"] == "activity", "weight"]) == sorted(
        full.loc[~is_harm, "weight"]
    )
    with pytest.raises(ValueError, match="harm 'taxonomy'"):
        weigh(events, "cchi", harm="taxonomy")


def test_drug_view_refuses_a_scheme_type_without_fractions(events, tmp_path):
    from harmscope.errors import SchemeError

    att = tmp_path / "att.toml"
    att.write_text(
        '[attribution]\nname = "tiny"\ntitle = "t"\ncitation = "c"\n[references]\nr = "x"\n'
        '[fractions."Burglary".use]\nlow = 0.1\ncentral = 0.2\nhigh = 0.3\nrefs = ["r"]\n'
        'judgement = true\nbasis = "b"\n'
    )
    with pytest.raises(SchemeError, match="no attributable fractions for event type"):
        weigh(events, "cchi", harm="drug", attribution=att)


def test_type_filter_is_case_insensitive_and_keys_searches(events):
    df = events.execute()
    kept = select_events(events, types=["burglary", "STOP AND SEARCH"]).execute()
    street = df[(df["event_type"] == "Burglary")]
    searches = df[df["source"] == "stop_search"]
    assert len(kept) == len(street) + len(searches)
    assert select_events(events, types=[]).count().execute() == 0
