"""Charts as inline SVG (matplotlib, Agg): reports work offline, with no CDN or JavaScript."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def svg(fig: Figure) -> str:
    """Render and close a figure; return the ``<svg>`` element (XML prolog dropped)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


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
) -> str:
    """Harm per grid cell (British National Grid metres), hot spots outlined.

    ``cells`` has ``cell_x, cell_y, harm`` and optionally ``category``; cells named
    ``hot_*`` are outlined in black. ``outlines`` are boundary rings (n x 2 arrays of BNG
    metres, e.g. LSOAs) drawn as thin grey lines for orientation.
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
    ax.set_title(title)
    ax.set_xlabel("easting (m, EPSG:27700)")
    ax.set_ylabel("northing (m)")
    ax.ticklabel_format(style="plain")
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))
    ax.yaxis.set_major_locator(plt.MaxNLocator(5))
    return svg(fig)
