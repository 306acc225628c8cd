"""``harmscope demo`` (the main job ``make demo`` runs) and ``harmscope report``."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.options import months_arg
from harmscope.cli._app import app
from harmscope.cli._common import (
    CellSizeOption,
    DbOption,
    EngineOption,
    FromOption,
    SchemeOption,
    ToOption,
    check_months,
    fail,
)
from harmscope.cli._selection import (
    HarmOption,
    TypeOption,
    check_selection,
    warn_dropped_selection,
)
from harmscope.errors import HarmScopeError
from harmscope.places.grid import DEFAULT_CELL_SIZE


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the demo warehouse and report.")
    ] = Path("harmscope-demo"),
    real: Annotated[
        list[Path] | None,
        typer.Option("--real", help="Use these police.uk files/folders instead of the simulator."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Simulator seed.")] = 2026,
    months: Annotated[int, typer.Option("--months", min=6, help="Simulated months.")] = 24,
) -> None:
    """The main job end to end: data in, harm matrix and most harmful areas out, HTML report.

    By default on a small SYNTHETIC city from the simulator (nothing to download); with
    --real on police.uk files. Running it again adds nothing: ingest is idempotent.
    """
    from harmscope.cli.matrix import areas as areas_cmd
    from harmscope.cli.matrix import matrix as matrix_cmd
    from harmscope.report.overview import write_overview
    from harmscope.simulate import simulate
    from harmscope.sources.areas import load_areas_csv
    from harmscope.warehouse import connect
    from harmscope.warehouse.ingest import ingest_paths
    from harmscope.warehouse.loaders import load_partners

    console = Console()
    err = Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "harmscope.duckdb"
    synthetic = not real
    try:
        if synthetic:
            sim_dir = out / "sim"
            console.rule("[bold]1. Simulate[/] a small SYNTHETIC city (no real people or places)")
            with err.status("simulating…"):
                res = simulate(seed=seed, months=months, size="small")
                res.write(sim_dir)
            paths: list[Path] = [sim_dir]  # folder walks take only police.uk-named files
            console.print(f"SYNTHETIC police.uk files written to {sim_dir}")
        else:
            paths = list(real or [])
        console.rule("[bold]2. Ingest[/] police.uk files into the warehouse")
        report = ingest_paths(paths, db=db)
        console.print(
            f"{db}: {report.rows_loaded:,} rows loaded, {report.rows_folded:,} folded, "
            f"{report.files_skipped} file(s) already there."
        )
        if synthetic:
            with closing(connect(db)) as con:
                n = load_areas_csv(con, sim_dir / "areas.csv", shapes=sim_dir / "areas.geojson")
            console.print(
                f"{n} synthetic LSOAs with population, deprivation and boundaries loaded."
            )
            # Partner indicators: the matrix's measured cells (drug deaths, needle finds).
            partners = load_partners([sim_dir / "partners"], db=db)
            console.print(f"{partners.rows_loaded:,} synthetic partner indicator rows loaded.")
    except HarmScopeError as exc:
        fail(err, exc)
    label = " (SYNTHETIC)" if synthetic else ""
    console.rule(f"[bold]3. Harm matrix[/]{label}")
    matrix_cmd(db=str(db), scheme="cchi", start=None, end=None, lsoa=None, fmt="table", out=None)
    console.rule(f"[bold]4. Most harmful neighbourhoods[/]{label}")
    areas_cmd(
        db=str(db),
        scheme="cchi",
        start=None,
        end=None,
        lsoa=None,
        by_month=False,
        top=10,
        fmt="table",
        out=None,
    )
    console.rule("[bold]5. Report")
    path = write_overview(
        out / "report.html",
        db=db,
        title="Drug-market harm overview" + (" — synthetic city" if synthetic else ""),
        synthetic=synthetic,
    )
    console.print(f"Report written to [bold]{path.resolve()}[/]")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    title: Annotated[
        str, typer.Option("--title", help="Title at the head of the report.")
    ] = "Drug-market harm overview",
    synthetic: Annotated[
        bool, typer.Option("--synthetic", help="Label the data synthetic.")
    ] = False,
    harm: HarmOption = "drug",
    types: TypeOption = None,
) -> None:
    """Write the overview report (harm matrix, monthly harm vs activity, hot spot map, LSOAs).

    Every figure is drug-attributed harm unless --harm all (the headings say which); --type
    keeps only those crime types.
    """
    from harmscope.report.overview import write_overview

    err = Console(stderr=True)
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    try:
        path = write_overview(
            out,
            db=db,
            scheme=scheme,
            months=months_arg(start, end),
            cell_size=cell_size,
            title=title,
            synthetic=synthetic,
            harm=harm,
            types=types,
        )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    # also stated in the report
    warn_dropped_selection(err, db, scheme, months_arg(start, end), types)
    Console().print(f"Report written to {path.resolve()}")
