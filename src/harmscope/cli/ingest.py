"""``harmscope ingest``: load police.uk files into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.cli import app
from harmscope.cli._common import DbOption, fail, print_table, progress_bar
from harmscope.errors import HarmScopeError
from harmscope.warehouse.ingest import ingest_paths


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="CSV/CSV.gz files, folders, or police.uk zips.")
    ],
    db: DbOption = None,
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Quarantine bad rows instead of failing the batch.")
    ] = False,
) -> None:
    """Load police.uk street, outcomes and stop-and-search CSVs (one transaction per batch)."""
    console = Console(stderr=True)
    try:
        with progress_bar(console) as progress:
            report = ingest_paths(paths, db=db, lenient=lenient, progress=progress)
    except HarmScopeError as exc:
        fail(console, exc)
    table = Table(title=f"Ingest batch {report.batch_id or '(nothing new)'}")
    for col in (
        "files",
        "skipped (already loaded)",
        "rows read",
        "loaded",
        "folded (dup. Crime ID)",
        "quarantined",
        "superseded",
    ):
        table.add_column(col, justify="right")
    table.add_row(
        *map(
            str,
            (
                len(report.files),
                report.files_skipped,
                report.rows_read,
                report.rows_loaded,
                report.rows_folded,
                report.rows_quarantined,
                report.rows_superseded,
            ),
        )
    )
    print_table(table)
