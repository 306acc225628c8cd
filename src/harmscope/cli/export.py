"""``harmscope export``: warehouse tables as CSV that spreadsheets will not execute."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.options import months_arg
from harmscope.cli._app import app
from harmscope.cli._common import (
    CellSizeOption,
    DbOption,
    EngineOption,
    FromOption,
    SchemeOption,
    ToOption,
    check_months,
    fail,
)
from harmscope.cli._selection import TypeOption, check_selection
from harmscope.errors import HarmScopeError
from harmscope.export import EVENT_SOURCES, export_events
from harmscope.places.grid import DEFAULT_CELL_SIZE

export_app = typer.Typer(
    help="Export warehouse tables as CSV (formula-injection safe).", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@export_app.command("events")
def events(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="CSV file to write (replaced if present); default stdout."),
    ] = None,
    db: DbOption = None,
    engine: EngineOption = None,
    start: FromOption = None,
    end: ToOption = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help=f"Only one file family: {', '.join(EVENT_SOURCES)}."),
    ] = None,
    types: TypeOption = None,
    scheme: SchemeOption = "cchi",
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
) -> None:
    """Every event (the warehouse event schema) as CSV, with its weight under --scheme (weight,
    kind) and its grid cell at --cell-size (cell_x, cell_y, cell_id); text that could start a
    formula is inert. Written to stdout, or to --out."""
    err = Console(stderr=True)
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    try:
        n = export_events(
            db,
            out=sys.stdout if out is None else out,
            months=months_arg(start, end),
            source=source,
            types=types,
            scheme=scheme,
            cell_size=cell_size,
        )
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)
    err.print(f"{n} events written to {out or 'stdout'}", highlight=False, soft_wrap=True)
