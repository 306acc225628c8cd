"""``harm.local.apply_local``: the local excess replaces the national distribution fraction
in the market cells, on the real City of London matrix (six months, ``city_db``), every
figure recomputed by hand from the matrix cells."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harmscope.harm import harm_matrix
from harmscope.harm.local import LOCAL_BASIS, LOCAL_REF, LocalExcess, MarketExcessRow, apply_local
from harmscope.warehouse.handle import Warehouse


def _matrix(db: Path, view: str):
    with Warehouse.of(db) as wh:
        return harm_matrix(wh.events(), scheme="cchi", harm=view)


def _local(area_harm: float, low: float, central: float, high: float) -> LocalExcess:
    row = MarketExcessRow("mkt-x", area_harm, 0.0, 0.0, low, central, high)
    return LocalExcess(
        unit="days", scheme="cchi", total=(low, central, high), markets=(row,), method="m"
    )


def _sum(cells, source: str, key: str = "value") -> float:
    return math.fsum(c[key] for c in cells if c["source"] == source)


@pytest.mark.parametrize("view", ["drug", "all"])
def test_rule_recomputed_by_hand(city_db: Path, view: str) -> None:
    m = _matrix(city_db, view)
    h = m.drug_attributed + m.not_attributed
    a, e = 0.2 * h, 0.03 * h  # market cells hold 20 % of harm, their excess is 3 % of it
    out = apply_local(m, _local(a, 0.01 * h, e, 0.05 * h))
    keep, other = 1 - a / h, 1 - a / h + (a - e) / h
    # distribution: outside share of the national cells plus the excess (and its range)
    assert _sum(out.cells, "distribution") == pytest.approx(
        _sum(m.cells, "distribution") * keep + e
    )
    assert _sum(out.cells, "distribution", "low") == pytest.approx(
        _sum(m.cells, "distribution", "low") * keep + 0.01 * h
    )
    assert _sum(out.cells, "distribution", "high") == pytest.approx(
        _sum(m.cells, "distribution", "high") * keep + 0.05 * h
    )
    # use, production, control: outside plus the market cells' background
    for src in ("use", "production", "control"):
        assert _sum(out.cells, src) == pytest.approx(_sum(m.cells, src) * other)
    # nothing created or lost
    assert out.drug_attributed + out.not_attributed == pytest.approx(h)
    drug = sum(_sum(out.cells, s) for s in ("use", "production", "distribution", "control"))
    assert out.drug_attributed == pytest.approx(drug)
    assert out.total == pytest.approx(drug if view == "drug" else h)
    if view == "all":
        assert _sum(out.cells, "not_attributed") == pytest.approx(out.not_attributed)
    # every cell of the shape is still there, labelled and cited
    assert len(out.cells) == len(m.cells)
    dist = [c for c in out.cells if c["source"] == "distribution" and c["value"] > 0]
    assert dist and all(c["basis"] == LOCAL_BASIS and LOCAL_REF in c["refs"] for c in dist)
    assert LOCAL_REF in out.references
    assert [c["value"] for c in out.cells] == sorted((c["value"] for c in out.cells), reverse=True)


def test_negative_excess_adds_nothing_but_drops_the_national_share(city_db: Path) -> None:
    m = _matrix(city_db, "drug")
    h = m.drug_attributed + m.not_attributed
    out = apply_local(m, _local(0.1 * h, -0.02 * h, -0.01 * h, 0.005 * h))
    # clipped at 0: the market cells are all background
    assert _sum(out.cells, "distribution") == pytest.approx(_sum(m.cells, "distribution") * 0.9)
    assert _sum(out.cells, "use") == pytest.approx(_sum(m.cells, "use"))
    assert _sum(out.cells, "distribution", "high") == pytest.approx(
        _sum(m.cells, "distribution", "high") * 0.9 + 0.005 * h
    )


def test_refusals(city_db: Path) -> None:
    m = _matrix(city_db, "drug")
    h = m.drug_attributed + m.not_attributed
    with pytest.raises(ValueError, match="more than the matrix"):
        apply_local(m, _local(2 * h, 0, 0, 0))
    other = LocalExcess("events", "count", (0, 0, 0), (), "")
    with pytest.raises(ValueError, match="scheme"):
        apply_local(m, other)
    assert apply_local(m, LocalExcess("days", "cchi", (0, 0, 0), (), "")) is m
