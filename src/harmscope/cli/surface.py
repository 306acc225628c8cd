"""``harmscope surface``: a kernel-density harm surface as GeoPackage cells or a GeoTIFF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.geoformats import cells_layer, write_layer, write_raster
from harmscope.app.options import months_arg
from harmscope.app.serialise import with_harm_unit
from harmscope.cli._app import app
from harmscope.cli._common import (
    CellSizeOption,
    DbOption,
    EngineOption,
    FromOption,
    SchemeOption,
    ToOption,
    check_format,
    check_months,
    fail,
    progress_bar,
    study_area_option,
    warn_dropped,
)
from harmscope.cli._selection import HarmOption, TypeOption, check_selection
from harmscope.errors import HarmScopeError
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.places.surface import harm_surface
from harmscope.warehouse import default_db


@app.command("surface")
def surface_command(
    out: Annotated[
        Path, typer.Option("--out", help="File to write (.gpkg or .tif; replaced if present).")
    ],
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    bandwidth: Annotated[
        float | None,
        typer.Option(
            "--bandwidth", min=1.0, help="Kernel standard deviation, metres (default: cell size)."
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="gpkg (GeoPackage cells) or tif (GeoTIFF raster)."),
    ] = "gpkg",
    harm: HarmOption = "drug",
    types: TypeOption = None,
) -> None:
    """Kernel-density harm surface: each event's harm spread as a Gaussian around its point
    and integrated over every study-area cell (kde_harm, scheme unit over the period).

    GeoPackage: one EPSG:27700 square per cell with kde_harm, harm and harm_events. GeoTIFF:
    one pixel per cell holding kde_harm (EPSG:27700, north-up; nodata outside the study area).
    Harm is drug-attributed unless --harm all; --type keeps only those crime types.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "gpkg", "tif")
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    mask = study_area_option(None, db, cell_size, err)
    try:
        with progress_bar(err) as progress:
            frame = harm_surface(
                db if db is not None else default_db(),
                scheme=scheme,
                cell_size=cell_size,
                bandwidth=bandwidth,
                months=months_arg(start, end),
                mask=mask,
                progress=progress,
                harm=harm,
                types=types,
            )
        warn_dropped(err, frame.attrs.get("dropped"))
        if fmt == "tif":
            write_raster(frame, "kde_harm", cell_size, out)
        else:
            layer = cells_layer(with_harm_unit(frame, str(frame.attrs["unit"])), cell_size)
            write_layer(
                layer,
                "gpkg",
                out,
                name=f"harmscope surface ({scheme}, {frame.attrs['harm_label']})",
            )
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)
    err.print(
        f"{len(frame):,} cells of {cell_size:g} m, bandwidth {frame.attrs['bandwidth']:g} m, "
        f"kde_harm in {frame.attrs['unit']} ({frame.attrs['harm_label']}): written to {out}",
        highlight=False,
        soft_wrap=True,
    )
