"""``harmscope evaluate``, ``scorecard``, ``validate-evaluation`` and ``load-survey``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.app.serialise import jsonable, write_json
from harmscope.cli._app import app
from harmscope.cli._common import (
    DbOption,
    EngineOption,
    WideOption,
    check_format,
    check_months,
    fail,
    print_table,
    progress_bar,
    warn_dropped,
)
from harmscope.cli._selection import HarmOption, TypeOption, check_selection, harm_option
from harmscope.errors import HarmScopeError
from harmscope.harm.selection import harm_label
from harmscope.warehouse import default_db


def harm_or_none(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """``--harm`` of evaluate: None when not given (a spec file's ``harm`` then stands)."""
    return None if value is None else harm_option(ctx, param, value)


@app.command()
def evaluate(
    db: DbOption = None,
    engine: EngineOption = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", help="Intervention file (TOML or JSON) instead of the options."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", help="all | lsoa:CODE,... | cells:X_Y,...[@SIZE] | FILE.geojson | FILE.txt"
        ),
    ] = None,
    buffer: Annotated[
        str | None, typer.Option("--buffer", help="As --target, or ring:METRES around it.")
    ] = None,
    control: Annotated[
        str | None,
        typer.Option("--control", help="As --target; 'all' = the rest of the force."),
    ] = None,
    pre: Annotated[str | None, typer.Option("--pre", help="YYYY-MM:YYYY-MM")] = None,
    post: Annotated[str | None, typer.Option("--post", help="YYYY-MM:YYYY-MM")] = None,
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="cchi (default), count or a TOML file.")
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option("--baseline-start", help="First month for the trend model (YYYY-MM)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Name shown in the report.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the HTML, PDF and JSON report.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
    harm: Annotated[
        str | None,
        typer.Option(
            "--harm",
            help="drug (default): harm estimators on drug-attributed harm; all: on every "
            "crime's harm. Crime counts do not change.",
            callback=harm_or_none,
        ),
    ] = None,
    types: TypeOption = None,
) -> None:
    """Evaluate an intervention: harm and crime against a control, displacement, a verdict.

    Harm is drug-attributed unless --harm all; --type counts only those crime types. The
    periods are --pre and --post (no --from/--to).
    """
    from harmscope.evaluate.intervention import (
        Intervention,
        evaluate_intervention,
        load_intervention,
    )
    from harmscope.report.evaluation import write_report

    console = Console(stderr=True)
    check_format(console, fmt, "text", "json")
    try:
        if spec is not None:
            clash = [
                o
                for o, v in (
                    ("--target", target),
                    ("--buffer", buffer),
                    ("--control", control),
                    ("--pre", pre),
                    ("--post", post),
                )
                if v is not None
            ]
            if clash:
                raise ValueError(
                    f"give either --spec or {', '.join(clash)}, not both (the spec file "
                    "sets the areas and periods)"
                )
            iv = load_intervention(spec)
            # --scheme, --name, --baseline-start, --harm and --type override the spec's keys.
            given: dict[str, Any] = {
                k: v
                for k, v in (
                    ("scheme", scheme),
                    ("name", name),
                    ("baseline_start", baseline),
                    ("harm", harm),
                    ("types", None if types is None else tuple(types)),
                )
                if v is not None
            }
            if given:
                iv = replace(iv, **given)
        else:
            missing = [
                o for o, v in (("--target", target), ("--pre", pre), ("--post", post)) if v is None
            ]
            if missing:
                raise ValueError(f"missing {', '.join(missing)} (or give --spec FILE)")
            doc: dict[str, object] = {
                "name": name or "intervention",
                "target": target,
                "pre": pre,
                "post": post,
                "scheme": scheme or "cchi",
                "harm": harm or "drug",
            }
            if types is not None:
                doc["types"] = list(types)
            if buffer is not None:
                doc["buffer"] = buffer
            if control is not None:
                doc["control"] = control
            if baseline is not None:
                doc["baseline_start"] = baseline
            iv = Intervention.from_dict(doc, base=Path.cwd())
        if iv.types is not None:
            check_selection(console, db, iv.series_months[0], iv.post.end, list(iv.types))
        with progress_bar(console) as progress:
            ev = evaluate_intervention(iv, db=db, progress=progress)
        # the warehouse's LSOA boundaries draw LSOA areas on the report's map
        where = db if db is not None else default_db()
        files = write_report(ev, out, db=where) if out is not None else {}
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(console, exc)
    warn_dropped(console, ev.dropped)
    if fmt == "json":
        payload = jsonable(ev.to_dict())
        payload["files"] = {k: str(v) for k, v in files.items()}
        write_json(payload)
        return
    from harmscope.evaluate.intervention import verdict_lines

    only = "" if iv.types is None else f", {', '.join(iv.types)} only"
    Console().print(
        f"[bold]{iv.name}[/]: pre {iv.pre}, post {iv.post}; harm is {harm_label(iv.harm)}{only}",
        highlight=False,
    )
    for line in verdict_lines(ev):
        Console().print(line, highlight=False, soft_wrap=True)
    for key, why in ev.no_data.items():
        console.print(f"no data: {key.replace('.', ' ')}: {why}", highlight=False, soft_wrap=True)
    for note in ev.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True)
    for kind, path in files.items():
        console.print(f"{kind}: {path}", highlight=False)


@app.command()
def scorecard(
    db: DbOption = None,
    engine: EngineOption = None,
    lsoa: Annotated[
        list[str] | None, typer.Option("--lsoa", help="LSOA code (repeat for several).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    scheme: Annotated[
        list[str] | None, typer.Option("--scheme", help="Harm scheme(s); default cchi and count.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    wide: WideOption = False,
) -> None:
    """Harm vs busyness: police activity beside harm, perceptions and harms from control.

    The harm measures are drug-attributed unless --harm all; --type keeps only those crime
    types in them (the activity side keeps its own definitions).
    """
    from harmscope.evaluate.scorecard import scorecard as build

    console = Console(stderr=True)
    check_format(console, fmt, "table", "json", "csv")
    check_months(console, db, start, end)
    check_selection(console, db, start, end, types)
    months = months_arg(start, end)
    try:
        card = build(
            db=db,
            lsoas=lsoa or None,
            months=months,
            schemes=tuple(scheme) if scheme else ("cchi", "count"),
            harm=harm,
            types=types,
        )
    except (HarmScopeError, ValueError) as exc:
        fail(console, exc)
    for dropped in card.dropped:
        warn_dropped(console, dropped)
    if fmt in ("json", "csv"):
        render(card, fmt)
        return
    where = f"{len(card.lsoas)} LSOAs" if card.lsoas else "all events"
    table = Table(
        title=f"Harm vs busyness scorecard: {where}, {card.months[0]} to {card.months[1]}"
    )
    for col in ("side", "measure", "value", "unit", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for m in card.measures:
        if m.value is None:
            value = "no data"
        elif m.unit == "share":
            value = f"{100 * m.value:.1f}%"
        else:
            value = f"{m.value:,.1f}" if m.value % 1 else f"{m.value:,.0f}"
        table.add_row(m.side, m.label, value, "" if m.unit == "share" else m.unit, m.note)
    print_table(table, Console(), wide=wide)


@app.command("validate-evaluation")
def validate_evaluation(
    simdir: Annotated[
        Path, typer.Argument(help="Folder from `harmscope simulate` (seed and size are read).")
    ],
    operations: Annotated[
        int, typer.Option("--operations", min=1, help="Simulated operations (default 200).")
    ] = 200,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the folder's seed.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    wide: WideOption = False,
) -> None:
    """Coverage, bias and displacement detection of each estimator on simulated operations."""
    from harmscope.checks.evaluation import validate_evaluation as run

    console = Console(stderr=True)
    check_format(console, fmt, "table", "json", "csv")
    try:
        with progress_bar(console) as progress:
            res = run(simdir, operations=operations, seed=seed, progress=progress)
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(console, exc)
    if fmt in ("json", "csv"):
        render(res if fmt == "json" else res.table, fmt)
        return
    table = Table(
        title=f"Estimators on {operations} simulated operations (seed "
        f"{res.settings['seed']}, {res.settings['size']} city)"
    )
    for col in (
        "estimator",
        "coverage",
        "bias",
        "displacement detected",
        "false alarm",
        "diffusion detected",
        "estimand",
    ):
        table.add_column(col, justify="left" if col in ("estimator", "estimand") else "right")

    def pct(v: float) -> str:
        return "–" if v != v else f"{100 * v:.1f}%"

    for row in res.table.to_dict(orient="records"):
        name = str(row["estimator"]) + (" (default)" if row["default"] else "")
        table.add_row(
            name,
            pct(row["coverage"]),
            pct(row["bias"]),
            pct(row["displacement_detected"]),
            pct(row["displacement_false_alarm"]),
            pct(row["diffusion_detected"]),
            str(row["estimand"]),
        )
    print_table(table, Console(), wide=wide)


@app.command("load-survey")
def load_survey_cmd(
    path: Annotated[Path, typer.Argument(help="Survey responses CSV (simulator format).")],
    db: DbOption = None,
    engine: EngineOption = None,
) -> None:
    """Load community survey responses for the scorecard (identical files load once)."""
    from harmscope.evaluate.survey import load_survey

    console = Console(stderr=True)
    try:
        n = load_survey(path, db=db)
    except HarmScopeError as exc:
        fail(console, exc)
    Console().print(f"{n:,} survey responses loaded" if n else "already loaded: nothing added")
