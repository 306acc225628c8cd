"""``harmscope matrix``, ``harmscope areas`` and ``harmscope load-areas``."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Annotated

import duckdb
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.geoformats import areas_layer, lsoa_shapes
from harmscope.app.matrix import matrix_report
from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.app.serialise import records, scheme_unit, with_harm_unit
from harmscope.cli._app import app
from harmscope.cli._common import (
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
    study_area_option,
    table_out,
    warn_dropped,
)
from harmscope.cli._selection import HarmOption, TypeOption, check_selection
from harmscope.cli.partners import print_evidence
from harmscope.errors import HarmScopeError
from harmscope.harm import (
    ACTIVITY_UNIT,
    HarmMatrix,
    dropped_events,
    select_events,
)
from harmscope.harm.months import months_covered
from harmscope.harm.selection import harm_label
from harmscope.places.area_harm import area_harm, top_areas
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.places.study_area import dataset_area, one_area_per_command, records_outside
from harmscope.warehouse import connect, default_db, ibis_connect

FormatOption = Annotated[str, typer.Option("--format", help="table, json or csv.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write to this file, not stdout.")]
#: Map layers of the areas command: each LSOA row with its boundary (area_shapes).
AREA_LAYERS = ("geojson", "gpkg", "parquet")
LsoaOption = Annotated[
    list[str] | None, typer.Option("--lsoa", help="Restrict to this LSOA (repeatable).")
]


AttributionOption = Annotated[
    Path | None,
    typer.Option(
        "--attribution",
        help="Attributable-fractions TOML (default: the packaged UK fractions).",
    ),
]


@app.command()
def matrix(
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    start: FromOption = None,
    end: ToOption = None,
    lsoa: LsoaOption = None,
    fmt: FormatOption = "table",
    out: OutOption = None,
    attribution: AttributionOption = None,
    types: TypeOption = None,
    wide: WideOption = False,
    local: Annotated[
        bool,
        typer.Option(
            "--local/--no-local",
            help="Put the local excess of harm around drug markets in place of the national "
            "distribution share inside their cells (default; not with --lsoa or --type).",
        ),
    ] = True,
) -> None:
    """The harm matrix (harm type x bearer x source): drug-attributed harm with its range,
    harm not attributed to drugs, and police activity side by side."""
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json", "csv")
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    try:
        # One study area for the whole command (matrix_report's local attribution and the
        # strays note below ask for it), computed once.
        with one_area_per_command():
            # Fractions, the local excess around markets, and the measured (partner, control) and
            # assessed cells beside the matrix, never summed in.
            report, local_note = matrix_report(
                db if db is not None else default_db(),
                scheme=scheme,
                harm=harm,
                months=months_arg(start, end),
                lsoas=lsoa or None,
                types=types,
                attribution=attribution,
                local=local,
            )
            m = report.matrix
            con = ibis_connect(db)
            # The matrix counts every record of the period; say how many the places commands
            # (areas, hotspots, markets, priorities) leave out as strays outside the study area.
            strays = 0
            if not lsoa:
                area = dataset_area(con.table("events"), cell_size=DEFAULT_CELL_SIZE)
                chosen = select_events(con.table("events"), types=types)
                strays = records_outside(chosen, area, months=months_arg(start, end))
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, m.dropped)
    if local_note:
        err.print(local_note, highlight=False, soft_wrap=True)
    if strays:
        err.print(
            f"note: the matrix counts every record of the period, {strays:,} of them located "
            f"outside the study area ({area.label}), which areas, hotspots, markets and "
            "priorities leave out; give --lsoa to restrict it",
            highlight=False,
            soft_wrap=True,
        )
    if fmt == "json":
        render(report, fmt, out)
    elif fmt == "csv":
        render(pd.DataFrame(report.to_rows(), dtype=object), fmt, out)  # counts stay integers
    else:
        with table_out(out) as console:
            _print_matrix(m, console, wide=wide)
            print_evidence(report, console, wide=wide)


def _print_matrix(m: HarmMatrix, out: Console, *, wide: bool = False) -> None:
    """The table view: cells with ranges, then activity, then the totals, view labelled."""
    only = "" if m.types is None else f", {', '.join(m.types)} only"
    table = Table(title=f"Harm matrix: {m.view_label}{only} — scheme {m.scheme} ({m.unit})")
    for col in ("harm type", "bearer", "source", "value", "range", "share", "basis"):
        left = col in ("harm type", "bearer", "source", "basis")
        table.add_column(col, justify="left" if left else "right")
    for c in m.cells:
        if c["value"]:
            share = f"{c['value'] / m.total:.0%}" if m.total else ""
            if c["basis"] == "remainder":
                source, basis = "not drug-attributed", "remainder"
            else:
                source, basis = c["source"], "judgement" if c["judgement"] else "cited"
            table.add_row(
                c["harm_type"],
                c["bearer"],
                source,
                f"{c['value']:,.0f}",
                f"{c['low']:,.0f}–{c['high']:,.0f}",
                share,
                basis,
            )
    print_table(table, out, wide=wide)
    # Activity is counted by kind, never weighed: its own table, in events.
    counted = Table(title=f"Police activity, counted (not harm, {ACTIVITY_UNIT})")
    for col in ("kind", "events", "share"):
        counted.add_column(col, justify="left" if col == "kind" else "right")
    for a in m.activity_cells:
        if a["value"] is None:  # the data cannot answer: say so, never print 0
            counted.add_row(a["label"], "no data", str(a["no_data"]))
            continue
        share = f"{a['value'] / m.activity:.0%}" if m.activity else ""
        counted.add_row(a["label"], f"{a['value']:,}", share)
    print_table(counted, out, wide=wide)
    # The totals wrap between words at the console's width, like the tables above.
    out.print(
        f"Harm total ({m.view_label}): [bold]{m.total:,.1f}[/] {m.unit}"
        + (f" (range {m.total_low:,.1f} to {m.total_high:,.1f})" if m.harm == "drug" else ""),
    )
    out.print(
        f"Drug-attributed: {m.drug_attributed:,.1f} (range {m.drug_low:,.1f} to "
        f"{m.drug_high:,.1f}); not attributed to drugs: {m.not_attributed:,.1f} {m.unit}",
        highlight=False,
    )
    out.print(f"Police activity (not harm): {m.activity:,} {ACTIVITY_UNIT}")
    out.print(
        f"Fractions: {m.attribution} (references: {', '.join(m.references) or 'none'})",
        highlight=False,
    )


@app.command()
def areas(
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    lsoa: LsoaOption = None,
    by_month: Annotated[
        bool, typer.Option("--by-month", help="One row per LSOA and month.")
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", min=0, help="Only the N most harmful LSOAs (with --by-month: of each month)."
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="table, json, csv, or a map layer of the LSOA boundaries: geojson, gpkg "
            "(GeoPackage) or parquet (GeoParquet).",
        ),
    ] = "table",
    out: OutOption = None,
    wide: WideOption = False,
) -> None:
    """Harm per LSOA (and month): totals, per 1,000 residents, and IMD decile.

    Harm is drug-attributed unless --harm all; --type keeps only those crime types.

    Rates per 1,000 residents are over the period shown in the table (each month with
    --by-month). With --by-month, --top N keeps the N most harmful LSOAs of each month.
    Map layers draw each LSOA's boundary (load-areas --reference loads them).
    """
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json", "csv", *AREA_LAYERS)
    check_out(err, fmt, out)
    check_months(err, db, start, end)
    check_selection(err, db, start, end, types)
    if not lsoa:  # the study area every places command uses: strays' LSOAs get no row
        lsoa = list(study_area_option(None, db, DEFAULT_CELL_SIZE, err).lsoas) or None
    try:
        con = ibis_connect(db)
        events = con.table("events")
        months = months_arg(start, end)
        expr = area_harm(
            events,
            con.table("areas"),
            scheme=scheme,
            months=months,
            lsoas=lsoa or None,
            by_month=by_month,
            harm=harm,
            types=types,
        )
        if top is not None:
            expr = top_areas(expr, top)
        frame = expr.to_pandas()
        dropped = dropped_events(
            select_events(events, types=types),
            scheme,
            months=months_arg(start, end),
            lsoas=lsoa or None,
        )
        covered = months_covered(
            select_events(events, months=months, lsoas=lsoa or None, types=types)
        )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warn_dropped(err, dropped)
    # A rate per resident means nothing without its period.
    if by_month:
        period = "in the month"
    elif covered is not None:
        period = f"{covered.first:%Y-%m} to {covered.last:%Y-%m}"
    else:
        period = "(no events)"
    if not by_month:  # CSV and JSON readers see the period beside each rate too
        frame.insert(frame.columns.get_loc("harm_per_1000") + 1, "rate_period", period)
    # Which harm every row holds, beside the figures (CSV column, JSON field).
    frame.insert(frame.columns.get_loc("harm"), "harm_view", harm_label(harm))
    if fmt in ("json", "csv"):
        render(with_harm_unit(frame, scheme_unit(scheme)), fmt, out)
    elif fmt in AREA_LAYERS:
        try:
            layer = areas_layer(
                with_harm_unit(frame, scheme_unit(scheme)),
                lsoa_shapes(db, frame["lsoa_code"].tolist()),
            )
            render(layer, fmt, out, name=f"harmscope areas ({scheme})")
        except (HarmScopeError, ValueError, OSError) as exc:
            fail(err, exc)
    else:
        only = "" if types is None else f", {', '.join(types)} only"
        table = Table(
            title=f"Harm by LSOA ({harm_label(harm)}{only}) — scheme {scheme}, "
            f"{covered or 'no events'}"
        )
        shown = {
            "lsoa_code": "LSOA",
            "month": "month",
            "lsoa_name": "name",
            "harm": f"harm ({scheme_unit(scheme)})",
            "harm_per_1000": f"per 1,000 residents {period}",
            "population": "population",
            "imd_decile": "IMD decile",
            "activity": "police activity (events)",
        }
        cols = [c for c in shown if c in frame.columns]
        for c in cols:
            table.add_column(shown[c], justify="right" if frame[c].dtype.kind in "fiu" else "left")
        for row in records(frame[cols]):
            table.add_row(*[_cell(row[c]) for c in cols])
        with table_out(out) as console:
            print_table(table, console, wide=wide)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"  # populations, like the floats beside them
    return str(value)[:10] if hasattr(value, "isoformat") else str(value)


@app.command("load-areas")
def load_areas(
    db: DbOption = None,
    engine: EngineOption = None,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference", help="Folder holding the public Census, IMD and boundary files."
        ),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            help="An areas CSV with the warehouse columns (boundaries from an areas.geojson "
            "beside it, if there is one).",
        ),
    ] = None,
    geojson: Annotated[
        Path | None,
        typer.Option(
            "--geojson",
            help="LSOA boundaries (GeoJSON, WGS84 or BNG, code in lsoa_code or LSOA11CD): alone, "
            "or with --csv instead of the areas.geojson beside it.",
        ),
    ] = None,
) -> None:
    """Load LSOA population, IMD decile, centroids and boundaries into the warehouse.

    Attributes go to the ``areas`` table, boundaries (BNG polygons) to ``area_shapes``; a load
    is one transaction (all or nothing).
    """
    err = Console(stderr=True)
    if reference is not None and (csv_file is not None or geojson is not None):
        fail(err, ValueError("--reference loads attributes and boundaries: give it alone"))
    if reference is None and csv_file is None and geojson is None:
        fail(err, ValueError("give --reference DIR, --csv FILE or --geojson FILE"))
    shapes = geojson
    if csv_file is not None and shapes is None and (csv_file.parent / "areas.geojson").exists():
        shapes = csv_file.parent / "areas.geojson"
    try:
        with closing(connect(db)) as con:  # closed on a refused file too
            message = _load_areas(con, reference, csv_file, geojson, shapes)
    except HarmScopeError as exc:
        fail(err, exc)
    Console().print(message, highlight=False)


def _load_areas(
    con: duckdb.DuckDBPyConnection,
    reference: Path | None,
    csv_file: Path | None,
    geojson: Path | None,
    shapes: Path | None,
) -> str:
    """One load-areas run on an open connection; the line to print."""
    from harmscope.sources.areas import load_areas_csv, load_areas_geojson, load_reference_areas

    if reference is not None:
        n = load_reference_areas(con, reference)
        return f"Loaded {n:,} areas with their boundaries."
    if csv_file is not None:
        n = load_areas_csv(con, csv_file, shapes=shapes)
        return f"Loaded {n:,} areas" + ("." if shapes is None else f", boundaries from {shapes}.")
    assert geojson is not None
    n = load_areas_geojson(con, geojson)
    return f"Loaded {n:,} area boundaries."
