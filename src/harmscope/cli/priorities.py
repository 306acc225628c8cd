"""``harmscope priorities``: the MoRiLE-style priority board of one lens, or of all (``--lens all``).

Every option either changes the result or is refused in that combination with a message naming
it: ``--significance`` belongs to the places lens, ``--buffer`` to the markets lens (both to
``all``, which holds them), a lens DESIGN plans but nobody has built yet is refused as "not
available yet", and a personal lens (people, groups) asked for by name needs ``--user`` and
``--reason`` (audited). The score is the board score (docs/priorities.md, "The one board").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harmscope.app.lenses import BoardRequest, board, check_lens, check_personal, lens_options
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
            help="places, markets, people, groups, behaviours (when registered) or all: one "
            "board across every lens available.",
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
    user: Annotated[
        str | None,
        typer.Option("--user", help="Who reads force records (personal lenses only; audited)."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why (personal lenses only; audited)."),
    ] = None,
    community_mix: Annotated[
        float | None,
        typer.Option(
            "--community-mix",
            min=0.0,
            max=1.0,
            help="Share of the harm factor set by the community survey's harm ranking "
            "(0 = none) [0.25].",
        ),
    ] = None,
    morile: Annotated[
        Path | None,
        typer.Option(
            "--morile",
            help="TOML file over the MoRiLE defaults (scales, confidence, capacity, "
            "capability, partnership per lens or unit).",
        ),
    ] = None,
    save_snapshot: Annotated[
        str | None,
        typer.Option("--save-snapshot", help="Save this board in the warehouse under NAME."),
    ] = None,
    compare_with: Annotated[
        str | None,
        typer.Option(
            "--compare-with",
            help="Add rank change, new and what moved since a saved board (NAME or last).",
        ),
    ] = None,
) -> None:
    """Rank units on the priority board, with reasons (the harm-matrix cells contributing most).

    Rows carry lens, rank (1..n), unit_id, score (the board score: harm x likelihood x
    confidence x organisational position, with the community's weights; descending) and
    reasons; place rows also cell_x and cell_y. Each row shows its factors, top_cells,
    evidence, the defaults used where the lens gave nothing, and its score and rank range.
    With --lens all the rows of every available lens are ranked together (lens_rank keeps
    each row's rank within its lens); lenses that cannot run here are listed on stderr. JSON
    is a list of row objects, lists as lists; CSV joins them with '; '.

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
        check_personal(key, user, reason)
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
            frame, notes = board(
                key,
                warehouse,
                {**options, "progress": progress},
                BoardRequest(
                    morile=None if morile is None else str(morile),
                    community_mix=community_mix,
                    save_snapshot=save_snapshot,
                    compare_with=compare_with,
                    user=user,
                    reason=reason,
                ),
            )
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    if "dropped" in frame.attrs:
        warn_dropped(err, frame.attrs["dropped"])
    else:  # the markets lens ranks a list of markets, which carries no period-wide count
        warn_dropped_selection(err, warehouse, scheme, options["months"], types, located=True)
    if key == ALL and frame.attrs.get("unavailable"):
        why = frame.attrs.get("unavailable_reasons", {})
        held = sorted(set(LENSES) - set(why))
        planned = [k for k in frame.attrs["unavailable"] if k not in LENSES]
        other = [f"{k} ({why.get(k)})" for k in frame.attrs["unavailable"] if k in LENSES]
        left = [f"{', '.join(planned)} (not available yet)"] if planned else []
        err.print(
            f"--lens all: the board holds {', '.join(held) or 'no lens'}; left out: "
            + "; ".join(left + other),
            highlight=False,
        )
    community = frame.attrs.get("community", {})
    err.print(
        f"board score: {frame.attrs.get('formula')}; community mix "
        f"{frame.attrs.get('community_mix'):g}, survey wave {community.get('wave') or 'none loaded'}"
        + (
            f" ({len(community['suppressed'])} area(s) under {community['min_respondents']} "
            "respondents use force-wide weights)"
            if community.get("suppressed")
            else ""
        ),
        highlight=False,
    )
    for note in notes:
        err.print(note, highlight=False)
    # Which harm the score holds, on every row (DESIGN §5 rows; add freely around them).
    frame["harm_view"] = harm_label(harm)
    render(frame, fmt, out)
