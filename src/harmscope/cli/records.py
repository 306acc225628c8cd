"""``harmscope load-records``: load force records and intelligence (pseudonymised, audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.cli._app import app
from harmscope.cli._common import DbOption, EngineOption, fail, print_table, progress_bar
from harmscope.errors import HarmScopeError


@app.command("load-records")
def load_records_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Force-records CSVs (nominals, groups, ...), folders or zips."),
    ],
    db: DbOption = None,
    engine: EngineOption = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Who loads (audit log); needed for personal data."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (audit log); needed for personal data."),
    ] = None,
) -> None:
    """Load nominals, groups, markets, links, reports, crime-person links and arrests.

    Person ids are replaced by keyed pseudonyms at import (key: $HARMSCOPE_PSEUDONYM_KEY or
    the key file beside the warehouse). One transaction for the batch; identical files load
    once; files of personal data need --user and --reason, written to the audit log.
    """
    from harmscope.warehouse.records import load_records

    console = Console(stderr=True)
    try:
        with progress_bar(console) as progress:
            report = load_records(paths, db=db, user=user, reason=reason, progress=progress)
    except HarmScopeError as exc:
        fail(console, exc)
    table = Table(title="Force records loaded" if report.rows else "Force records (nothing new)")
    table.add_column("records")
    table.add_column("written", justify="right")
    for name, rows in report.rows.items():
        table.add_row(name, f"{rows:,}")
    table.add_row("files", f"{report.files - report.files_skipped:,}")
    table.add_row("files skipped (already loaded)", f"{report.files_skipped:,}")
    out = Console()
    print_table(table, out)
    if report.passed_over:
        more = ", ..." if report.passed_over > len(report.passed_over_names) else ""
        out.print(
            f"passed over: {report.passed_over} file(s) in the folders given that are no "
            f"force-records layout: {', '.join(report.passed_over_names)}{more}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
