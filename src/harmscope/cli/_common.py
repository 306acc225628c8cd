"""Options and helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from harmscope.places.study_area import AreaCells

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Warehouse DuckDB file (default $HARMSCOPE_DB or harmscope.duckdb)."),
]


def fail(console: Console, exc: Exception, code: int = 2) -> NoReturn:
    """Print an error the way every command does and exit non-zero."""
    # The message quotes user data: escape it so '[bold]' in a file prints as written.
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def check_format(console: Console, fmt: str, *choices: str) -> None:
    """Exit with ``--format must be a, b or c, not 'x'`` unless ``fmt`` is one of ``choices``."""
    if fmt not in choices:
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        fail(console, ValueError(f"--format must be {listed}, not {fmt!r}"))


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
            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            bar.start()
        if stage not in tasks:
            for earlier in tasks.values():  # a new stage means the earlier ones are done
                bar.update(earlier, completed=bar.tasks[earlier].total)
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    try:
        yield callback
    finally:
        if bar is not None:
            bar.stop()


SchemeOption = Annotated[
    str, typer.Option("--scheme", help="Weight scheme: cchi, count, or a TOML file.")
]
FromOption = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM (inclusive).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM (inclusive).")]


def months_arg(start: str | None, end: str | None) -> tuple[str | None, str | None] | None:
    """The (from, to) pair the library takes, or None when neither is given."""
    return None if start is None and end is None else (start, end)


def emit_csv(frame: pd.DataFrame, out: Path | None) -> None:
    """Write a table as CSV (to ``out`` or stdout) through the injection-safe writer."""
    from harmscope.export import write_csv

    if out is None:
        write_csv(frame, sys.stdout)
    else:
        with open(out, "w", newline="", encoding="utf-8") as fh:
            write_csv(frame, fh)


def emit_json(payload: object, out: Path | None) -> None:
    """Write JSON (to ``out`` or stdout); NaN and infinities become null (strict JSON)."""
    text = json.dumps(_finite(payload), indent=2, default=_jsonable, allow_nan=False)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        Path(out).write_text(text + "\n", encoding="utf-8")


def _finite(value: object) -> object:
    """``value`` with every non-finite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _jsonable(value: object) -> object:
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, datetime | pd.Timestamp | date):
        ts = pd.Timestamp(value)
        # Months are stored as their first day: show them as analysts write them.
        if ts.day == 1 and ts == ts.normalize():
            return ts.strftime("%Y-%m")
        return ts.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """DataFrame rows as JSON-ready dicts (NaN -> None, months as YYYY-MM)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [
        {
            k: (_jsonable(v) if isinstance(v, np.generic | date | pd.Timestamp) else v)
            for k, v in row.items()
        }
        for row in clean.to_dict(orient="records")
    ]


AreaOption = Annotated[
    str | None,
    typer.Option(
        "--area",
        help="Study area: lsoa:CODE,..., lad:CODE (a local authority's LSOAs) or a GeoJSON file "
        "(WGS84 or BNG); only cells whose centres fall inside are analysed. Default: the "
        "force's own area (the districts holding its records), strays left out.",
    ),
]


def study_area_option(
    area: str | None, db: Path | None, cell_size: float, console: Console
) -> AreaCells:
    """The study area of ``--area``, or the dataset's own; its one-line summary (cells and
    strays left out) goes to ``console`` (stderr). A bad area exits with its message."""
    from harmscope.errors import HarmScopeError
    from harmscope.places.study_area import dataset_area
    from harmscope.warehouse import default_db

    try:
        found = dataset_area(db if db is not None else default_db(), area, cell_size=cell_size)
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    console.print(found.describe(), highlight=False, soft_wrap=True)
    return found
