"""``harmscope export``: warehouse tables as CSV that spreadsheets will not execute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.options import months_arg
from harmscope.cli._app import app
from harmscope.cli._common import DbOption, FromOption, ToOption, check_months, fail
from harmscope.cli._selection import TypeOption, check_selection
from harmscope.errors import HarmScopeError
from harmscope.export import EVENT_SOURCES, export_events

export_app = typer.Typer(
    help="Export warehouse tables as CSV (formula-injection safe).", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("events")
def events(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (replaced if present).")],
    db: DbOption = None,
    start: FromOption = None,
    end: ToOption = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help=f"Only one file family: {', '.join(EVENT_SOURCES)}."),
    ] = None,
    types: TypeOption = None,
) -> None:
    """Every event (the warehouse event schema) as CSV; text that could start a formula is inert."""
    err = Console(stderr=True)
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    try:
        n = export_events(db, out=out, months=months_arg(start, end), source=source, types=types)
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    err.print(f"{n} events written to {out}", highlight=False)
