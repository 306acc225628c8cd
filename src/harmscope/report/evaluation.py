"""The evaluation report: HTML (Jinja2, inline SVG charts) and PDF (matplotlib PdfPages).

Both work offline and need no system libraries: charts are drawn by matplotlib (Agg) and
embedded as SVG in the HTML; the PDF is built page by page with ``PdfPages``. The verdict
sentence comes from :func:`harmscope.evaluate.intervention.verdict_lines`, so the report and
the command line say the same thing.
"""

from __future__ import annotations

import io
import math
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from harmscope.app.serialise import write_json
from harmscope.evaluate.intervention import Evaluation
from harmscope.evaluate.verdict import verdict_lines, wdq_reading
from harmscope.harm.selection import harm_label
from harmscope.report.area_map import area_map, area_shapes

__all__ = ["estimate_rows", "render_html", "render_pdf", "write_report"]

_COLOURS = {"target": "#b2182b", "buffer": "#ef8a62", "control": "#2166ac"}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{digits}f}".replace("-", "−")


def _count(x: float, digits: int = 0) -> str:
    """A total for the areas table: ``no data`` (never 0) where the data cannot give it."""
    return "no data" if not math.isfinite(x) else _fmt(x, digits)


# ---------------------------------------------------------------------- charts ------------
def _series_figure(ev: Evaluation, column: str, title: str, ylabel: str) -> Figure:
    """Monthly series per role, pre and post periods shaded, ITS forecast band if any."""
    iv = ev.intervention
    fig, ax = plt.subplots(figsize=(8, 3.4))
    mon = ev.monthly
    for role in iv.areas:
        s = mon[mon["role"] == role]
        x = pd.PeriodIndex(s["month"], freq="M").to_timestamp()
        values = s[column].to_numpy(dtype=float)
        scale = ""
        if role == "control" and iv.control_scaling == "pre" and ev.area_weights[0] != 1.0:
            values = values / ev.area_weights[0]
            scale = " (scaled to the target's pre level)"
        ax.plot(
            x,
            values,
            color=_COLOURS[role],
            lw=2 if role == "target" else 1.4,
            label=f"{role}{scale}",
            marker="o",
            ms=3,
        )
    its = ev.its if column == "events" else ev.its_harm if column == "harm" else None
    if its is not None:
        t = pd.PeriodIndex(its.table["period"], freq="M").to_timestamp()
        ax.fill_between(
            t,
            its.table["pi_low"],
            its.table["pi_high"],
            color="grey",
            alpha=0.25,
            label=f"expected without the change ({100 * (1 - iv.alpha):g}% PI)",
        )
        ax.plot(t, its.table["expected"], color="grey", ls="--", lw=1.2)
    for period, shade in ((iv.pre, "#dddddd"), (iv.post, "#fddbc7")):
        lo = pd.Period(period.start, freq="M").to_timestamp()
        hi = (pd.Period(period.end, freq="M") + 1).to_timestamp()
        ax.axvspan(lo, hi, color=shade, alpha=0.5, lw=0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.autofmt_xdate()
    return fig


def _effects_figure(ev: Evaluation) -> Figure:
    """Forest plot: every effect with its interval, on a percentage scale where possible."""
    rows = [r for r in estimate_rows(ev) if r["ratio"] is not None]
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.45 * max(len(rows), 1)))
    if not rows:
        ax.text(0.5, 0.5, "no ratio estimates", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for i, r in enumerate(rows):
        y = len(rows) - i
        ax.plot(
            [100 * (r["ratio_low"] - 1), 100 * (r["ratio_high"] - 1)], [y, y], color="#444444", lw=2
        )
        ax.plot(100 * (r["ratio"] - 1), y, "o", color="#b2182b")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows), 0, -1), [r["name"] for r in rows], fontsize=8)
    ax.set_xlabel(
        f"change against the counterfactual, % ({100 * (1 - ev.intervention.alpha):g}% interval)"
    )
    ax.set_title("Estimated effects")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _area_figure(ev: Evaluation, db: str | Path | None) -> Figure | None:
    """The map of the target, buffer and control areas (None when none can be drawn)."""
    iv = ev.intervention
    labels: dict[str, str] = {str(role): spec.describe() for role, spec in iv.areas.items()}
    return area_map(area_shapes(iv, db), labels)


def _text_svg(fig: Figure) -> str:
    """An SVG whose text stays text (legend labels readable and searchable in the page)."""
    with plt.rc_context({"svg.fonttype": "none"}):
        return _svg(fig)


def _charts(ev: Evaluation) -> list[tuple[str, Figure]]:
    unit = ev.unit
    return [
        (
            "Recorded crime (harm types) by month",
            _series_figure(ev, "events", "Recorded crime by month (harm types)", "crimes"),
        ),
        (
            f"Harm by month ({unit})",
            _series_figure(ev, "harm", f"Harm by month ({ev.scheme.name})", unit),
        ),
        (
            "Police activity by month",
            _series_figure(
                ev,
                "activity",
                "Police-found offences by month (activity)",
                "drug and weapon offences",
            ),
        ),
        ("Estimated effects", _effects_figure(ev)),
    ]


# ---------------------------------------------------------------------- tables ------------
def estimate_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """One row per estimate (:attr:`Evaluation.estimates`, in report order): ``name, method,
    estimate, low, high, p, ratio, ratio_low, ratio_high, unit, reading``; the reading is
    :func:`~harmscope.evaluate.estimate.interval_reading`, the same words as the verdict."""
    return [
        {
            "key": key,
            "name": e.label,
            "method": e.method,
            "estimate": e.estimate,
            "low": e.ci_low,
            "high": e.ci_high,
            "p": e.p,
            "unit": e.unit,
            "ratio": e.ratio,
            "ratio_low": e.ratio_low,
            "ratio_high": e.ratio_high,
            "reading": e.reading,
        }
        for key, e in ev.estimates.items()
    ]


def _context(ev: Evaluation) -> dict[str, Any]:
    iv = ev.intervention
    tot = ev.totals.copy()
    table = []
    for role in iv.areas:
        row: dict[str, Any] = {"role": role, "area": iv.areas[role].describe()}
        for period in ("pre", "post"):
            for col in ("events", "harm", "activity", "searches"):
                row[f"{period}_{col}"] = ev.total(role, period, col)
        table.append(row)
    q = ev.wdq
    return {
        "iv": iv,
        "ev": ev,
        "unit": ev.unit,
        # which harm the harm figures hold, and the crime types counted (issue 11 item 5)
        "harm_label": harm_label(iv.harm)
        + ("" if iv.types is None else f", {', '.join(iv.types)} only"),
        "verdict": verdict_lines(ev),
        "areas": table,
        "estimates": estimate_rows(ev),
        "etest_p": ev.etest_p,
        "etest_buffer_p": ev.etest_buffer_p,
        "wdq": q,
        "wdq_reading": wdq_reading(ev),
        "no_data": ev.no_data,
        "notes": [*ev.notes, *ev.dropped.notes()],
        "fmt": _fmt,
        "count": _count,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "totals": tot,
    }


_ENV = Environment(
    loader=PackageLoader("harmscope.report", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(ev: Evaluation, *, db: str | Path | None = None) -> str:
    """The report as one self-contained HTML page (charts inline, no scripts, no CDN).

    Parameters
    ----------
    ev : Evaluation
    db : str or Path, optional
        Warehouse with the LSOA boundaries, to map LSOA and district areas
        (:func:`~harmscope.report.area_map.area_shapes`); cells and polygons are mapped
        without it.

    Returns
    -------
    str
    """
    ctx = _context(ev)
    ctx["charts"] = [(title, _svg(fig)) for title, fig in _charts(ev)]
    where = _area_figure(ev, db)
    ctx["area_map"] = _text_svg(where) if where is not None else None
    return _ENV.get_template("evaluation.html").render(**ctx)


def _text_page(pdf: PdfPages, title: str, paragraphs: list[str]) -> None:
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.08, 0.95, title, fontsize=15, weight="bold", va="top")
    y = 0.91
    for para in paragraphs:
        for line in textwrap.wrap(para, 95) or [""]:
            fig.text(0.08, y, line, fontsize=9, va="top", family="DejaVu Sans")
            y -= 0.018
            if y < 0.05:
                pdf.savefig(fig)
                plt.close(fig)
                fig = plt.figure(figsize=(8.27, 11.69))
                y = 0.95
        y -= 0.01
    pdf.savefig(fig)
    plt.close(fig)


def render_pdf(ev: Evaluation, path: str | Path, *, db: str | Path | None = None) -> Path:
    """The report as a PDF (A4 pages: verdict and tables, the area map, one chart per page).

    Parameters
    ----------
    ev : Evaluation
    path : str or Path
        Output file.
    db : str or Path, optional
        As :func:`render_html`.

    Returns
    -------
    Path
    """
    iv = ev.intervention
    out = Path(path)
    paras = [
        f"Target: {iv.target.describe()}.",
        f"Buffer: {iv.buffer.describe() if iv.buffer else 'none'}.",
        f"Control: {iv.control.describe() if iv.control else 'none'}.",
        f"Pre period: {iv.pre} ({iv.pre.n_months} months); post period: {iv.post} "
        f"({iv.post.n_months} months). Harm scheme: {ev.scheme.name} ({ev.unit}).",
        "",
        "VERDICT",
        *verdict_lines(ev),
        "",
        "AREAS (pre → post)",
    ]
    for role in iv.areas:
        paras.append(
            f"{role}: crimes {_count(ev.total(role, 'pre'))} → {_count(ev.total(role, 'post'))};"
            f" harm {_count(ev.total(role, 'pre', 'harm'))} → "
            f"{_count(ev.total(role, 'post', 'harm'))} {ev.unit}; police-found offences "
            f"{_count(ev.total(role, 'pre', 'activity'))} → "
            f"{_count(ev.total(role, 'post', 'activity'))}; stop-and-searches "
            f"{_count(ev.total(role, 'pre', 'searches'))} → "
            f"{_count(ev.total(role, 'post', 'searches'))}"
        )
    for key, why in ev.no_data.items():
        paras.append(f"No data for {key.replace('.', ' ')}: {why}.")
    paras += ["", "ESTIMATES"]
    for r in estimate_rows(ev):
        conf = f"{100 * (1 - iv.alpha):g}%"
        ci = "" if r["low"] is None else f" ({conf} interval {_fmt(r['low'])} to {_fmt(r['high'])})"
        paras.append(
            f"{r['name']} — {r['method']}: {_fmt(r['estimate'])} {r['unit']}{ci}; {r['reading']}."
        )
    if ev.etest_p is not None:
        paras.append(f"E-test, target monthly rate post vs pre: p = {ev.etest_p:.4f}.")
    if ev.wdq is not None:
        paras.append(str(wdq_reading(ev)))
    if ev.notes or ev.dropped:
        paras += ["", "NOTES", *ev.notes, *ev.dropped.notes()]
    with PdfPages(out) as pdf:
        _text_page(pdf, f"Evaluation: {iv.name}", paras)
        where = _area_figure(ev, db)
        if where is not None:
            pdf.savefig(where, bbox_inches="tight")
            plt.close(where)
        for _, fig in _charts(ev):
            pdf.savefig(fig, bbox_inches="tight")
            plt.close(fig)
        info = pdf.infodict()
        info["Title"] = f"Evaluation: {iv.name}"
        info["Creator"] = "HarmScope"
    return out


def write_report(
    ev: Evaluation, out_dir: str | Path, *, stem: str | None = None, db: str | Path | None = None
) -> dict[str, Path]:
    """Write ``STEM.html``, ``STEM.pdf`` and ``STEM.json`` into ``out_dir``.

    Parameters
    ----------
    ev : Evaluation
    out_dir : str or Path
        Folder (created if missing).
    stem : str, optional
        File name stem (default: from the intervention name).
    db : str or Path, optional
        Warehouse with the LSOA boundaries for the area map (:func:`render_html`).

    Returns
    -------
    dict
        ``{"html": path, "pdf": path, "json": path}``.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = stem or "".join(c if c.isalnum() or c in "-_" else "-" for c in ev.intervention.name)
    name = name.strip("-").lower() or "evaluation"
    html = folder / f"{name}.html"
    html.write_text(render_html(ev, db=db), encoding="utf-8")
    pdf = render_pdf(ev, folder / f"{name}.pdf", db=db)
    js = folder / f"{name}.json"
    write_json(ev.to_dict(), js)
    return {"html": html, "pdf": pdf, "json": js}
