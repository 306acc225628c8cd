"""Which grid cells an output lists: the cells with events, or with ``--all-cells`` all of them.

Gi* (and the emerging hot spot trend) is always computed on the full study-area lattice, empty
cells included as explicit zeros, because an empty cell is information: it lowers the local
mean around it. Listing those empty cells is another matter: in Lincolnshire 92 % of the
73,204 cells of 250 m hold no event, and a layer of them is mostly noise to read and slow to
draw. Outputs therefore list only the cells where at least one located event (harm or
activity) fell, unless the analyst asks for every cell.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["EVENT_COLUMNS", "cells_with_events"]

#: Columns counting a cell's events, in the order they are looked for.
EVENT_COLUMNS: tuple[tuple[str, ...], ...] = (("harm_events", "activity_events"), ("events",))


def cells_with_events(frame: pd.DataFrame, *, all_cells: bool = False) -> pd.DataFrame:
    """The rows of cells holding at least one event; every row when ``all_cells``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per study-area cell, with ``harm_events`` and ``activity_events`` (hot spots)
        or ``events`` (emerging hot spots).
    all_cells : bool, default False
        Keep the empty cells too (the full lattice Gi* ran on).

    Returns
    -------
    pandas.DataFrame
        The kept rows in their order, index renumbered; ``attrs`` kept, with ``listed``
        (``'cells with events'`` or ``'all cells'``).

    Raises
    ------
    ValueError
        ``frame`` has none of the event-count columns.

    Examples
    --------
    >>> frame = pd.DataFrame({"cell_x": [0, 250, 500], "cell_y": [0, 0, 0],
    ...                       "harm_events": [3, 0, 0], "activity_events": [0, 0, 1]})
    >>> cells_with_events(frame)["cell_x"].tolist()
    [0, 500]
    >>> len(cells_with_events(frame, all_cells=True))
    3
    """
    attrs = dict(frame.attrs)
    if all_cells:
        out = frame.reset_index(drop=True)
    else:
        for columns in EVENT_COLUMNS:
            if set(columns) <= set(frame.columns):
                counted = frame[list(columns)].sum(axis=1)
                break
        else:
            raise ValueError("no event counts to tell empty cells (harm_events or events)")
        out = frame[counted.to_numpy() > 0].reset_index(drop=True)
    out.attrs.update(attrs)
    out.attrs["listed"] = "all cells" if all_cells else "cells with events"
    return out
