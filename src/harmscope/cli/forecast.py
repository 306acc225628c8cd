"""``harmscope validate-forecast``: rolling-origin forecast checks of place rankings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import (
    AreaOption,
    CellSizeOption,
    DbOption,
    EngineOption,
    FromOption,
    SchemeOption,
    ToOption,
    WideOption,
    check_format,
    check_months,
    fail,
    print_table,
    progress_bar,
    study_area_option,
    table_out,
    warn_dropped,
)
from harmscope.cli._selection import HarmOption, TypeOption, check_selection
from harmscope.errors import HarmScopeError
from harmscope.places.forecast import FORECAST_HARM, ForecastCheck, validate_forecast
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.warehouse import default_db


def _cell(mean: float, sd: float, fmt: str) -> str:
    if pd.isna(mean):
        return "–"
    text = format(mean, fmt)
    return text if pd.isna(sd) else f"{text} ±{format(sd, fmt)}"


def _table(result: ForecastCheck) -> Table:
    meta = result.meta
    origins = meta["origins"]
    table = Table(
        title=(
            f"Forecast checks of {meta['harm_label']}"
            + ("" if meta["types"] is None else f" ({', '.join(meta['types'])} only)")
            + f" — scheme {meta['scheme']}, {meta['cell_size']:g} m cells "
            f"({meta['cells']:,} in the study area); {len(origins)} origins "
            f"{origins[0]} to {origins[-1]}, horizon {meta['horizon']} month(s); "
            "mean ± sd over origins"
        )
    )
    table.add_column("ranking")
    table.add_column("area", justify="right")
    table.add_column("cells", justify="right")
    for target in ("harm", "events"):
        table.add_column(f"{target} hit %", justify="right")
        table.add_column(f"{target} PAI", justify="right")
        table.add_column(f"{target} PEI*", justify="right")
    summary = result.summary.set_index(["ranking", "area_share", "target"])
    previous = None
    for ranking, share, target in summary.index:
        if target != "harm":
            continue
        if previous is not None and ranking != previous:
            table.add_section()
        previous = ranking
        values = [ranking, f"{share:.0%}", f"{summary.loc[(ranking, share, target), 'cells']:,}"]
        for name in ("harm", "events"):
            row = summary.loc[(ranking, share, name)]
            values += [
                _cell(row["hit_rate_mean"] * 100, row["hit_rate_sd"] * 100, ".1f"),
                _cell(row["pai_mean"], row["pai_sd"], ".1f"),
                _cell(row["pei_star_mean"], row["pei_star_sd"], ".2f"),
            ]
        table.add_row(*values)
    return table


@app.command("validate-forecast")
def validate_forecast_command(
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = FORECAST_HARM,
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    warmup: Annotated[
        int, typer.Option("--warmup", min=1, help="Months of history before the first origin.")
    ] = 12,
    horizon: Annotated[
        int, typer.Option("--horizon", min=1, help="Months after each origin that are scored.")
    ] = 1,
    window: Annotated[
        int,
        typer.Option("--window", min=1, help="Months of history for mean, Gi*, KDE and count."),
    ] = 12,
    half_life: Annotated[
        float, typer.Option("--half-life", min=0.01, help="Half-life of the EWMA ranking, months.")
    ] = 3.0,
    bandwidth: Annotated[
        float | None,
        typer.Option("--bandwidth", min=1, help="KDE bandwidth, metres (default: the cell size)."),
    ] = None,
    within: Annotated[
        float | None,
        typer.Option(
            "--within",
            min=0,
            help="Instead of the study area: the cells with --min-events located events, "
            "widened by this many metres.",
        ),
    ] = None,
    min_events: Annotated[
        int | None,
        typer.Option(
            "--min-events",
            min=1,
            help="Instead of the study area: cells with at least this many located events "
            "(all months), widened by --within metres.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file, not stdout.")
    ] = None,
    area: AreaOption = None,
    wide: WideOption = False,
) -> None:
    """Rolling-origin forecast check: hit rate, PAI and PEI* of place rankings, harm and count.

    The study area is the one every places command uses (the force's own area, strays left
    out), or the cells whose centres fall inside --area. --within and --min-events replace it
    with the cells holding events (not with --area).

    Unlike the other analyses, harm here is every crime's by default (--harm all), so the
    figures compare with the published ones; --harm drug scores drug-attributed harm.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json", "csv")
    check_months(err, db, start, end)
    size: float = int(cell_size) if float(cell_size).is_integer() else cell_size
    occupied = within is not None or min_events is not None
    if occupied and area is not None:
        fail(err, ValueError("--within and --min-events replace the study area: not with --area"))
    mask = None if occupied else study_area_option(area, db, size, err)
    check_selection(err, db, start, end, types, located=True, area=mask)
    try:
        with progress_bar(err) as progress:
            result = validate_forecast(
                db or default_db(),
                scheme=scheme,
                cell_size=size,
                months=months_arg(start, end),
                warmup=warmup,
                horizon=horizon,
                window=window,
                half_life=half_life,
                bandwidth=bandwidth,
                within=(within or 0.0) if occupied else "area",
                min_events=min_events or 1,
                mask=mask,
                progress=progress,
                harm=harm,
                types=types,
            )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, result.meta["dropped"])
    if result.meta["empty_months"]:
        err.print(
            "[yellow]warning:[/] months with no located event (scored as empty): "
            + ", ".join(result.meta["empty_months"]),
            highlight=False,
        )
    if fmt in ("json", "csv"):
        rows = result.summary.assign(harm_view=result.meta["harm_label"])
        render(result if fmt == "json" else rows, fmt, out)
    else:
        with table_out(out, width=140) as console:  # the file is written once complete
            print_table(_table(result), console, wide=wide)
            console.print(
                "hit rate: share of the next period's harm (or events) in the selected cells; "
                "PAI = hit rate / area share; PEI* = captured / the most any map of the same "
                "area could capture (1 = perfect hindsight).",
                highlight=False,
            )
            console.print(_hindsight_line(result), highlight=False)


def _hindsight_line(result: ForecastCheck) -> str:
    """The best single map's mean harm hit rate per share: the ceiling of a static ranking."""
    bound = result.meta["hindsight"]["harm"]
    parts = [
        f"{float(share):.0%}: {'–' if value is None else format(value * 100, '.1f')} %"
        for share, value in bound.items()
    ]
    return (
        "Best single map chosen with hindsight (same cells at every origin), harm hit rate: "
        + ", ".join(parts)
        + "."
    )
