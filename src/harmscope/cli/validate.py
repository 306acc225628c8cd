"""``harmscope validate-priorities`` (precision@k of each lens on a simulated city) and
``harmscope validate-attribution`` (the local market attribution against simulated truth)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.render import render
from harmscope.checks.attribution import validate_attribution
from harmscope.checks.priorities import LensValidation, validate_priorities
from harmscope.cli._app import app
from harmscope.cli._common import WideOption, check_format, fail, print_table, progress_bar
from harmscope.errors import HarmScopeError


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _table(results: dict[str, LensValidation], simdir: Path) -> Table:
    first = next((v for v in results.values() if v.available), None)
    scheme = first.scheme if first else "harm"
    baseline = first.baseline_scheme if first else "count"
    table = Table(title=f"precision@k against the ground truth of {simdir}")
    table.add_column("lens")
    table.add_column("k", justify="right")
    table.add_column("true units", justify="right")
    table.add_column(f"{scheme}", justify="right")
    table.add_column(f"{baseline} (baseline)", justify="right")
    table.add_column("hits", justify="right")
    for name, v in results.items():
        if v.available:
            table.add_row(
                name,
                str(v.k_effective),
                str(v.n_true),
                _pct(v.precision_at_k),
                _pct(v.baseline_precision_at_k),
                f"{v.hits} / {v.baseline_hits}",
            )
        else:
            table.add_row(name, str(v.k), "—", "n/a", "n/a", "—")
    return table


def _notes(results: dict[str, LensValidation]) -> list[str]:
    notes = []
    for name, v in results.items():
        if v.available:
            notes.append(f"{name}: a hit is the {v.matching}.")
        else:
            notes.append(f"{name}: unavailable — {v.reason}.")
    return notes


@app.command("validate-priorities")
def validate_priorities_command(
    simdir: Annotated[
        Path, typer.Argument(help="Folder written by `harmscope simulate --out DIR`.")
    ],
    k: Annotated[int, typer.Option("--k", min=1, help="Top units compared.")] = 10,
    scheme: Annotated[
        str, typer.Option("--scheme", help="Weight scheme of the lenses: cchi or a TOML file.")
    ] = "cchi",
    baseline_scheme: Annotated[
        str,
        typer.Option("--baseline-scheme", help="Scheme of the busyness baseline (count)."),
    ] = "count",
    cell_size: Annotated[
        float,
        typer.Option("--cell-size", min=1.0, help="Grid cell side, metres (a multiple of 250)."),
    ] = 250.0,
    buffer: Annotated[
        float, typer.Option("--buffer", min=0.0, help="markets: metres around a footprint.")
    ] = 250.0,
    market_match: Annotated[
        str,
        typer.Option(
            "--market-match",
            help="markets: a true market is found when its cell lies in the detected "
            "footprint + buffer (area) or footprint alone (footprint).",
        ),
    ] = "area",
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Keep the ingested warehouse in this DuckDB file."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write JSON to this file, not stdout.")
    ] = None,
    wide: WideOption = False,
) -> None:
    """Precision@k of each lens against the simulator's ground truth, beside the count baseline.

    Ingests SIMDIR's police.uk files into a temporary warehouse, ranks with each lens under
    the harm scheme and under the count scheme (what a busyness-driven analyst would pick),
    and compares each top k with the top k of true harm in SIMDIR/truth/. JSON maps each lens
    to {precision_at_k, baseline_precision_at_k, ...}; lenses not implemented yet are
    reported unavailable with the reason.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json")
    if market_match not in ("area", "footprint"):
        fail(err, ValueError(f"--market-match must be area or footprint, not {market_match!r}"))
    if out is not None and fmt != "json":
        fail(err, ValueError("--out writes JSON: add --format json"))
    try:
        with progress_bar(err) as callback:
            results = validate_priorities(
                simdir,
                k=k,
                scheme=scheme,
                baseline_scheme=baseline_scheme,
                cell_size=cell_size,
                buffer=buffer,
                market_match="area" if market_match == "area" else "footprint",
                db=db,
                progress=callback,
            )
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)
    if fmt == "json":
        render({name: v.to_dict() for name, v in results.items()}, "json", out)
    else:
        console = Console()
        print_table(_table(results, simdir), console, wide=wide)
        for line in _notes(results):
            console.print(line, highlight=False, markup=False)


@app.command("validate-attribution")
def validate_attribution_command(
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="Simulated cities (seeds FIRST..FIRST+N-1).")
    ] = 20,
    first_seed: Annotated[
        int,
        typer.Option(
            "--first-seed", min=0, help="First seed (the tuning seeds 101-180 are refused)."
        ),
    ] = 1,
    months: Annotated[
        int, typer.Option("--months", min=2, max=120, help="Months simulated per city.")
    ] = 36,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The local market attribution against the simulator's truth over N simulated cities.

    Simulates each city (small size), detects its markets with police intelligence, measures
    the local excess of harm around them and compares the attributed drug-market share of
    harm with the true share (truth/behaviour_month.csv). JSON: {bias, coverage, seeds, ...}.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json")
    try:
        with progress_bar(err) as callback:
            result = validate_attribution(
                seeds, first_seed=first_seed, months=months, progress=callback
            )
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)
    if fmt == "json":
        render(result.to_dict(), "json", None)
        return
    console = Console()
    table = Table(title="drug-market share of harm: attributed against true, per simulated city")
    for col in (
        "seed",
        "markets (true / found)",
        "true share",
        "attributed",
        "95% interval",
        "truth",
    ):
        table.add_column(col, justify="right")
    for r in result.runs:
        table.add_row(
            str(r.seed),
            f"{r.markets_true} / {r.markets_found}",
            f"{r.true_share:.3f}",
            f"{r.share:.3f}",
            f"{r.share_low:.3f} to {r.share_high:.3f}",
            "covered" if r.covered else "missed",
        )
    print_table(table, console)
    verdict = "targets met" if result.targets_met else "targets NOT met"
    console.print(
        f"bias (mean relative error) {result.bias:+.1%}, coverage {result.coverage:.0%} "
        f"over {len(result.seeds)} seeds — {verdict} (|bias| < 10 %, coverage 90-98 %, "
        ">= 20 seeds)",
        highlight=False,
        markup=False,
    )
