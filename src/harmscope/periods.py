"""Months, periods and progress: the small vocabulary every layer shares.

A leaf module (it imports nothing of ours), so ``harm/`` and everything above it can use it.

- :data:`Months` is the ``(from, to)`` pair every analysis function takes: inclusive bounds,
  each ``'YYYY-MM'``, a date, or None (open).
- :func:`parse_month` is the one strict month parser: ``'YYYY-MM'`` or a date, never a day.
- :class:`Period` is a checked, closed month range with the helpers callers used to write by
  hand (the month list, membership, length).
- :data:`Progress` is the ``progress(stage, done, total)`` callback library functions take;
  the faces draw it (the CLI as a Rich bar). Its protocol: for each stage, ``done`` never
  decreases and the stage's last call has ``done == total`` (a finished stage reads 100 %);
  :func:`progress_stage` keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "FractionProgress",
    "Months",
    "Period",
    "Progress",
    "month_range",
    "months_between",
    "parse_month",
    "progress_stage",
]

Months = tuple[str | date | None, str | date | None]
"""Inclusive ``(from, to)`` month bounds; each ``'YYYY-MM'``, a date, or None (open)."""

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: a named stage, work units done so far and in all."""

FractionProgress = Callable[[str, float], None]
"""``progress(stage, fraction)``: a named stage and the share of the work done (0 to 1)."""


@contextmanager
def progress_stage(
    progress: Progress | None, stage: str, total: int = 1
) -> Iterator[Callable[[int], None]]:
    """Report one stage of work on *progress*, keeping the :data:`Progress` protocol.

    Reports ``(stage, 0, total)`` on entry and ``(stage, total, total)`` when the block ends
    without error; inside, ``advance(done)`` reports the units done so far (clamped to
    ``0..total`` and never going back), e.g. once per file or month.

    Parameters
    ----------
    progress : Progress or None
        The callback; None reports nothing (the block still runs).
    stage : str
        What the work is, as people read it ("reading files", "months").
    total : int
        Units of work in the stage (at least 1).

    Examples
    --------
    >>> calls = []
    >>> with progress_stage(lambda *a: calls.append(a), "months", 3) as advance:
    ...     for m in range(3):
    ...         advance(m + 1)
    >>> calls
    [('months', 0, 3), ('months', 1, 3), ('months', 2, 3), ('months', 3, 3)]
    """
    total = max(int(total), 1)
    reached = 0

    def advance(done: int) -> None:
        nonlocal reached
        done = min(max(int(done), reached), total)
        # The last unit is reported once, on leaving the block, so the stage ends at total once.
        if progress is not None and reached < done < total:
            progress(stage, done, total)
        reached = done

    if progress is not None:
        progress(stage, 0, total)
    yield advance
    if progress is not None:
        progress(stage, total, total)


# Four-digit year, two-digit month, nothing else (strptime alone accepts '2019-1').
_MONTH_TEXT = re.compile(r"\d{4}-\d{2}")


def parse_month(value: str | date | datetime) -> date:
    """First day of the month of ``value``.

    Parameters
    ----------
    value : str, date or datetime
        ``'YYYY-MM'`` or a date. A day-precision string such as ``'2019-01-01'`` is refused:
        a month given as a day is ambiguous (the day is easily mistaken for a bound).

    Returns
    -------
    datetime.date
        The first day of that month.

    Raises
    ------
    ValueError
        Not a month: the message quotes the value and the expected form.
    """
    if isinstance(value, date):  # datetime is a date too
        return date(value.year, value.month, 1)
    text = str(value).strip()
    try:
        if not _MONTH_TEXT.fullmatch(text):
            raise ValueError(text)
        parsed = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise ValueError(f"month {value!r}: expected YYYY-MM (e.g. 2019-04)") from None
    return date(parsed.year, parsed.month, 1)


def month_range(lo: date, hi: date) -> list[date]:
    """First days of the months from ``lo`` to ``hi``, both included (empty if ``lo > hi``).

    Parameters
    ----------
    lo, hi : datetime.date
        Any day of the first and last month; only year and month are read.
    """
    out = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_between(lo: date, hi: date) -> int:
    """Whole calendar months from the month of ``lo`` to that of ``hi`` (negative if before)."""
    return (hi.year - lo.year) * 12 + (hi.month - lo.month)


@dataclass(frozen=True)
class Period:
    """A closed range of whole months, ``first`` to ``last`` (first days), both included.

    Build one with :meth:`of` from a :data:`Months` pair, which checks both bounds and their
    order; the fields are always first days of months.
    """

    first: date
    last: date

    def __post_init__(self) -> None:
        for name in ("first", "last"):
            value = getattr(self, name)
            if not isinstance(value, date) or value.day != 1 or isinstance(value, datetime):
                raise ValueError(f"period {name} {value!r}: expected the first day of a month")
        if self.first > self.last:
            raise ValueError(
                f"months: from {self.first:%Y-%m} is after to {self.last:%Y-%m} "
                "(expected from <= to)"
            )

    @classmethod
    def of(cls, lo: str | date, hi: str | date) -> Period:
        """The period from month ``lo`` to month ``hi`` (``'YYYY-MM'`` or dates).

        Raises
        ------
        ValueError
            A bound is not a month, or ``lo`` is after ``hi``.
        """
        return cls(parse_month(lo), parse_month(hi))

    @classmethod
    def bounded(cls, months: Months | None, *, default_first: date, default_last: date) -> Period:
        """The period a :data:`Months` pair asks for, its open ends filled by the defaults.

        Parameters
        ----------
        months : (from, to) or None
            Inclusive bounds; None or a None bound means "from the data's first month" or
            "to its last".
        default_first, default_last : datetime.date
            The months an open end stands for (usually the data's first and last).
        """
        lo = months[0] if months is not None and months[0] is not None else default_first
        hi = months[1] if months is not None and months[1] is not None else default_last
        return cls.of(lo, hi)

    def months(self) -> list[date]:
        """First days of every month of the period, in order."""
        return month_range(self.first, self.last)

    def __iter__(self) -> Iterator[date]:
        return iter(self.months())

    def __len__(self) -> int:
        return months_between(self.first, self.last) + 1

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str | date):
            return False
        try:
            month = parse_month(value)
        except ValueError:
            return False
        return self.first <= month <= self.last

    def as_months(self) -> tuple[str, str]:
        """``('YYYY-MM', 'YYYY-MM')``: the period as a :data:`Months` pair."""
        return (f"{self.first:%Y-%m}", f"{self.last:%Y-%m}")

    def __str__(self) -> str:
        return f"{self.first:%Y-%m} to {self.last:%Y-%m}"
