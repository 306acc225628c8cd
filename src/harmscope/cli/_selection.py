"""The selection options every analysis command shares: ``--harm`` and ``--type``.

``--harm drug|all`` chooses the view of harm (drug-attributed, the default, or every crime's;
case-insensitive) and ``--type TYPE`` (repeatable) keeps only those police.uk crime types
(case-insensitive; a name the taxonomy does not map is refused, listing the valid ones). Both
are checked by :mod:`harmscope.harm.selection`, so the library and every face refuse the same
input with the same words. ``--from/--to`` are :data:`~harmscope.cli._common.FromOption` and
:data:`~harmscope.cli._common.ToOption`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harmscope.cli._common import fail

if TYPE_CHECKING:
    from harmscope.places.study_area import AreaCells

__all__ = [
    "HarmOption",
    "TypeOption",
    "check_selection",
    "harm_option",
    "type_option",
    "warn_dropped_selection",
]


def harm_option(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """Typer callback: ``--harm`` as its view key (``'drug'`` or ``'all'``); exit 2 otherwise."""
    if ctx.resilient_parsing:
        return value
    from harmscope.harm.selection import check_harm

    try:
        return check_harm(value)
    except ValueError:
        fail(Console(stderr=True), ValueError(f"--harm: expected drug or all, got {value!r}"))


def type_option(
    ctx: typer.Context, param: typer.CallbackParam, value: list[str] | None
) -> list[str] | None:
    """Typer callback: ``--type`` names in the taxonomy's spelling; exit 2 naming the valid ones."""
    if ctx.resilient_parsing or not value:
        return None
    from harmscope.harm.selection import check_types

    try:
        checked = check_types(value)
    except ValueError as exc:
        fail(Console(stderr=True), exc)
    return None if checked is None else list(checked)


HarmOption = Annotated[
    str,
    typer.Option(
        "--harm",
        help="drug: harm attributed to drugs (each crime's harm times its type's cited "
        "drug-attributable share); all: every crime's harm.",
        callback=harm_option,
    ),
]
TypeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        help="Only this police.uk crime type, e.g. Burglary or 'Violence and sexual offences' "
        "(repeatable; any case). Default: every type.",
        callback=type_option,
    ),
]


def check_selection(
    console: Console,
    db: str | Path | None,
    start: str | None,
    end: str | None,
    types: list[str] | None,
    *,
    located: bool = False,
    area: AreaCells | None = None,
) -> None:
    """Refuse (exit 2) a ``--type`` selection with no record in the period, saying so.

    An empty selection would otherwise read as "no harm". Nothing is checked without
    ``--type`` (the period itself is checked by :func:`~harmscope.cli._common.check_months`).

    Parameters
    ----------
    located : bool, default False
        Count only located records (the grid commands: hotspots, markets, ...).
    area : AreaCells, optional
        The study area: the line printed then says how many of the selected records lie
        outside it (the study area's own summary counts every record).
    """
    if not types:
        return
    from harmscope.errors import HarmScopeError
    from harmscope.harm.weigh import select_events
    from harmscope.places.study_area import records_outside
    from harmscope.warehouse import Warehouse

    try:
        with Warehouse.open(db, read_only=True) as warehouse:
            events = warehouse.backend.table("events")
            chosen = select_events(events, months=(start, end), types=types)
            if located:
                chosen = chosen.filter(chosen.x.notnull() & chosen.y.notnull())
            n = int(chosen.count().execute())
            strays = (
                records_outside(select_events(events, types=types), area, months=(start, end))
                if area is not None and n
                else 0
            )
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    if n == 0:
        where = "located " if located else ""
        span = f" from {start or 'the first month'} to {end or 'the last month'}"
        fail(
            console,
            ValueError(
                f"no {where}records of type {', '.join(types)}{span}: nothing to analyse "
                "(--type selects police.uk crime types; check the spelling and the period)"
            ),
        )
    outside = "" if area is None else f", {strays:,} of them outside the study area (left out)"
    console.print(
        f"selection: {n:,} {'located ' if located else ''}records of type "
        f"{escape(', '.join(types))} in the period{outside}",
        highlight=False,
        soft_wrap=True,
    )


def warn_dropped_selection(
    console: Console,
    db: str | Path | None,
    scheme: str,
    months: tuple[str | None, str | None] | None,
    types: list[str] | None,
    *,
    located: bool = False,
) -> None:
    """Say which events of the selection (period and ``--type``) the scheme left out.

    :func:`~harmscope.cli._common.warn_dropped_for` for commands whose result cannot carry
    the count (a list of markets), counted on the types asked for.
    """
    from harmscope.cli._common import warn_dropped
    from harmscope.harm.weigh import dropped_events, select_events
    from harmscope.warehouse import ibis_connect

    backend = ibis_connect(db, read_only=True)
    try:
        chosen = select_events(backend.table("events"), types=types)
        dropped = dropped_events(chosen, scheme, months=months, located=located)
    finally:
        backend.disconnect()
    warn_dropped(console, dropped)
