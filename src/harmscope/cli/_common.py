"""Options and helpers shared by the command modules."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Warehouse DuckDB file (default $HARMSCOPE_DB or harmscope.duckdb)."),
]


def fail(console: Console, exc: Exception, code: int = 2) -> NoReturn:
    """Print an error the way every command does and exit non-zero."""
    console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def progress_bar(
    console: Console, *, delay: float = 1.0
) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback that shows a Rich bar only once work has taken over ``delay`` s."""
    start = time.monotonic()
    bar: Progress | None = None
    tasks: dict[str, TaskID] = {}

    def callback(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if time.monotonic() - start < delay or not console.is_terminal:
                return
            bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                           console=console, transient=True)
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    try:
        yield callback
    finally:
        if bar is not None:
            bar.stop()
