"""Typer options and terminal helpers shared by the command modules.

The CLI is a face: parsing and checking an option, and writing a result as CSV, JSON or
GeoJSON, belong to the application layer (:mod:`harmscope.app`). What stays here is what only
a terminal needs: Typer option declarations, the ``error:``/``warning:`` lines on stderr, the
exit codes, progress bars and Rich tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from harmscope.app import options

if TYPE_CHECKING:
    from harmscope.harm.weigh import Dropped
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


def warn_dropped(console: Console, dropped: Dropped | Mapping[str, object] | None) -> None:
    """Say on ``console`` (stderr) which event types, and how many events, a scheme left out.

    Every command that weighs events calls this with the :class:`~harmscope.harm.weigh.Dropped`
    of its result (or its ``to_dict()`` form, as kept in a DataFrame's ``attrs``), so a custom
    scheme that omits a type never drops events silently. Nothing is printed when nothing was
    left out.
    """
    from harmscope.harm.weigh import Dropped

    dropped = Dropped.from_dict(dropped)
    if dropped:
        console.print(
            f"[yellow]warning:[/] {escape(dropped.describe())}", highlight=False, soft_wrap=True
        )


def warn_dropped_for(
    console: Console,
    db: Path | str | None,
    scheme: str,
    months: tuple[str | None, str | None] | None,
    *,
    located: bool = False,
) -> None:
    """:func:`warn_dropped` for a command whose result cannot carry the count (a list of
    markets): counts, in the warehouse ``db``, the period's events the scheme leaves out."""
    from harmscope.harm.weigh import dropped_events
    from harmscope.warehouse import ibis_connect

    backend = ibis_connect(db, read_only=True)
    try:
        dropped = dropped_events(backend.table("events"), scheme, months=months, located=located)
    finally:
        backend.disconnect()
    warn_dropped(console, dropped)


def check_format(console: Console, fmt: str, *choices: str) -> None:
    """Exit with ``--format must be a, b or c, not 'x'`` unless ``fmt`` is one of ``choices``
    (:func:`harmscope.app.options.check_format`)."""
    try:
        options.check_format(fmt, choices)
    except ValueError as exc:
        fail(console, exc)


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


def month_option(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """Typer callback: refuse a month that is not ``YYYY-MM`` (e.g. ``2019-01-01``), exit 2.

    The message is the one-line ``error:`` every command prints, naming the option
    (:func:`harmscope.app.options.check_month`).
    """
    if value is None or ctx.resilient_parsing:
        return value
    try:
        return options.check_month(value, param.opts[0] if param.opts else str(param.name))
    except ValueError as exc:
        fail(Console(stderr=True), exc)


CellSizeOption = Annotated[
    float, typer.Option("--cell-size", min=1.0, help="Grid cell side, metres (EPSG:27700).")
]
SchemeOption = Annotated[
    str, typer.Option("--scheme", help="Weight scheme: cchi, count, or a TOML file.")
]
FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First month, YYYY-MM (inclusive).", callback=month_option),
]
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last month, YYYY-MM (inclusive).", callback=month_option),
]


def check_months(
    console: Console, db: str | Path | None, start: str | None, end: str | None
) -> None:
    """Refuse (exit 2) a --from/--to holding no month of data; warn when it reaches past it.

    Every analysis command calls this once, before it answers, so an empty period never
    reads as "no harm" (:func:`harmscope.app.options.check_period`).
    """
    from harmscope.errors import HarmScopeError

    try:
        warning = options.check_period(db, start, end)
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    if warning:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)


@contextmanager
def table_out(out: Path | None, width: int = 200) -> Iterator[Console]:
    """The console a command's table format prints on: stdout, or the file ``--out`` names.

    A file gets a console ``width`` characters wide (not the terminal's), so a table written
    with ``--out`` is the one a wide terminal shows, never cut to 80 columns. The file is
    written only once the table is complete, so a failure leaves nothing half-written.
    """
    if out is None:
        yield Console()
        return
    import io

    buffer = io.StringIO()
    yield Console(file=buffer, width=width)
    Path(out).write_text(buffer.getvalue(), encoding="utf-8")


def print_table(table: Table, console: Console | None = None) -> None:
    """Print a Rich table without cutting a word of any header or cell.

    Rich shrinks columns to fit the terminal and cuts what does not fit with "…"
    ("quarantin…", "E01032…"). Here each column gets a fixed width that is never below its
    longest word: widest columns give way first (their text wraps between words); a table that
    still does not fit drops its outer border, and failing that prints wider than the terminal
    (which wraps the line) rather than cut a name or a figure.
    """
    console = console or Console()
    wide = console.options.update_width(10_000)
    lows: list[int] = []
    highs: list[int] = []
    for column in table.columns:
        parts = [column.header, *column.cells]
        low = max([1, *(_longest_word(p) for p in parts)])
        high = max([low, *(Measurement.get(console, wide, p).maximum for p in parts)])
        lows.append(low)
        highs.append(high)
        column.width, column.overflow = None, "fold"
    if sum(lows) + _overhead(table, console, lows) > console.width:
        # No vertical rules and one space of padding: columns two spaces apart.
        table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
        table.padding = (0, 1, 0, 0)
    room = console.width - _overhead(table, console, lows)
    widths = list(highs)
    while sum(widths) > room and any(w > low for w, low in zip(widths, lows, strict=True)):
        # One character at a time off the widest column that can still wrap.
        i = max((k for k in range(len(widths)) if widths[k] > lows[k]), key=lambda k: widths[k])
        widths[i] -= 1
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    need = sum(widths) + _overhead(table, console, lows)
    if need <= console.width:
        console.print(table)
        return
    # Console.print never renders wider than the console: widen it for this one table.
    saved = console.width
    console.width = need
    try:
        console.print(table, crop=False)
    finally:
        console.width = saved


def _longest_word(value: object) -> int:
    text = value.plain if hasattr(value, "plain") else str(value)
    return max((cell_len(word) for word in str(text).split()), default=0)


def _overhead(table: Table, console: Console, widths: list[int]) -> int:
    """Characters a table adds around its columns' text (borders and padding)."""
    saved = [c.width for c in table.columns]
    for column, fixed in zip(table.columns, widths, strict=True):
        column.width = fixed
    total = Measurement.get(console, console.options.update_width(10_000), table).maximum
    for column, before in zip(table.columns, saved, strict=True):
        column.width = before
    return total - sum(widths)


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
    """The study area of ``--area``, or the dataset's own (:func:`harmscope.app.options.study_area`);
    its one-line summary (cells and strays left out) goes to ``console`` (stderr). A bad area
    exits with its message."""
    from harmscope.errors import HarmScopeError

    try:
        found = options.study_area(area, db, cell_size)
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    console.print(found.describe(), highlight=False, soft_wrap=True)
    return found
