"""``harmscope power-few``: how much harm the most harmful few offenders (or victims) hold.

Reads the force's crime-person links through the audited read (so ``--user`` and
``--reason`` are required) and prints only shares: no person id leaves the command.
"""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import DbOption, SchemeOption, check_format, fail, print_table
from harmscope.cli._selection import HarmOption
from harmscope.errors import HarmScopeError
from harmscope.people.power_few import PowerFew, power_few


def _pct(v: float) -> str:
    return "-" if math.isnan(v) else f"{100 * v:.1f} %"


def _text(result: PowerFew) -> None:
    out = Console()
    who = f"{result.role}s"
    summary = Table(
        title=f"Power few: {who} ({result.harm_view}, scheme {result.scheme}; "
        f"{result.people:,} {who}, {result.total_harm:,.0f} harm)"
    )
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    for share, value in result.top.items():
        summary.add_row(f"harm held by the top {100 * share:g} % of {who}", _pct(value))
    for share, value in result.holding.items():
        summary.add_row(f"{who} holding {100 * share:g} % of the harm", _pct(value))
    summary.add_row("links whose crime is not in the warehouse", f"{result.unmatched:,}")
    print_table(summary, out)
    size = (
        f"top {result.top_list_size}"
        if result.top_list_size
        else "fewest holding 80 % of the year's harm"
    )
    years = Table(title=f"Each year's highest-harm list ({size})")
    for name in ("year", f"{who}", "list size", "new (no earlier list)", "new (vs last year)"):
        years.add_column(name, justify="right")
    for r in result.years.itertuples(index=False):
        years.add_row(
            str(r.year),
            f"{r.people:,}",
            f"{r.list_size:,}",
            _pct(r.new_vs_earlier),
            _pct(r.new_vs_previous),
        )
    print_table(years, out)


@app.command("power-few")
def power_few_command(
    db: DbOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    role: Annotated[
        str, typer.Option("--role", help="offender (links as offender) or victim.")
    ] = "offender",
    top_list_size: Annotated[
        int | None,
        typer.Option(
            "--top-list-size",
            min=1,
            help="People on each year's highest-harm list [the fewest holding 80 % of the "
            "year's harm].",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Who reads the personal data (audit log).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (audit log).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json or csv.")] = "text",
) -> None:
    """Share of harm held by the top 1, 5 and 10 % of offenders or victims, and how much of
    each year's highest-harm list is new.

    A person's harm is the scheme weight of the crimes they are linked to (drug-attributed
    unless --harm all), a crime linked to several people split equally among them. Needs
    force records (load-records) and the police.uk crimes they name (ingest); the read is
    logged with --user and --reason.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "text", "json", "csv")
    try:
        result = power_few(
            db,
            user=user,
            reason=reason,
            role=role,
            scheme=scheme,
            harm=harm,
            top_list_size=top_list_size,
        )
    except (HarmScopeError, ValueError, PermissionError) as exc:
        fail(err, exc)
    if fmt == "text":
        _text(result)
    else:
        render(result.to_frame() if fmt == "csv" else result, fmt)
