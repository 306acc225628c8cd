"""Charts as inline SVG (matplotlib, Agg): reports work offline, with no CDN or JavaScript."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


@dataclass(frozen=True)
class MapLabel:
    """A place named on a map: a tag drawn at ``(x, y)`` and its name in the legend.

    Attributes
    ----------
    tag : str
        Short mark drawn on the map (``"H1"`` for the first hot spot, ``"M1"`` for a market).
    name : str
        Readable place name shown beside the tag in the legend.
    x, y : float
        Where the tag goes, BNG metres.
    cells : tuple of (float, float)
        Cells outlined for it (a market's footprint), lower-left corners; may be empty.
    """

    tag: str
    name: str
    x: float
    y: float
    cells: tuple[tuple[float, float], ...] = ()


def svg(fig: Figure, *, text: bool = False) -> str:
    """Render and close a figure; return the ``<svg>`` element (XML prolog dropped).

    With ``text=True`` the figure's text stays ``<text>`` (not glyph outlines), so labels can
    be read, searched and tested in the page.
    """
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none" if text else "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    out = buf.getvalue()
    return out[out.index("<svg") :]


def harm_vs_activity(monthly: pd.DataFrame, *, unit: str) -> str:
    """Monthly harm (left axis) beside police activity (right axis): harm, not busyness."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    months = pd.to_datetime(monthly["month"])
    ax.plot(months, monthly["harm"], color="#b2182b", lw=2, label=f"harm ({unit})")
    ax.set_ylabel(f"harm ({unit})", color="#b2182b")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(
        months,
        monthly["activity"],
        color="#2166ac",
        lw=1.5,
        ls="--",
        label="police activity (events)",
    )
    ax2.set_ylabel("police activity (events)", color="#2166ac")
    ax2.set_ylim(bottom=0)
    ax.set_title("Harm and police activity by month")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return svg(fig)


def harm_map(
    cells: pd.DataFrame,
    *,
    cell_size: float,
    title: str,
    outlines: list[np.ndarray] | None = None,
    labels: Sequence[MapLabel] = (),
) -> str:
    """Harm per grid cell (British National Grid metres), hot spots outlined, places named.

    ``cells`` has ``cell_x, cell_y, harm`` and optionally ``category``; cells named
    ``hot_*`` are outlined in black. ``outlines`` are boundary rings (n x 2 arrays of BNG
    metres, e.g. LSOAs) drawn as thin grey lines for orientation. Each of ``labels`` puts
    its tag on the map (and outlines its cells in blue, for a market) and its name in a
    legend under the map; the SVG keeps that text as text.
    """
    fig, ax = plt.subplots(figsize=(6.5, 6.5))
    if cells.empty:
        ax.text(0.5, 0.5, "no located events", ha="center", va="center")
        ax.set_axis_off()
        return svg(fig)
    # Frame the map on where harm is: police.uk has stray points far from the force area.
    harmed = cells[cells["harm"] > 0]
    if len(harmed) >= 20:
        lo_x, hi_x = harmed["cell_x"].quantile([0.01, 0.99])
        lo_y, hi_y = harmed["cell_y"].quantile([0.01, 0.99])
        pad = 4 * cell_size
        cells = cells[
            cells["cell_x"].between(lo_x - pad, hi_x + pad)
            & cells["cell_y"].between(lo_y - pad, hi_y + pad)
        ]
    x0, y0 = cells["cell_x"].min(), cells["cell_y"].min()
    nx = int((cells["cell_x"].max() - x0) // cell_size) + 1
    ny = int((cells["cell_y"].max() - y0) // cell_size) + 1
    grid = np.full((ny, nx), np.nan)
    ix = ((cells["cell_x"] - x0) // cell_size).astype(int).to_numpy()
    iy = ((cells["cell_y"] - y0) // cell_size).astype(int).to_numpy()
    grid[iy, ix] = cells["harm"].to_numpy()
    shown = np.where(grid > 0, grid, np.nan)
    extent = (x0, x0 + nx * cell_size, y0, y0 + ny * cell_size)
    im = ax.imshow(np.log10(shown), origin="lower", extent=extent, cmap="YlOrRd")
    cb = fig.colorbar(im, ax=ax, shrink=0.7)
    cb.set_label("harm per cell (log10)")
    if "category" in cells:
        hot = cells[cells["category"].astype(str).str.startswith("hot")]
        for cx, cy in zip(hot["cell_x"], hot["cell_y"], strict=True):
            ax.add_patch(
                plt.Rectangle((cx, cy), cell_size, cell_size, fill=False, lw=0.8, ec="black")
            )
    if outlines:
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(outlines, colors="#555555", linewidths=0.4, alpha=0.7))
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
    _label(ax, labels, cell_size)
    ax.set_title(title)
    ax.set_xlabel("easting (m, EPSG:27700)")
    ax.set_ylabel("northing (m)")
    ax.ticklabel_format(style="plain")
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    ax.yaxis.set_major_locator(plt.MaxNLocator(5))
    return svg(fig, text=bool(labels))


def _label(ax: plt.Axes, labels: Sequence[MapLabel], cell_size: float) -> None:
    """Tags on the map, market footprints outlined, and the legend of names under it."""
    if not labels:
        return
    from matplotlib.lines import Line2D

    handles = []
    for lab in labels:
        for cx, cy in lab.cells:
            ax.add_patch(
                plt.Rectangle((cx, cy), cell_size, cell_size, fill=False, lw=1.4, ec="#2166ac")
            )
        market = bool(lab.cells)
        ax.annotate(
            lab.tag,
            (lab.x, lab.y),
            ha="center",
            va="center",
            fontsize=7,
            weight="bold",
            color="white",
            bbox={"boxstyle": "round,pad=0.2", "fc": "#2166ac" if market else "black", "lw": 0},
        )
        handles.append(Line2D([], [], ls="none", label=f"{lab.tag}  {lab.name}"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.16),
        fontsize=7,
        frameon=False,
        handlelength=0,
        handletextpad=0,
        title="H: hot spots by Gi* z; M: candidate drug markets (blue outline)",
        title_fontsize=7,
        alignment="left",
    )
