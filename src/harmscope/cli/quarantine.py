"""``harmscope quarantine``: the rows ``ingest --lenient`` set aside, with where and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import (
    DbOption,
    EngineOption,
    WideOption,
    check_format,
    fail,
    print_table,
)
from harmscope.errors import HarmScopeError


@app.command("quarantine")
def quarantine_command(
    db: DbOption = None,
    engine: EngineOption = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="Only this file's rows: its name, its path as ingested, or a zip member.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    wide: WideOption = False,
) -> None:
    """List the rows `ingest --lenient` quarantined: file, line, column, value and reason.

    Lines count from 1 with the header as line 1, as an editor shows them; the column is the
    police.uk header name and the value what the row holds there. The table shows one table
    per file (the record column is the first hidden in a narrow terminal; --wide shows it);
    CSV and JSON hold every row with batch_id, file, line, column, value, reason and record.
    """
    from harmscope.warehouse.quarantine import quarantined_rows

    err = Console(stderr=True)
    check_format(err, fmt, "table", "csv", "json")
    if db is not None and not Path(db).exists():
        fail(err, ValueError(f"--db {db}: no such warehouse file"))
    try:
        rows = quarantined_rows(db, file=file)
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    if fmt != "table":
        render(rows, fmt)
        return
    out = Console()
    if rows.empty:
        out.print("no quarantined rows (ingest --lenient puts bad rows here)", highlight=False)
        return
    for name, group in rows.groupby("file", sort=False):
        n = len(group)
        table = Table(title=f"{name}: {n} quarantined row{'s' if n != 1 else ''}")
        for col in ("line", "column", "value", "reason", "record"):
            table.add_column(col, justify="right" if col == "line" else "left")
        for row in group.itertuples(index=False):
            table.add_row(str(row.line), row.column, row.value, row.reason, row.record or "")
        print_table(table, out, wide=wide)
