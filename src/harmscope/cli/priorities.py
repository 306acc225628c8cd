"""``harmscope priorities``: ranked places and markets, or one board across them (``--lens all``).

Every option either changes the result or is refused in that combination with a message naming
it: ``--significance`` belongs to the places lens, ``--buffer`` to the markets lens (both to
``all``, which holds them), and the lenses DESIGN plans but nobody has built yet (people,
groups, behaviours) are refused as "not available yet".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.lenses import check_lens, lens_options, ranked
from harmscope.app.options import months_arg
from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import (
    AreaOption,
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
from harmscope.cli._selection import (
    HarmOption,
    TypeOption,
    check_selection,
    warn_dropped_selection,
)
from harmscope.errors import HarmScopeError
from harmscope.harm.selection import harm_label
from harmscope.places.grid import DEFAULT_CELL_SIZE
from harmscope.priorities import ALL, LENSES
from harmscope.warehouse import default_db


@app.command("priorities")
def priorities_command(
    lens: Annotated[
        str,
        typer.Option(
            "--lens",
            help="places, markets or all (one board across them); people, groups and "
            "behaviours are not available yet.",
        ),
    ],
    db: DbOption = None,
    engine: EngineOption = None,
    scheme: SchemeOption = "cchi",
    harm: HarmOption = "drug",
    types: TypeOption = None,
    start: FromOption = None,
    end: ToOption = None,
    cell_size: CellSizeOption = DEFAULT_CELL_SIZE,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the first N rows.")] = None,
    significance: Annotated[
        str | None,
        typer.Option(
            "--significance",
            help="places (and all): none (score = harm, the default), weight (harm x Phi(Gi* "
            "z)) or require (only significant hot cells).",
        ),
    ] = None,
    buffer: Annotated[
        float | None,
        typer.Option(
            "--buffer", min=0.0, help="markets (and all): metres around a footprint [250]."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file, not stdout.")
    ] = None,
    area: AreaOption = None,
) -> None:
    """Rank units by harm, with reasons (the harm-matrix cells contributing most).

    Rows carry lens, rank (1..n), unit_id, score (descending) and reasons; place rows also
    cell_x and cell_y. With --lens all the rows of every available lens are ranked together
    (lens_rank keeps each row's rank within its lens). JSON is a list of row objects, reasons a
    list of strings; CSV joins reasons with '; '.

    With --area only cells whose centres fall inside the area are ranked (places: the Gi* for
    --significance runs on exactly those cells; markets: detected from activity inside it).

    Scores are drug-attributed harm unless --harm all (column harm_view says which); --type
    ranks by those crime types' harm only.
    """
    err = Console(stderr=True)
    check_format(err, fmt, "csv", "json")
    check_months(err, db, start, end)
    try:
        key = check_lens(lens)
        options = lens_options(
            key,
            {"significance": significance, "buffer": buffer},
            scheme=scheme,
            cell_size=cell_size,
            months=months_arg(start, end),
            top=top,
            harm=harm,
            types=types,
        )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    warehouse = db if db is not None else default_db()
    options["mask"] = study_area_option(area, db, cell_size, err)
    check_selection(err, db, start, end, types, located=True, area=options["mask"])
    try:
        with progress_bar(err) as progress:
            frame = ranked(key, warehouse, {**options, "progress": progress})
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    if "dropped" in frame.attrs:
        warn_dropped(err, frame.attrs["dropped"])
    else:  # the markets lens ranks a list of markets, which carries no period-wide count
        warn_dropped_selection(err, warehouse, scheme, options["months"], types, located=True)
    if key == ALL and frame.attrs.get("unavailable"):
        err.print(
            f"--lens all: {', '.join(frame.attrs['unavailable'])} not available yet; the board "
            f"holds {', '.join(sorted(LENSES))}.",
            highlight=False,
        )
    # Which harm the score holds, on every row (DESIGN §5 rows; add freely around them).
    frame["harm_view"] = harm_label(harm)
    render(frame, fmt, out)
