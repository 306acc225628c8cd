"""``harmscope hotspots`` and ``harmscope emerging``: harm-weighted hot spots on a square grid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.app.serialise import scheme_unit, with_harm_unit
from harmscope.app.sparse import cells_with_events
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
    check_out,
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
AllCellsOption = Annotated[
    bool,
    typer.Option(
        "--all-cells",
        help="List every cell of the study area, empty ones too (default: the cells with "
        "events; Gi* always uses every cell).",
    ),
]
#: Formats of a grid-cell layer (GeoPackage and GeoParquet need --out: they are binary).
CELL_FORMATS = ("csv", "geojson", "gpkg", "parquet")


def write_cells(
    err: Console,
    frame: pd.DataFrame,
    fmt: str,
    out: Path | None,
    *,
    scheme: str,
    cell_size: float,
    all_cells: bool,
    title: str,
) -> None:
    """Write grid-cell rows in ``fmt``: the cells with events (every cell with
    ``all_cells``), each row naming its harm unit; a failed write exits 2, nothing
    half-written."""
    try:
        listed = with_harm_unit(cells_with_events(frame, all_cells=all_cells), scheme_unit(scheme))
        listed["harm_view"] = frame.attrs["harm_label"]  # which harm the harm column holds
        render(listed, fmt, out, cell_size=cell_size, name=title)
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)


@app.command("hotspots")
def hotspots_command(
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    fmt: Annotated[
        str,
        typer.Option("--format", help="csv, geojson, gpkg (GeoPackage) or parquet (GeoParquet)."),
    ] = "csv",
    out: OutOption = None,
    area: AreaOption = None,
    all_cells: AllCellsOption = False,
) -> None:
    """Harm-weighted Gi* hot spots: one row per cell with events (cell_x, cell_y, name, harm,
    gi_z, p_fdr, category); --all-cells lists the empty cells of the study area too.

    Harm is drug-attributed unless --harm all (column harm_view says which); --type keeps
    only those crime types.

    GeoJSON holds each cell as a WGS84 polygon (RFC 7946); GeoPackage and GeoParquet as
    EPSG:27700 squares; cell_x and cell_y stay BNG metres. CSV is rounded for people (harm to
    0.1, z to 0.01, p to 0.0001); the other formats keep full precision.
    With --area the study area is exactly the cells whose centres fall inside the area.
    """
    err = Console(stderr=True)
    check_format(err, fmt, *CELL_FORMATS)
    check_months(err, db, start, end)
    check_out(err, fmt, out)
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
    write_cells(
        err,
        frame,
        fmt,
        out,
        scheme=scheme,
        cell_size=cell_size,
        all_cells=all_cells,
        title=f"harmscope hotspots ({scheme}, {frame.attrs['harm_label']})",
    )


@app.command("emerging")
def emerging_command(
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="csv, json, geojson, gpkg (GeoPackage) or parquet (GeoParquet)."
        ),
    ] = "csv",
    out: OutOption = None,
    area: AreaOption = None,
    all_cells: AllCellsOption = False,
) -> None:
    """Emerging hot spots: each cell's category from its monthly harm (Gi* per month + trend).

    Lists the cells with events of the period (--all-cells: every cell of the study area).
    """
    err = Console(stderr=True)
    check_format(err, fmt, "json", *CELL_FORMATS)
    check_months(err, db, start, end)
    check_out(err, fmt, out)
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
    write_cells(
        err,
        frame,
        fmt,
        out,
        scheme=scheme,
        cell_size=cell_size,
        all_cells=all_cells,
        title=f"harmscope emerging ({scheme}, {frame.attrs['harm_label']})",
    )


@app.command()
def concentration(
    db: DbOption = None,
    engine: EngineOption = None,
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
