"""``harmscope priorities``: ranked places, markets (people and behaviours when available)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from harmscope.cli import app
from harmscope.cli._common import (
    DbOption,
    FromOption,
    SchemeOption,
    ToOption,
    check_format,
    check_months,
    emit_csv,
    emit_json,
    fail,
    months_arg,
    records,
)
from harmscope.cli.hotspots import AreaOption, area_mask
from harmscope.errors import HarmScopeError
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.priorities import rank
from harmscope.warehouse import default_db


@app.command("priorities")
def priorities_command(
    lens: Annotated[str, typer.Option("--lens", help="places, markets, people or behaviours.")],
    db: DbOption = None,
    scheme: SchemeOption = "cchi",
    start: FromOption = None,
    end: ToOption = None,
    cell_size: Annotated[
        float, typer.Option("--cell-size", min=1.0, help="Grid cell side, metres (EPSG:27700).")
    ] = DEFAULT_CELL_SIZE,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the first N rows.")] = None,
    significance: Annotated[
        str,
        typer.Option(
            "--significance",
            help="places: none (score = harm), weight (harm x Phi(Gi* z)) or require "
            "(only significant hot cells).",
        ),
    ] = "none",
    buffer: Annotated[
        float, typer.Option("--buffer", min=0.0, help="markets: metres around a footprint.")
    ] = 250.0,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file, not stdout.")
    ] = None,
    area: AreaOption = None,
) -> None:
    """Rank units by harm, with reasons (the harm-matrix cells contributing most).

    Rows carry rank (1..n), unit_id, score (descending) and reasons; place rows also cell_x and
    cell_y. JSON is a list of row objects, reasons a list of strings; CSV joins reasons with
    '; '.

    With --area only cells whose centres fall inside the area are ranked (places: the Gi* for
    --significance runs on exactly those cells; markets: detected from activity inside it).
    """
    err = Console(stderr=True)
    check_format(err, fmt, "csv", "json")
    check_months(err, db, start, end)
    options: dict[str, Any] = {
        "scheme": scheme,
        "cell_size": cell_size,
        "months": months_arg(start, end),
        "top": top,
    }
    key = lens.strip().lower()
    if key == "places":
        options["significance"] = significance
    elif significance != "none":
        fail(err, ValueError("--significance applies to --lens places only"))
    if key == "markets":
        options["buffer"] = buffer
    warehouse = db if db is not None else default_db()
    mask = area_mask(area, db, cell_size, err)
    if mask is not None:
        options["mask"] = mask
    try:
        frame = rank(key, warehouse, **options)
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    if fmt == "json":
        emit_json(records(frame), out)
    else:
        flat = frame.copy()
        flat["reasons"] = ["; ".join(r) for r in flat["reasons"]]
        emit_csv(flat, out)
