"""``harm.months``: the months a warehouse covers, and refusing a period outside them."""

from __future__ import annotations

from datetime import date

import ibis
import pytest

from harmscope.errors import WarehouseError
from harmscope.harm.months import check_months, months_covered


@pytest.fixture()
def events() -> ibis.Table:
    # 2019-01..2019-06 with 2019-03 missing: five months hold data.
    months = [date(2019, m, 1) for m in (1, 1, 2, 4, 5, 6, 6)]
    return ibis.memtable({"month": months})


def test_months_covered(events: ibis.Table) -> None:
    cov = months_covered(events)
    assert cov is not None
    assert (cov.first, cov.last, cov.months) == (date(2019, 1, 1), date(2019, 6, 1), 5)
    assert str(cov) == "2019-01 to 2019-06 (5 months with data)"
    assert months_covered(events.filter(events.month > date(2030, 1, 1))) is None


def test_period_inside_the_data_passes(events: ibis.Table) -> None:
    assert check_months(events, None) is None
    assert check_months(events, (None, None)) is None
    assert check_months(events, ("2019-01", "2019-06")) is None
    assert check_months(events, ("2019-03", None)) is None  # a gap inside is not "outside"


@pytest.mark.parametrize(
    ("months", "asked"),
    [
        (("2025-01", "2025-06"), "no data for 2025-01 to 2025-06"),
        (("2019-07", None), "no data for 2019-07 onwards"),
        ((None, "2018-12"), "no data for up to 2018-12"),
    ],
)
def test_period_outside_the_data_is_refused(
    events: ibis.Table, months: tuple[str | None, str | None], asked: str
) -> None:
    with pytest.raises(WarehouseError) as info:
        check_months(events, months, what="w.duckdb")
    assert asked in str(info.value)
    assert "w.duckdb covers 2019-01 to 2019-06" in str(info.value)


def test_period_reaching_past_the_data_warns(events: ibis.Table) -> None:
    warning = check_months(events, ("2018-06", "2019-02"), what="w.duckdb")
    assert warning is not None
    assert "2018-06 to 2019-02 reaches outside the data" in warning
    assert "w.duckdb covers 2019-01 to 2019-06" in warning
    assert warning.endswith("the figures cover 2019-01 to 2019-02 only")


def test_bad_bounds_and_empty_warehouse(events: ibis.Table) -> None:
    with pytest.raises(ValueError, match=r"month '2019-01-01': expected YYYY-MM"):
        check_months(events, ("2019-01-01", None))
    with pytest.raises(ValueError, match="from 2019-05 is after to 2019-02"):
        check_months(events, ("2019-05", "2019-02"))
    empty = events.filter(events.month > date(2030, 1, 1))
    with pytest.raises(WarehouseError, match="holds no events"):
        check_months(empty, ("2019-01", None))
