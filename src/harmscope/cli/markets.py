"""``harmscope markets`` (list candidate drug markets) and ``harmscope markets decide`` (curate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.geoformats import markets_layer
from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.app.serialise import with_harm_unit
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
    table_out,
)
from harmscope.cli._selection import (
    HarmOption,
    TypeOption,
    check_selection,
    warn_dropped_selection,
)
from harmscope.errors import HarmScopeError
from harmscope.harm.selection import harm_label
from harmscope.harm.words import percent
from harmscope.markets import (
    CHARACTERISTICS,
    Market,
    MarketDecisionError,
    decide,
    find_market,
    markets,
    markets_frame,
)
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.warehouse import default_db

markets_app = typer.Typer(
    help="Candidate drug markets: hot spots of market activity and the harm around them.",
    no_args_is_help=False,
)
app.add_typer(markets_app, name="markets")

BufferOption = Annotated[
    float, typer.Option("--buffer", min=0.0, help="Metres around a footprint where harm counts.")
]
AlphaOption = Annotated[
    float, typer.Option("--alpha", help="FDR level of a market cell (Gi* of market activity).")
]


def _detect(
    db: str | Path | None,
    *,
    scheme: str,
    start: str | None,
    end: str | None,
    cell_size: float,
    buffer: float,
    alpha: float,
    include_rejected: bool,
    console: Console,
    area: str | None = None,
    unfound_search_weight: float = 0.0,
    harm: str = "drug",
    types: list[str] | None = None,
) -> list[Market]:
    check_months(console, db, start, end)
    mask = study_area_option(area, db, cell_size, console)
    check_selection(console, db, start, end, types, located=True, area=mask)
    try:
        with progress_bar(console) as progress:
            found = markets(
                db if db is not None else default_db(),
                scheme=scheme,
                cell_size=cell_size,
                months=months_arg(start, end),
                buffer=buffer,
                alpha=alpha,
                include_rejected=include_rejected,
                mask=mask,
                unfound_search_weight=unfound_search_weight,
                progress=progress,
                harm=harm,
                types=types,
            )
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    warn_dropped_selection(console, db, scheme, months_arg(start, end), types, located=True)
    return found


@markets_app.callback(invoke_without_command=True)
def markets_command(
    ctx: typer.Context,
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    buffer: BufferOption = 250.0,
    alpha: AlphaOption = 0.05,
    include_rejected: Annotated[
        bool, typer.Option("--include-rejected", help="Also list markets an analyst rejected.")
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="table, json, csv, or a map layer of the footprints: geojson, gpkg "
            "(GeoPackage) or parquet (GeoParquet).",
        ),
    ] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file, not stdout.")
    ] = None,
    area: AreaOption = None,
    unfound_search_weight: Annotated[
        float,
        typer.Option(
            "--unfound-weight",
            min=0.0,
            max=1.0,
            help="What a drug search that found nothing counts for as market activity "
            "(0 = nothing, the default; 1 = as much as a find).",
        ),
    ] = 0.0,
    wide: WideOption = False,
) -> None:
    """List candidate drug markets, most harmful first, with analysts' decisions applied.

    With --area only market activity in cells whose centres fall inside the area is detected.
    Harm in and around a market is drug-attributed unless --harm all; --type measures only
    those crime types' harm (markets are still found from all market activity).
    """
    if ctx.invoked_subcommand is not None:
        return
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json", "csv", "geojson", "gpkg", "parquet")
    check_out(err, fmt, out)
    found = _detect(
        db,
        scheme=scheme,
        start=start,
        end=end,
        cell_size=cell_size,
        buffer=buffer,
        alpha=alpha,
        include_rejected=include_rejected,
        console=err,
        area=area,
        unfound_search_weight=unfound_search_weight,
        harm=harm,
        types=types,
    )
    if fmt == "json":
        render(found, "json", out)
        return
    frame = markets_frame(found)
    if found:  # each row names the unit its harm is in
        frame = with_harm_unit(frame, found[0].unit)
    if fmt == "csv":
        frame["harm_view"] = harm_label(harm)  # which harm the harm column holds
        render(frame, "csv", out)
        return
    if fmt in ("geojson", "gpkg", "parquet"):
        try:
            render(markets_layer(found, frame), fmt, out, name=f"harmscope markets ({scheme})")
        except (HarmScopeError, ValueError, OSError) as exc:
            fail(err, exc)
        return
    with table_out(out) as console:
        _print_table(found, scheme, console, harm_label(harm), types, wide=wide)


def _print_table(
    found: list[Market],
    scheme: str,
    console: Console,
    label: str = "drug-attributed harm",
    types: list[str] | None = None,
    *,
    wide: bool = False,
) -> None:
    unit = found[0].unit if found else ""
    only = "" if types is None else f", {', '.join(types)} only"
    table = Table(title=f"Candidate drug markets — {label}{only}, scheme {scheme} ({unit})")
    numeric = ("cells", "harm", "activity", "act/harm")
    table.add_column("id", no_wrap=True, min_width=12)  # analysts copy it into `decide`
    for col in ("name", "status", *numeric, "trend", "share of harm"):
        table.add_column(col, justify="right" if col in numeric else "left")
    for m in found:
        ratio = "" if m.activity_harm_ratio is None else f"{m.activity_harm_ratio:.4f}"
        table.add_row(
            m.id,
            m.name or m.place,
            m.status,
            str(len(m.cells)),
            f"{m.harm:,.0f}",
            f"{m.activity:,.0f}",
            ratio,
            m.trend["direction"],
            "; ".join(f"{t['event_type']} {percent(t['share'])}" for t in m.top_types[:3]),
        )
    print_table(table, console, wide=wide)
    for m in found:
        if m.ceded_cells:
            # say which figures a split changed, so nobody adds the buffers back together
            console.print(
                f"{m.id}: {m.ceded_cells} cell(s) of its footprint + buffer are counted in "
                f"{'' if len(m.split_with) == 1 else 'one of '}{', '.join(m.split_with)} "
                "instead (a shared cell goes to the nearest "
                "footprint); no cell's harm counts twice.",
                highlight=False,
            )
    if not found:
        console.print("No candidate markets: no significant cluster of market activity.")


def _settings(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise MarketDecisionError(
                f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(CHARACTERISTICS)}"
            )
        out[key.strip()] = value
    return out


@markets_app.command("decide")
def decide_command(
    market_id: Annotated[str, typer.Argument(help="Market id (or name) as listed.")],
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirm it is a market.")] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Reject it (hidden from lists).")
    ] = False,
    rename: Annotated[str | None, typer.Option("--rename", help="Give it a name.")] = None,
    merge: Annotated[
        list[str] | None,
        typer.Option("--merge", help="Merge this market into it (repeatable)."),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Characteristic KEY=VALUE (repeatable). market_type: open, semi_open or "
            "closed; mode: street, premises, delivery or mixed; near_schools, juveniles_seen, "
            "firearms, violence: yes or no; drugs, notes: any text.",
        ),
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who decides (default: login).")] = None,
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    buffer: BufferOption = 250.0,
    alpha: AlphaOption = 0.05,
    area: AreaOption = None,
) -> None:
    """Record a decision about a candidate market (use the settings the listing used)."""
    err = Console(stderr=True)
    found = _detect(
        db,
        scheme=scheme,
        start=start,
        end=end,
        cell_size=cell_size,
        buffer=buffer,
        alpha=alpha,
        include_rejected=True,
        console=err,
        area=area,
    )
    try:
        target = find_market(found, market_id)
        others = [find_market(found, other) for other in (merge or [])]
        recorded = decide(
            db if db is not None else default_db(),
            target,
            confirm=confirm,
            reject=reject,
            rename=rename,
            merge=others,
            characteristics=_settings(settings or []),
            by=by,
        )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    for d in recorded:
        what = d.action if d.key is None else f"set {d.key}"
        value = "" if d.value is None else f" = {d.value}"
        Console().print(
            f"{d.market_id}: {what}{value} (by {d.decided_by}, {d.decided_at:%Y-%m-%d %H:%M} UTC)",
            highlight=False,
        )
