"""Writing a simulation's tables to files: the one place the simulator touches the disk.

Every file is UTF-8 without BOM with LF line ends, so the same tables give the same bytes
on every platform (the simulator's determinism promise). :class:`~.result.SimResult` calls
these; nothing here knows what a simulation is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from harmscope.simulate import vocab

POLICEUK_FILES = (
    ("street", vocab.STREET_HEADER.split(",")),
    ("outcomes", vocab.OUTCOMES_HEADER.split(",")),
    ("stop-and-search", vocab.STOP_SEARCH_HEADER.split(",")),
)
"""police.uk file families and their exact published columns."""


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (no index, LF line ends), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def write_json(obj: object, path: Path, *, indent: int | None = None) -> None:
    """``obj`` as JSON: compact by default, else indented with a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if indent is None:
        path.write_text(json.dumps(obj, separators=(",", ":")))
    else:
        path.write_text(json.dumps(obj, indent=indent) + "\n")


def write_text(path: Path, text: str) -> None:
    """``text`` as a UTF-8 file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def write_policeuk(
    out: Path,
    month_labels: Sequence[str],
    slug: str,
    street: pd.DataFrame,
    outcomes: pd.DataFrame,
    stop_search: pd.DataFrame,
) -> None:
    """police.uk month folders: ``out/YYYY-MM/YYYY-MM-<slug>-<family>.csv``.

    Each table carries its month index in a helper column ``_m``; every month gets all three
    files, with the header only when it has no rows (as police.uk publishes them).
    """
    for (fam, cols), frame in zip(POLICEUK_FILES, (street, outcomes, stop_search), strict=True):
        groups = dict(tuple(frame.groupby("_m", sort=True)))
        for m, lab in enumerate(month_labels):
            d = out / lab
            d.mkdir(exist_ok=True)
            part = groups.get(m, frame.iloc[0:0])
            part[cols].to_csv(d / f"{lab}-{slug}-{fam}.csv", index=False, lineterminator="\n")
