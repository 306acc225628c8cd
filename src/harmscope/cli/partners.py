"""``harmscope load-partners`` and ``harmscope assess add|list``: measured partner
indicators and analysts' assessed cells for the harm matrix."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harmscope.app.render import render
from harmscope.cli._app import app
from harmscope.cli._common import DbOption, EngineOption, check_format, fail, print_table
from harmscope.errors import HarmScopeError
from harmscope.harm.assessed import CONFIDENCE, Assessment, assessed_cells, default_scales
from harmscope.harm.attribution import NOT_ATTRIBUTED
from harmscope.harm.evidence import APART, MatrixReport, explain
from harmscope.harm.measured import SCHEME_UNIT
from harmscope.warehouse import Warehouse

assess_app = typer.Typer(
    help="Analysts' assessed cells: ratings of harms no data measure (exploitation, families).",
    no_args_is_help=True,
)
app.add_typer(assess_app, name="assess")


@app.command("load-partners")
def load_partners_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Partner files or folders: drug deaths and hospital admissions by area and "
            "year (deaths_misuse.csv, hospital_admissions/misuse.csv, ...), or per-LSOA "
            "monthly indicators (month, lsoa_code, overdoses, drug_deaths, needle_finds, "
            "treatment_entries)."
        ),
    ],
    db: DbOption = None,
    engine: EngineOption = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Load only this indicator (repeatable), e.g. drug_misuse_deaths, "
            "drug_poisoning_admissions, needle_finds, treatment_entries.",
        ),
    ] = None,
) -> None:
    """Load partner indicators (drug deaths, hospital admissions, needle finds, treatment
    entries) for the matrix's measured cells; identical files load once.

    Rates per 100,000 are refused (load the counts). The 2020 rows of the hospital-admission
    files do not continue their series and are refused: the load says so.
    """
    from harmscope.warehouse.loaders import load_partners

    err = Console(stderr=True)
    try:
        done = load_partners(paths, db=db, indicators=kind)
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    except KeyError as exc:
        fail(err, ValueError(f"--kind: {exc.args[0]}"))
    if done.refused:
        names = ", ".join(Path(f.split("!")[-1]).name for f in done.refused)
        why = next(iter(done.refused.values()))
        err.print(
            f"[yellow]warning:[/] {len(done.refused)} file(s): {escape(why)}: {escape(names)}",
            highlight=False,
            soft_wrap=True,
        )
    out = Console()
    if done.rows_loaded:
        out.print(
            f"{done.rows_loaded:,} partner indicator rows loaded from {done.files:,} file{'s' if done.files != 1 else ''}"
        )
    else:
        out.print(
            f"already loaded: nothing added ({done.files:,} file{'s' if done.files != 1 else ''})"
        )


@assess_app.command("add")
def assess_add(
    harm_type: Annotated[
        str, typer.Option("--harm-type", help="Harm type: health, economic, social, environmental.")
    ],
    bearer: Annotated[
        str, typer.Option("--bearer", help="Bearer: individuals, families, communities, society.")
    ],
    source: Annotated[
        str, typer.Option("--source", help="Source: use, production, distribution, control.")
    ],
    severity: Annotated[
        str,
        typer.Option(
            "--severity", help="Severity: marginal, moderate, serious, grave, catastrophic."
        ),
    ],
    incidence: Annotated[
        str,
        typer.Option(
            "--incidence", help="Incidence: rare, occasional, recurrent, persistent, continuous."
        ),
    ],
    confidence: Annotated[
        str, typer.Option("--confidence", help="Confidence in the rating: low, medium, high.")
    ],
    evidence: Annotated[
        str, typer.Option("--evidence", help="What the rating rests on (sources, cases, dates).")
    ],
    category: Annotated[
        str | None,
        typer.Option("--category", help="Finer category of the harm type, e.g. exploitation."),
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Where: an LSOA, a market or a district.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who assesses (default: the login name).")
    ] = None,
    db: DbOption = None,
    engine: EngineOption = None,
) -> None:
    """Record an analyst's rating of a matrix cell no data measure (kept with who and when)."""
    from harmscope.warehouse.loaders import record_assessment

    err = Console(stderr=True)
    a = Assessment(
        harm_type=harm_type,
        bearer=bearer,
        source=source,
        severity=severity,
        incidence=incidence,
        confidence=confidence,
        evidence=evidence,
        assessed_by=(by or "").strip() or getpass.getuser(),
        category=category,
        area=area,
    )
    try:
        a.check()
        new_id = record_assessment(a, db=db)
    except (HarmScopeError, ValueError) as exc:
        fail(err, _as_option(exc))
    # Read back as the matrix shows it: the sentence names every field recorded.
    with Warehouse.of(db) as wh:
        cell = next(
            c
            for c in assessed_cells(wh.table("assessed_cells"), latest=False)
            if c["assessment_id"] == new_id
        )
    Console().print(
        f"assessment {new_id}: {a.harm_type}/{a.bearer}/{a.source}: {explain(cell)}",
        highlight=False,
        soft_wrap=True,
    )


def _as_option(exc: Exception) -> Exception:
    """A check message naming a field (``harm_type: ...``) as naming its option."""
    first, _, rest = str(exc).partition(":")
    option = {"assessed_by": "by"}.get(first, first).replace("_", "-")
    return ValueError(f"--{option}:{rest}") if first in _FIELDS else exc


_FIELDS = frozenset(
    {
        "harm_type",
        "bearer",
        "source",
        "severity",
        "incidence",
        "confidence",
        "category",
        "evidence",
        "assessed_by",
    }
)


@assess_app.command("list")
def assess_list(
    db: DbOption = None,
    engine: EngineOption = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every assessment, superseded ones too (default: latest)."),
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """List assessed cells: the latest rating of each cell, category and area (--all: every
    one), highest priority first."""
    err = Console(stderr=True)
    check_format(err, fmt, "table", "json", "csv")
    try:
        with Warehouse.of(db) as wh:
            table = wh.table("assessed_cells") if wh.has("assessed_cells") else None
            cells = assessed_cells(table, latest=not every)
    except (HarmScopeError, ValueError) as exc:
        fail(err, exc)
    if fmt == "json":
        render({"assessed": cells, "scales": _scales()}, fmt)
        return
    if fmt == "csv":
        render(pd.DataFrame(cells, columns=list(_COLUMNS)), fmt)
        return
    if not cells:
        Console().print("no assessment recorded yet (harmscope assess add)")
        return
    t = Table(title="Assessed cells (ratings: shown apart from measured harm, never summed)")
    for col in ("id", "cell", "rating", "priority", "confidence", "by", "when", "evidence"):
        t.add_column(col)
    for c in cells:
        cell = f"{c['harm_type']}/{c['bearer']}/{c['source']}" + (
            f" ({c['category']})" if c["category"] else ""
        )
        if c["area"]:
            cell += f" in {c['area']}"
        rng = (
            c["priority"]
            if c["priority_low"] == c["priority_high"]
            else (f"{c['priority']} ({c['priority_low']}–{c['priority_high']})")
        )
        t.add_row(
            str(c["assessment_id"]),
            cell,
            f"{c['severity']} / {c['incidence']}",
            rng,
            c["confidence"],
            c["assessed_by"],
            c["assessed_at"][:16].replace("T", " "),
            c["evidence"],
        )
    print_table(t, Console())


_COLUMNS = (
    "assessment_id",
    "harm_type",
    "bearer",
    "source",
    "category",
    "area",
    "severity",
    "incidence",
    "confidence",
    "priority",
    "priority_low",
    "priority_high",
    "evidence",
    "assessed_by",
    "assessed_at",
    "superseded",
)


def _scales() -> dict[str, object]:
    sc = default_scales()
    return {
        "severity": list(sc.severity),
        "incidence": list(sc.incidence),
        "confidence": list(CONFIDENCE),
        "bands": list(sc.bands),
        "citation": sc.citation,
    }


def print_evidence(report: MatrixReport, out: Console, *, wide: bool = False) -> None:
    """Below the matrix table: one sentence per shown cell saying where its number comes
    from, then the measured cells (own units) and the assessed cells (ratings), each with
    its sentence, and the reminder that neither is in the total."""
    m = report.matrix
    out.print("Where each number comes from:", style="bold")
    for c in m.cells:
        if c["value"]:
            source = "not drug-attributed" if c["source"] == NOT_ATTRIBUTED else c["source"]
            out.print(
                f"- {c['harm_type']}/{c['bearer']}/{source}: {escape(report.explain(c))}",
                highlight=False,
                soft_wrap=False,
            )
    if report.measured:
        t = Table(title="Measured cells (own units, not in the harm total)")
        for col in ("cell", "indicator", "value", "range", "unit"):
            t.add_column(col, justify="right" if col in ("value", "range") else "left")
        for mc in report.measured:
            cell = (
                "/".join(str(mc[k]) for k in ("harm_type", "bearer", "source"))
                if (mc["kind"] == "harm")
                else "service (not harm)"
            )
            unit = m.unit if mc["unit"] == SCHEME_UNIT else mc["unit"]
            shown = mc["value"] is not None
            t.add_row(
                cell,
                mc["label"],
                f"{mc['value']:,.1f}" if shown else "no data",
                f"{mc['low']:,.1f}–{mc['high']:,.1f}" if shown else "",
                unit,
            )
        print_table(t, out, wide=wide)
        for mc in report.measured:
            out.print(
                f"- {mc['label']}: {escape(report.explain(mc))}", highlight=False, soft_wrap=False
            )
    if report.assessed:
        out.print("Assessed cells (analysts' ratings, never summed):", style="bold")
        for a in report.assessed:
            cell = f"{a['harm_type']}/{a['bearer']}/{a['source']}"
            out.print(f"- {cell}: {escape(report.explain(a))}", highlight=False, soft_wrap=False)
    out.print(f"Note: {APART}", highlight=False, soft_wrap=False)
