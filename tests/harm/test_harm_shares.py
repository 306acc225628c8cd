"""matrix_shares / spread_harm: each unit's matrix cells by the rule harm_matrix spreads with."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd
import pytest

from harmscope.harm import harm_matrix
from harmscope.harm.selection import check_harm, check_types, harm_label, selection_attrs
from harmscope.harm.shares import matrix_shares, spread_harm
from harmscope.harm.weigh import event_key, weigh


@pytest.mark.parametrize("view", ["drug", "all"])
def test_spread_per_lsoa_equals_the_matrix_of_its_events(events: ir.Table, view: str) -> None:
    # Every crime's harm per LSOA and type, spread by the shares of the view ...
    w = weigh(events.mutate(event_key=event_key(events)), "cchi", harm="all")
    w = w.filter(w.kind == "harm")
    totals = (
        w.group_by(["lsoa_code", "event_key"])
        .aggregate(value=w.weight.sum())
        .to_pandas()
        .fillna({"lsoa_code": "-"})
    )
    spread = spread_harm(totals, matrix_shares("cchi", harm=view), unit_columns=["lsoa_code"])
    # ... is each LSOA's own harm matrix in that view (central values, cell by cell).
    for lsoa in ("A", "B"):
        m = harm_matrix(events, scheme="cchi", harm=view, lsoas=[lsoa])
        mine = spread[spread["lsoa_code"] == lsoa].set_index(["harm_type", "bearer", "source"])
        expected = {
            (c["harm_type"], c["bearer"], c["source"]): c["value"] for c in m.cells if c["value"]
        }
        got = {k: v for k, v in mine["value"].items() if v}
        assert got == pytest.approx(expected)
        assert mine["value"].sum() == pytest.approx(m.total)
    if view == "drug":
        assert "not_attributed" not in set(spread["source"])
    else:
        assert "not_attributed" in set(spread["source"])


def test_shares_of_a_type_add_to_its_drug_share() -> None:
    shares = matrix_shares("cchi")
    burglary = shares[shares["event_key"] == "Burglary"]["share"].sum()
    assert burglary == pytest.approx(0.45)  # attribution.toml: Burglary use, central 0.45
    every = matrix_shares("cchi", harm="all")
    per_type = every.groupby("event_key")["share"].sum()
    assert per_type.to_numpy() == pytest.approx(1.0)  # drug part + remainder = all its harm
    assert isinstance(every, pd.DataFrame)


def test_selection_checks() -> None:
    assert check_harm(" ALL ") == "all" and harm_label("Drug") == "drug-attributed harm"
    with pytest.raises(ValueError, match="harm 'taxonomy': expected drug or all"):
        check_harm("taxonomy")
    assert check_types(None) is None and check_types([]) is None
    assert check_types(["stop and search", "Burglary", "burglary"]) == (
        "Stop and search",
        "Burglary",
    )
    with pytest.raises(ValueError, match="expected one of: Violence and sexual offences"):
        check_types(["Fraud"])
    assert selection_attrs("all", ("Burglary",)) == {
        "harm_view": "all",
        "harm_label": "all crime harm",
        "types": ["Burglary"],
    }
