"""``harmscope validate-priorities`` (each lens against simulated truth, one city or N) and
``harmscope validate-attribution`` (the local market attribution against simulated truth)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.table import Table

from harmscope.app.render import render
from harmscope.checks.attribution import validate_attribution
from harmscope.checks.priorities import LensValidation, validate_priorities
from harmscope.checks.scoring import METRICS
from harmscope.checks.seeds import SeedsValidation, validate_priorities_seeds
from harmscope.cli._app import app
from harmscope.cli._common import WideOption, check_format, fail, print_table, progress_bar
from harmscope.errors import HarmScopeError


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _table(results: dict[str, LensValidation], simdir: Path) -> Table:
    table = Table(title=f"each lens against the ground truth of {simdir}")
    table.add_column("lens")
    table.add_column("k", justify="right")
    table.add_column("true units", justify="right")
    for col in ("p@k", "counting", "busyness", "ceiling", "p@20", "counting", "busyness"):
        table.add_column(col, justify="right")
    table.add_column("harm captured (lens / counting / busyness)", justify="right")
    for name, v in results.items():
        if v.score is None:
            table.add_row(name, str(v.k), "—", *(["n/a"] * 7), "—")
            continue
        # A lens may be scored against further truths (the people lens: all_population).
        for label, score in (
            (name, v.score),
            *((f"{name} ({o})", s) for o, s in v.score.others.items()),
        ):
            sc = score.scores
            table.add_row(
                label,
                str(score.k_effective),
                str(score.n_true),
                *(_pct(sc[r].precision_at_k) for r in ("lens", "counting", "busyness")),
                _pct(sc["lens"].ceiling_at_k),
                *(_pct(sc[r].precision_at_20) for r in ("lens", "counting", "busyness")),
                " / ".join(_pct(sc[r].harm_captured) for r in ("lens", "counting", "busyness")),
            )
    return table


def _notes(results: dict[str, LensValidation]) -> list[str]:
    notes = []
    for name, v in results.items():
        if v.score is not None:
            n = v.score.notes
            notes.append(
                f"{name}: a hit is the {n.get('matching', 'same unit')}; counting = "
                f"{n.get('baseline_scheme', 'count')} scheme; busyness = {n.get('busyness', '')}."
            )
        else:
            notes.append(f"{name}: unavailable — {v.reason}.")
    return notes


def _band(interval: dict[str, float | None]) -> str:
    mean, low, high = interval["mean"], interval["low"], interval["high"]
    if mean is None:
        return "—"
    if low is None or high is None:
        return f"{mean:.2f}"
    return f"{mean:.2f} ({low:.2f}-{high:.2f})"


def _seeds_table(result: SeedsValidation) -> Table:
    seeds = result.seeds
    table = Table(
        title=f"each lens over {len(seeds)} simulated cities (seeds {seeds[0]}-{seeds[-1]}, "
        f"{result.size}, {result.months} months): mean (95 % interval); ceiling = the best "
        "precision@k any order of the lens's own units reaches"
    )
    for col in (
        "lens",
        "metric",
        "lens",
        "counting",
        "busyness",
        "ceiling",
        "beats counting",
        "beats busyness",
    ):
        table.add_column(col, justify="left" if col in ("lens", "metric") else "right")
    for name, entry in result.lenses.items():
        if not entry.get("available"):
            table.add_row(name, "unavailable", "n/a", "n/a", "n/a", "n/a", "—", "—")
            continue
        others = [(f"{name} ({o})", entry[o]) for o in _further_truths(entry)]
        for label, pooled in ((name, entry), *others):
            for metric in METRICS:
                band = pooled["intervals"][metric]
                wins = [pooled["wins"][b][metric] for b in ("counting", "busyness")]
                ceiling = (
                    _band(pooled["intervals"]["ceiling_at_k"]["lens"])
                    if metric == "precision_at_k"
                    else ""
                )
                table.add_row(
                    label,
                    metric.replace("precision_at_k", f"precision@{pooled['k']}").replace(
                        "precision_at_20", "precision@20"
                    ),
                    _band(band["lens"]),
                    _band(band["counting"]),
                    _band(band["busyness"]),
                    ceiling,
                    *(
                        f"{w['win_share']:.0%} ({w['wins']}/{w['ties']}/{w['losses']})"
                        for w in wins
                    ),
                )
    return table


def _further_truths(entry: dict[str, Any]) -> list[str]:
    """Names of the further truths pooled in a lens's entry (dicts holding their own wins)."""
    return [k for k, v in entry.items() if isinstance(v, dict) and "wins" in v]


@app.command("validate-priorities")
def validate_priorities_command(
    simdir: Annotated[
        Path | None,
        typer.Argument(help="Folder written by `harmscope simulate --out DIR` (or --seeds N)."),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds", min=1, help="Simulate N cities (seeds FIRST..FIRST+N-1) instead of SIMDIR."
        ),
    ] = None,
    first_seed: Annotated[
        int,
        typer.Option(
            "--first-seed",
            min=0,
            help="--seeds: first seed (the tuning seeds 101-180 are refused).",
        ),
    ] = 1,
    size: Annotated[
        str, typer.Option("--size", help="--seeds: small, city (default) or region.")
    ] = "city",
    months: Annotated[
        int, typer.Option("--months", min=2, max=120, help="--seeds: months per city.")
    ] = 36,
    cache: Annotated[
        Path | None,
        typer.Option("--cache", help="--seeds: keep the simulated cities here for later runs."),
    ] = None,
    lens: Annotated[
        list[str] | None,
        typer.Option("--lens", help="Lens to validate (repeatable; default every lens)."),
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Top units compared.")] = 10,
    scheme: Annotated[
        str, typer.Option("--scheme", help="Weight scheme of the lenses: cchi or a TOML file.")
    ] = "cchi",
    baseline_scheme: Annotated[
        str,
        typer.Option("--baseline-scheme", help="Scheme of the counting baseline (count)."),
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
        typer.Option("--db", help="SIMDIR: keep the ingested warehouse in this DuckDB file."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write JSON to this file, not stdout.")
    ] = None,
    wide: WideOption = False,
) -> None:
    """Each lens against the simulator's ground truth, beside counting and busyness.

    SIMDIR: ingests the folder's police.uk files and force records into a temporary
    warehouse, runs each lens's check and scores the lens, the counting baseline (recorded
    events) and the busyness baseline (police activity: drug offences, stop and search,
    arrests) alike: precision@k and @20, harm captured by the top k against the best
    possible. --seeds N simulates N cities itself and reports means with 95 % intervals and
    the share of seeds where the lens beats each baseline. JSON maps each lens to
    {precision_at_k, baseline_precision_at_k, busyness_precision_at_k, ...}; lenses without a
    check are reported unavailable with the reason.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json")
    if market_match not in ("area", "footprint"):
        fail(err, ValueError(f"--market-match must be area or footprint, not {market_match!r}"))
    if out is not None and fmt != "json":
        fail(err, ValueError("--out writes JSON: add --format json"))
    if (simdir is None) == (seeds is None):
        fail(err, ValueError("give either SIMDIR or --seeds N (not both)"))
    if size not in ("small", "city", "region"):
        fail(err, ValueError(f"--size must be small, city or region, not {size!r}"))
    if seeds is None:
        given = [
            name
            for name, used in (
                ("--first-seed", first_seed != 1),
                ("--size", size != "city"),
                ("--months", months != 36),
                ("--cache", cache is not None),
            )
            if used
        ]
        if given:
            fail(err, ValueError(f"{', '.join(given)}: only with --seeds (SIMDIR is one city)"))
    if seeds is not None and db is not None:
        fail(err, ValueError("--db goes with SIMDIR (--seeds keeps cities with --cache)"))
    match: Literal["area", "footprint"] = "area" if market_match == "area" else "footprint"
    try:
        with progress_bar(err) as callback:
            if seeds is not None:
                pooled = validate_priorities_seeds(
                    seeds,
                    first_seed=first_seed,
                    lenses=lens,
                    k=k,
                    size="small" if size == "small" else "region" if size == "region" else "city",
                    months=months,
                    scheme=scheme,
                    baseline_scheme=baseline_scheme,
                    cell_size=cell_size,
                    buffer=buffer,
                    market_match=match,
                    cache=cache,
                    progress=callback,
                )
            else:
                assert simdir is not None
                results = validate_priorities(
                    simdir,
                    k=k,
                    scheme=scheme,
                    baseline_scheme=baseline_scheme,
                    cell_size=cell_size,
                    buffer=buffer,
                    market_match=match,
                    lenses=lens,
                    db=db,
                    progress=callback,
                )
    except (HarmScopeError, ValueError, OSError) as exc:
        fail(err, exc)
    console = Console()
    if seeds is not None:
        if fmt == "json":
            render(pooled.to_dict(), "json", out)
            return
        print_table(_seeds_table(pooled), console, wide=wide)
        console.print(
            "beats: share of seeds where the lens scores strictly higher (wins/ties/losses).",
            highlight=False,
            markup=False,
        )
        return
    if fmt == "json":
        render({name: v.to_dict() for name, v in results.items()}, "json", out)
        return
    assert simdir is not None
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
