"""Options every face takes, parsed and checked once: output format, months, study area.

A face (the CLI, the web app) reads the raw values its user typed and calls these; each
either returns what the library takes or raises :class:`ValueError` /
:class:`~harmscope.errors.HarmScopeError` with a one-line message naming the option. The face
only shows the message (the CLI prints ``error: ...`` and exits 2), so both faces refuse the
same input with the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from harmscope.geo import DEFAULT_CELL_SIZE

if TYPE_CHECKING:
    from harmscope.places.study_area import AreaCells

__all__ = ["check_format", "check_month", "check_period", "months_arg", "study_area"]

Months = tuple[str | None, str | None]
"""``(from, to)`` as typed, ``YYYY-MM`` each, either open (None)."""


#: Formats written as bytes: they go to a file, never to stdout.
BINARY_FORMATS: tuple[str, ...] = ("parquet", "gpkg", "tif")


def binary_out(fmt: str, out: str | Path | None) -> str | Path:
    """The file a binary format is written to.

    Raises
    ------
    ValueError
        ``--format gpkg needs --out FILE (gpkg is binary)`` when there is none.
    """
    if out is None:
        raise ValueError(f"--format {fmt} needs --out FILE ({fmt} is binary)")
    return out


def check_out(fmt: str, out: str | Path | None) -> None:
    """Refuse a binary format (:data:`BINARY_FORMATS`) without an output file, before any
    work is done."""
    if fmt in BINARY_FORMATS:
        binary_out(fmt, out)


def check_format(fmt: str, choices: Sequence[str]) -> str:
    """*fmt* when it is one of *choices*.

    Raises
    ------
    ValueError
        ``--format must be a, b or c, not 'x'``.
    """
    if fmt not in choices:
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        raise ValueError(f"--format must be {listed}, not {fmt!r}")
    return fmt


def check_month(value: str | None, option: str) -> str | None:
    """*value* when it is a month written ``YYYY-MM`` (or None).

    Parameters
    ----------
    value : str or None
        The month as typed.
    option : str
        The option's name in messages (``--from``).

    Raises
    ------
    ValueError
        ``--from: month '2019-01-01': expected YYYY-MM (e.g. 2019-04)``: a day is refused,
        since a month given as a day is easily mistaken for a bound.
    """
    if value is None:
        return value
    from harmscope.harm.weigh import parse_month

    try:
        parse_month(value)
    except ValueError as exc:
        raise ValueError(f"{option}: {exc}") from None
    return value


def months_arg(start: str | None, end: str | None) -> Months | None:
    """The ``(from, to)`` pair the library takes, or None when neither is given."""
    return None if start is None and end is None else (start, end)


def check_period(db: str | PathLike[str] | None, start: str | None, end: str | None) -> str | None:
    """Refuse a ``--from``/``--to`` holding no month of the warehouse's data.

    Every analysis face calls this once, before it answers, so an empty period never reads
    as "no harm" (:func:`harmscope.harm.months.check_months`).

    Parameters
    ----------
    db : path or None
        The warehouse (None: :func:`harmscope.warehouse.default_db`).
    start, end : str or None
        The period as typed, ``YYYY-MM``; nothing is checked (nor opened) when both are None.

    Returns
    -------
    str or None
        A warning when the period reaches past the data (the answer then covers only the
        overlap), else None.

    Raises
    ------
    HarmScopeError
        The warehouse cannot be opened, or the period holds no month of data (the message
        names the months the warehouse covers).
    ValueError
        A bound is not ``YYYY-MM``, or from is after to.
    """
    if start is None and end is None:
        return None
    from harmscope.harm.months import check_months
    from harmscope.warehouse import Warehouse, default_db

    with Warehouse.open(db, read_only=True) as warehouse:
        return check_months(
            warehouse.backend.table("events"), (start, end), what=str(db or default_db())
        )


def study_area(
    area: str | None,
    db: str | PathLike[str] | None = None,
    cell_size: float = DEFAULT_CELL_SIZE,
) -> AreaCells:
    """The study area of an ``--area`` value, or the dataset's own when it is None.

    Parameters
    ----------
    area : str or None
        ``lsoa:CODE,...``, ``lad:CODE`` (a local authority's LSOAs) or a GeoJSON file (WGS84
        or BNG); None: the force's own area (the districts holding its records).
    db : path or None
        The warehouse (None: :func:`harmscope.warehouse.default_db`).
    cell_size : float
        Grid cell side, metres (EPSG:27700).

    Returns
    -------
    AreaCells
        Its cells and the stray records left out; :meth:`AreaCells.describe` is the one-line
        summary faces show (:func:`harmscope.places.study_area.dataset_area`).

    Raises
    ------
    HarmScopeError or ValueError
        A value that names no area, or a warehouse that cannot answer.
    """
    from harmscope.places.study_area import dataset_area
    from harmscope.warehouse import default_db

    return dataset_area(db if db is not None else default_db(), area, cell_size=cell_size)
