"""Month arithmetic of a simulation: index <-> ``YYYY-MM`` label."""

from __future__ import annotations

from harmscope.errors import SimulationError


def month_label(first: str, m: int) -> str:
    """Label ``YYYY-MM`` of month index ``m`` (0-based) counted from ``first``.

    >>> month_label("2021-11", 3)
    '2022-02'
    """
    y, mo = (int(v) for v in first.split("-"))
    t = y * 12 + mo - 1 + m
    return f"{t // 12:04d}-{t % 12 + 1:02d}"


def month_index(start: int | str, first: str) -> int:
    """Month index of ``start`` (int index or ``"YYYY-MM"``) relative to ``first``.

    >>> month_index("2022-02", "2021-11"), month_index(5, "2021-11")
    (3, 5)
    """
    if isinstance(start, int):
        return start
    try:
        y, m = (int(v) for v in str(start).split("-"))
        y0, m0 = (int(v) for v in first.split("-"))
    except ValueError as exc:
        raise SimulationError(f"operation start {start!r} is not YYYY-MM or a month index") from exc
    return (y - y0) * 12 + (m - m0)
