"""``harmscope simulate``: write a seeded SYNTHETIC city in police.uk formats plus truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.cli._app import app
from harmscope.cli._common import fail, progress_bar
from harmscope.errors import HarmScopeError
from harmscope.periods import progress_stage


@app.command()
def simulate(
    seed: Annotated[
        int, typer.Option("--seed", help="Seed: the same seed gives byte-identical files.")
    ] = 0,
    months: Annotated[
        int, typer.Option("--months", min=1, help="Number of months to simulate.")
    ] = 36,
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if missing).")] = Path(
        "harmscope-sim"
    ),
    size: Annotated[
        str,
        typer.Option(
            "--size", help="small (~40,000 residents), city (~300,000) or region (~1,000,000)."
        ),
    ] = "small",
    start: Annotated[str, typer.Option("--start", help="First month, YYYY-MM.")] = "2021-01",
) -> None:
    """Simulate a SYNTHETIC drug-market city: police.uk files, intelligence, survey, partners, truth."""
    from harmscope.simulate import simulate as run_simulation

    console = Console(stderr=True)
    if size not in ("small", "city", "region"):
        fail(console, ValueError(f"--size must be small, city or region, not {size!r}"))
    t0 = time.perf_counter()
    try:
        with progress_bar(console) as progress:
            res = run_simulation(
                seed=seed,
                months=months,
                size=size,  # type: ignore[arg-type]
                start=start,
                progress=progress,
            )
            with progress_stage(progress, "writing files"):
                res.write(out)
    except HarmScopeError as exc:
        fail(console, exc)
    m = res.manifest()
    rows = m["rows"]
    assert isinstance(rows, dict)
    Console().print(
        f"[bold]SYNTHETIC[/] data written to {out} in {time.perf_counter() - t0:.1f} s: "
        f"seed {seed}, {size} ({m['residents']:,} residents, {m['lsoas']} LSOAs, "
        f"{m['markets']} drug markets), {m['first_month']} to {m['last_month']}; "
        f"{rows['street']:,} street, {rows['outcomes']:,} outcomes, "
        f"{rows['stop_and_search']:,} stop-and-search rows. Ingest with: "
        f"harmscope ingest {out}/20*",
        highlight=False,
    )
