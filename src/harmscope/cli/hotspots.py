"""``harmscope hotspots`` and ``harmscope emerging``: harm-weighted hot spots on a square grid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import (
    AreaOption,
    CellSizeOption,
    DbOption,
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
    warn_dropped,
)
from harmscope.cli._selection import HarmOption, TypeOption, check_selection
from harmscope.errors import HarmScopeError
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.places.hotspots import emerging_cells, hotspots
from harmscope.warehouse import default_db

OutOption = Annotated[Path | None, typer.Option("--out", help="Write to this file, not stdout.")]


@app.command("hotspots")
def hotspots_command(
    db: DbOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    fmt: Annotated[str, typer.Option("--format", help="csv, geojson or parquet.")] = "csv",
    out: OutOption = None,
    area: AreaOption = None,
) -> None:
    """Harm-weighted Gi* hot spots: one row per cell (cell_x, cell_y, harm, gi_z, p_fdr, category).

    Harm is drug-attributed unless --harm all (column harm_view says which); --type keeps
    only those crime types.

    GeoJSON holds each cell as a WGS84 polygon (RFC 7946); cell_x and cell_y stay BNG metres.
    With --area the study area is exactly the cells whose centres fall inside the area.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "csv", "geojson", "parquet")
    check_months(err, db, start, end)
    if fmt == "parquet" and out is None:
        fail(err, ValueError("--format parquet needs --out FILE (Parquet is binary)"))
    mask = study_area_option(area, db, cell_size, err)
    check_selection(err, db, start, end, types, located=True, area=mask)
    try:
        with progress_bar(err) as progress:
            frame = hotspots(
                db if db is not None else default_db(),
                scheme=scheme,
                cell_size=cell_size,
                months=months_arg(start, end),
                mask=mask,
                progress=progress,
                harm=harm,
                types=types,
            )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, frame.attrs.get("dropped"))
    frame["harm_view"] = frame.attrs["harm_label"]  # which harm the harm column holds
    name = f"harmscope hotspots ({scheme}, {frame.attrs['harm_label']})"
    render(frame, fmt, out, cell_size=cell_size, name=name)


@app.command("emerging")
def emerging_command(
    db: DbOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: OutOption = None,
    area: AreaOption = None,
) -> None:
    """Emerging hot spots: each cell's category from its monthly harm (Gi* per month + trend)."""
    err = Console(stderr=True)
    check_format(err, fmt, "csv", "json")
    check_months(err, db, start, end)
    mask = study_area_option(area, db, cell_size, err)
    check_selection(err, db, start, end, types, located=True, area=mask)
    try:
        with progress_bar(err) as progress:
            frame = emerging_cells(
                db if db is not None else default_db(),
                scheme=scheme,
                cell_size=cell_size,
                months=months_arg(start, end),
                mask=mask,
                harm=harm,
                types=types,
                progress=progress,
            )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, frame.attrs.get("dropped"))
    frame["harm_view"] = frame.attrs["harm_label"]  # which harm the harm column holds
    render(frame, fmt, out)


@app.command()
def concentration(
    db: DbOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    area: AreaOption = None,
    wide: WideOption = False,
) -> None:
    """The power few: share of harm and of counts in the top 1/5/10% of cells, Gini, overlap.

    Places are every cell of the study area, empty ones included; the top N % is the
    smallest whole number of cells covering N % of them (rounded up, at least 1).
    """
    from rich.table import Table

    from harmscope.places.concentration import place_concentration
    from harmscope.warehouse import ibis_connect

    err = Console(stderr=True)
    check_format(err, fmt, "table", "json")
    check_months(err, db, start, end)
    mask = study_area_option(area, db, cell_size, err)
    check_selection(err, db, start, end, types, located=True, area=mask)
    try:
        backend = ibis_connect(db)
        result = place_concentration(
            backend.table("events"),
            scheme=scheme,
            cell_size=cell_size,
            months=months_arg(start, end),
            mask=mask,
            harm=harm,
            types=types,
        )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, result.dropped)
    if fmt == "json":
        render({"scheme": scheme, "cell_size": cell_size, **result.to_dict()}, "json")
        return
    only = "" if result.types is None else f", {', '.join(result.types)} only"
    table = Table(
        title=f"Concentration of {result.harm_label}{only} over {result.cells:,} cells of "
        f"{cell_size:g} m (scheme {scheme})"
    )
    for col in (
        "top of cells",
        "cells",
        "share of harm",
        "share of events",
        "same cells (count vs harm)",
        "harm caught: busiest / most harmful",
    ):
        table.add_column(col, justify="right")
    top = result.count_vs_harm.top
    for few, cmp in zip(result.power_few.itertuples(), top.itertuples(), strict=True):
        table.add_row(
            f"{few.share_of_places:.0%}",
            f"{few.places:,}",
            f"{few.harm_share:.0%}",
            f"{few.count_share:.0%}",
            f"{cmp.overlap} of {cmp.k}",
            f"{cmp.harm_by_count_top:.0%} / {cmp.harm_by_harm_top:.0%}",
        )
    print_table(table, Console(), wide=wide)
    Console().print(
        f"Gini: harm {result.gini_harm:.2f}, events {result.gini_count:.2f}; "
        f"Spearman rank correlation count vs harm {result.count_vs_harm.spearman:.2f}"
    )
