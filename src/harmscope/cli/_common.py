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
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from harmscope.app import options

if TYPE_CHECKING:
    from harmscope.harm.weigh import Dropped
    from harmscope.places.study_area import AreaCells

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Warehouse: a DuckDB file (default $HARMSCOPE_DB or harmscope.duckdb); with "
        "--engine pyspark a Parquet warehouse folder, with --engine postgres a "
        "postgresql:// URL.",
    ),
]


def engine_option(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """Typer callback: the warehouses this command opens use engine ``value`` (``--engine``
    or ``$HARMSCOPE_ENGINE``; none: duckdb) until it ends; an unknown name exits 2 listing
    the engines (:func:`harmscope.warehouse.engines.use_engine`)."""
    if ctx.resilient_parsing:
        return value
    from harmscope.warehouse.engines import use_engine

    try:
        undo = use_engine(value)
    except ValueError as exc:
        fail(Console(stderr=True), exc)
    ctx.call_on_close(undo)
    return value


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar="HARMSCOPE_ENGINE",
        show_envvar=True,
        callback=engine_option,
        help="Engine: duckdb (default), pyspark or postgres. Ingest and the analyses run "
        "on each; loaders write the DuckDB warehouse only.",
    ),
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


def check_out(console: Console, fmt: str, out: Path | None) -> None:
    """Exit before any work when a binary format has no ``--out`` file
    (:func:`harmscope.app.options.check_out`)."""
    try:
        options.check_out(fmt, out)
    except ValueError as exc:
        fail(console, exc)


def check_format(console: Console, fmt: str, *choices: str) -> None:
    """Exit with ``--format must be a, b or c, not 'x'`` unless ``fmt`` is one of ``choices``
    (:func:`harmscope.app.options.check_format`)."""
    try:
        options.check_format(fmt, choices)
    except ValueError as exc:
        fail(console, exc)


#: Seconds of work before a progress bar appears (quick commands print no bar at all).
PROGRESS_DELAY = 1.0


@contextmanager
def progress_bar(
    console: Console, *, delay: float | None = None
) -> Iterator[Callable[[str, int, int], None]]:
    """A :data:`~harmscope.periods.Progress` callback drawn as a Rich bar on ``console``.

    ``console`` is the command's stderr console, so a bar never mixes with the result on
    stdout. The bar appears only once work has taken over ``delay`` seconds (default
    :data:`PROGRESS_DELAY`) and only on a terminal. Each stage is one line: a new stage
    completes the earlier ones, and when the work ends without error every stage is shown
    complete (a bar never ends empty, "0:00:00" at 0 %), and the lines stay on screen.
    """
    wait = PROGRESS_DELAY if delay is None else delay
    start = time.monotonic()
    bar: Progress | None = None
    tasks: dict[str, TaskID] = {}

    def callback(stage: str, done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if time.monotonic() - start < wait or not console.is_terminal:
                return
            bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            bar.start()
        if stage not in tasks:
            for earlier in tasks.values():  # a new stage means the earlier ones are done
                bar.update(earlier, completed=bar.tasks[earlier].total)
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    ok = False
    try:
        yield callback
        ok = True
    finally:
        if bar is not None:
            if ok:
                for task in tasks.values():
                    bar.update(task, completed=bar.tasks[task].total)
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


def scheme_option(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """Typer callback: a scheme name in any case becomes the name as packaged (``CCHI`` →
    ``cchi``), so outputs label it the one way; an unknown name exits 2 listing the valid
    ones. A TOML path passes unchanged (it is read, and checked, by the command)."""
    if ctx.resilient_parsing or not isinstance(value, str):
        return value
    text = value.strip()
    if text.endswith(".toml") or "/" in text or "\\" in text:
        return value
    from harmscope.errors import SchemeError
    from harmscope.harm.schemes import scheme_name

    try:
        return scheme_name(text)
    except SchemeError as exc:
        fail(Console(stderr=True), ValueError(f"--scheme: {exc}"))


SchemeOption = Annotated[
    str,
    typer.Option(
        "--scheme",
        help="Weight scheme: cchi, count (any case), or a TOML file.",
        callback=scheme_option,
    ),
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


WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Table: show every column at full width, however wide the terminal "
        "(default: fit the terminal, wrapping text and hiding the last columns if need be).",
    ),
]

#: Lines a table cell may wrap to before the table hides columns instead (headers may wrap
#: further: they are read once, rows many times).
MAX_CELL_LINES = 3


def print_table(table: Table, console: Console | None = None, *, wide: bool = False) -> None:
    """Print a Rich table that fits the console without cutting a word.

    Rich shrinks columns to fit the terminal and cuts what does not fit with "…"
    ("quarantin…", "E01032…"). Here no header or cell is ever cut:

    - ``wide=True`` (``--wide``): every column at its full width, nothing wrapped; the
      lines are as long as the table needs.
    - otherwise the table fits ``console.width`` (80 in an 80-column terminal): the widest
      columns wrap between words (a cell to at most :data:`MAX_CELL_LINES` lines, a header
      as far as its longest word); a table that still does not fit drops its borders
      (columns two, then one space apart), then hides its last columns, and says under the table which columns it hid and that
      ``--wide`` shows them. Callers put the columns people need most first.

    Only a single column whose one word is wider than the console prints wider than it
    (the terminal wraps the line) rather than cut a name or a figure.

    Parameters
    ----------
    table : rich.table.Table
        The table; its columns' widths, box and (when hidden) columns are changed.
    console : rich.console.Console, optional
        Where to print (default a new stdout console).
    wide : bool
        Show every column at full width.
    """
    console = console or Console()
    free = console.options.update_width(10_000)
    lows: list[int] = []
    highs: list[int] = []
    for column in table.columns:
        cells = list(column.cells)
        longest = max([0, *(Measurement.get(console, free, c).maximum for c in cells)])
        words = [_longest_word(column.header), *(_longest_word(c) for c in cells)]
        low = max([1, *words, -(-longest // MAX_CELL_LINES)])
        lows.append(low)
        highs.append(max(low, Measurement.get(console, free, column.header).maximum, longest))
        column.width, column.overflow, column.no_wrap = None, "fold", False
    if wide:
        for column, width in zip(table.columns, highs, strict=True):
            column.width = width
        _print_wide(table, console, sum(highs) + _overhead(table, console, highs))
        return
    for padding in (1, 0):
        if sum(lows) + _overhead(table, console, lows) <= console.width:
            break
        # No vertical rules, columns two spaces apart (padding and the blank rule), then one.
        table.box, table.show_edge, table.pad_edge = box.SIMPLE_HEAD, False, False
        table.padding = (0, padding, 0, 0)
    hidden: list[str] = []
    while len(table.columns) > 1 and sum(lows) + _overhead(table, console, lows) > console.width:
        column = table.columns.pop()
        hidden.insert(0, _plain(column.header))
        lows.pop()
        highs.pop()
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
    else:
        _print_wide(table, console, need)
    if hidden:
        console.print(
            f"({len(hidden)} column{'s' if len(hidden) > 1 else ''} hidden to fit "
            f"{console.width} characters: {', '.join(hidden)}; --wide shows every column)",
            style="dim",
            markup=False,
            highlight=False,
        )


def _print_wide(table: Table, console: Console, need: int) -> None:
    """Print *table* on *console* widened to *need* characters for this one table
    (Console.print never renders wider than the console)."""
    saved = console.width
    console.width = max(need, saved)
    try:
        console.print(table, crop=False)
    finally:
        console.width = saved


def _plain(value: object) -> str:
    return str(value.plain if hasattr(value, "plain") else value)


def _longest_word(value: object) -> int:
    return max((cell_len(word) for word in _plain(value).split()), default=0)


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
    area: str | None, db: str | Path | None, cell_size: float, console: Console
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
