"""The month/period/progress kernel (:mod:`harmscope.periods`): strict parsing and ranges.

Expected month lists are built independently with pandas' monthly periods.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

import harmscope.harm as harm
from harmscope.harm.weigh import parse_month as weigh_parse_month
from harmscope.periods import Period, month_range, months_between, parse_month, progress_stage


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-04", date(2019, 4, 1)),
        ("  2019-04 ", date(2019, 4, 1)),  # surrounding blanks from a config file
        ("2019-12", date(2019, 12, 1)),
        ("0001-01", date(1, 1, 1)),
        (date(2019, 4, 17), date(2019, 4, 1)),
        (datetime(2020, 2, 29, 23, 59), date(2020, 2, 1)),
    ],
)
def test_parse_month_gives_the_first_day(value: str | date, expected: date) -> None:
    got = parse_month(value)
    assert got == expected
    assert type(got) is date  # never a datetime, which compares unequal to dates in pandas


@pytest.mark.parametrize(
    "value",
    ["2019-1", "2019-13", "2019-00", "19-04", "2019-04-01", "2019/04", "April 2019", "", "2019-4 "],
)
def test_parse_month_refuses_what_is_not_yyyy_mm(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected YYYY-MM") as err:
        parse_month(value)
    assert repr(value) in str(err.value)  # the message quotes what was given


def test_old_import_paths_still_give_the_kernel_parser() -> None:
    assert weigh_parse_month is parse_month
    assert harm.parse_month is parse_month


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        ("2018-11", "2019-02"),
        ("2019-01", "2019-01"),
        ("2016-02", "2021-11"),
        ("1999-12", "2000-01"),
    ],
)
def test_month_range_matches_pandas(lo: str, hi: str) -> None:
    expected = [p.to_timestamp().date() for p in pd.period_range(lo, hi, freq="M")]
    assert month_range(parse_month(lo), parse_month(hi)) == expected
    assert months_between(parse_month(lo), parse_month(hi)) == len(expected) - 1


def test_month_range_reads_only_year_and_month() -> None:
    assert month_range(date(2019, 1, 31), date(2019, 3, 1)) == [
        date(2019, 1, 1),
        date(2019, 2, 1),
        date(2019, 3, 1),
    ]
    assert month_range(date(2019, 3, 1), date(2019, 2, 1)) == []
    assert months_between(date(2019, 3, 1), date(2018, 12, 31)) == -3


def test_period_helpers() -> None:
    p = Period.of("2018-11", "2019-02")
    assert p.first == date(2018, 11, 1) and p.last == date(2019, 2, 1)
    assert len(p) == 4 == len(p.months()) == len(list(p))
    assert "2018-11" in p and date(2019, 2, 28) in p and "2019-02" in p
    assert "2018-10" not in p and "2019-03" not in p
    assert "not a month" not in p and 201811 not in p
    assert p.as_months() == ("2018-11", "2019-02")
    assert str(p) == "2018-11 to 2019-02"
    assert Period.of(*p.as_months()) == p


def test_period_refuses_reversed_or_bad_bounds() -> None:
    with pytest.raises(ValueError, match="from 2019-03 is after to 2019-02"):
        Period.of("2019-03", "2019-02")
    with pytest.raises(ValueError, match="expected YYYY-MM"):
        Period.of("2019-3", "2019-04")
    with pytest.raises(ValueError, match="first day of a month"):
        Period(date(2019, 3, 2), date(2019, 4, 1))


def test_period_bounded_fills_open_ends() -> None:
    first, last = date(2018, 12, 1), date(2021, 11, 1)
    assert Period.bounded(None, default_first=first, default_last=last) == Period(first, last)
    assert Period.bounded(("2019-05", None), default_first=first, default_last=last) == Period(
        date(2019, 5, 1), last
    )
    assert Period.bounded((None, "2019-05"), default_first=first, default_last=last) == Period(
        first, date(2019, 5, 1)
    )
    with pytest.raises(ValueError, match="after to"):
        Period.bounded(("2022-01", None), default_first=first, default_last=last)


def test_progress_stage_reports_each_unit_once_and_ends_at_total() -> None:
    calls: list[tuple[str, int, int]] = []

    def progress(stage: str, done: int, total: int) -> None:
        calls.append((stage, done, total))

    with progress_stage(progress, "files", 4) as advance:
        for done in (1, 1, 3, 2, 4, 9):  # repeats, a step back and an overshoot are absorbed
            advance(done)
    assert calls == [("files", 0, 4), ("files", 1, 4), ("files", 3, 4), ("files", 4, 4)]
    with pytest.raises(RuntimeError), progress_stage(progress, "broken", 2):
        raise RuntimeError("stop")
    assert calls[-1] == ("broken", 0, 2)  # an interrupted stage does not claim to be done
    with progress_stage(None, "nobody listens") as advance:
        advance(1)
