"""``harmscope ingest``: load police.uk files into the warehouse."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.cli._app import app
from harmscope.cli._common import (
    DbOption,
    EngineOption,
    WideOption,
    fail,
    print_table,
    progress_bar,
)
from harmscope.errors import HarmScopeError
from harmscope.warehouse.ingest import IngestReport, ingest_paths


@app.command()
def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="CSV/CSV.gz files, folders, or police.uk zips.")
    ],
    db: DbOption = None,
    engine: EngineOption = None,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient",
            help="Quarantine bad rows instead of failing the batch (list them with "
            "`harmscope quarantine`).",
        ),
    ] = False,
    wide: WideOption = False,
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
    out = Console()
    print_table(table, out, wide=wide)
    for line in notes(report):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def notes(report: IngestReport) -> list[str]:
    """Lines under the summary table: what was kept, loaded as given, or passed over."""
    lines = []
    if report.rows_quarantined:
        lines.append(
            f"quarantined: {report.rows_quarantined} bad row(s) set aside; "
            "`harmscope quarantine` lists each with its file, line, column and reason"
        )
    if report.rows_outside_month:
        where = ", ".join(
            f"{f.path} ({f.rows_outside_month})" for f in report.files if f.rows_outside_month
        )
        lines.append(
            f"outside file month: {report.rows_outside_month} row(s) dated outside their "
            f"file's month were kept under their own month: {where}"
        )
    if report.files_without_identity:
        lines.append(
            f"no file identity: {report.files_without_identity} file(s) loaded whose name does "
            "not give force and month (YYYY-MM-<force>-<family>.csv); they supersede nothing"
        )
    if report.files_passed_over:
        more = ", ..." if report.files_passed_over > len(report.passed_over_names) else ""
        lines.append(
            f"passed over: {report.files_passed_over} file(s) not named the police.uk way "
            f"(YYYY-MM-<force>-street|outcomes|stop-and-search.csv): "
            f"{', '.join(report.passed_over_names)}{more}"
        )
    return lines
