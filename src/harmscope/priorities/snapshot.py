"""What moved on the board since a saved one: rank change, new rows, dropped rows.

The board is saved with ``--save-snapshot NAME`` (:mod:`harmscope.warehouse.snapshots`);
``--compare-with NAME|last`` joins the board to it on ``(lens, unit_id)`` and adds

- ``previous_rank`` (rank on the saved board; empty for a new row);
- ``rank_change`` = previous_rank − rank (+3 = three places higher now);
- ``movement``: ``new``, ``up``, ``down`` or ``same``;
- ``moved``: the same in words with the harm change, e.g.
  ``'up 3 since 2019-06 (was 7): harm +12 %, score 1.21 -> 1.48'``.

Rows on the saved board but not on this one are **dropped**: listed in
``attrs["dropped_since"]`` (lens, unit_id, previous rank), not as rows, so ranks stay 1..n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compare"]


def compare(board: pd.DataFrame, previous: pd.DataFrame, name: str) -> pd.DataFrame:
    """The board with what moved since the saved board *previous* (named *name*).

    Parameters
    ----------
    board : pandas.DataFrame
        Rows with ``lens, unit_id, rank, score`` and ``harm``.
    previous : pandas.DataFrame
        :func:`harmscope.warehouse.snapshots.read_snapshot` rows.
    name : str
        The saved board's name, for the words.

    Returns
    -------
    pandas.DataFrame
        *board* with ``previous_rank`` (Int64), ``rank_change`` (Int64), ``movement`` and
        ``moved``; ``attrs["compared_with"]`` names the snapshot and ``attrs["dropped_since"]``
        lists the saved rows no longer on the board.

    Examples
    --------
    >>> now = pd.DataFrame({"lens": ["places"] * 2, "unit_id": ["a", "c"], "rank": [1, 2],
    ...                     "score": [2.0, 1.0], "harm": [20.0, 5.0]})
    >>> then = pd.DataFrame({"lens": ["places"] * 2, "unit_id": ["b", "a"], "rank": [1, 2],
    ...                      "score": [3.0, 1.5], "harm": [30.0, 16.0]})
    >>> out = compare(now, then, "june")
    >>> out["moved"].tolist()
    ['up 1 since june (was 2): harm +25 %, score 1.5 -> 2', 'new since june']
    >>> out.attrs["dropped_since"]
    [{'lens': 'places', 'unit_id': 'b', 'previous_rank': 1}]
    """
    prev = previous[["lens", "unit_id", "rank", "score", "harm"]].rename(
        columns={"rank": "previous_rank", "score": "_prev_score", "harm": "_prev_harm"}
    )
    out = board.merge(prev, on=["lens", "unit_id"], how="left", sort=False)
    out.index = board.index
    was = pd.to_numeric(out["previous_rank"], errors="coerce")
    out["previous_rank"] = was.astype("Int64")
    change = (was - out["rank"]).astype("Int64")
    out["rank_change"] = change
    out["movement"] = np.select(
        [
            was.isna().to_numpy(),
            (change > 0).fillna(False).to_numpy(),
            (change < 0).fillna(False).to_numpy(),
        ],
        ["new", "up", "down"],
        "same",
    )
    harm_now = pd.to_numeric(out.get("harm"), errors="coerce")
    harm_then = pd.to_numeric(out["_prev_harm"], errors="coerce")
    words = []
    for move, c, w, h1, h0, s1, s0 in zip(
        out["movement"],
        change,
        was,
        harm_now,
        harm_then,
        out["score"],
        out["_prev_score"],
        strict=True,
    ):
        if move == "new":
            words.append(f"new since {name}")
            continue
        head = f"same rank as {name}" if move == "same" else f"{move} {abs(int(c))} since {name}"
        parts = []
        if pd.notna(h1) and pd.notna(h0) and h0 > 0:
            parts.append(f"harm {(h1 / h0 - 1) * 100:+.0f} %")
        parts.append(f"score {float(s0):.3g} -> {float(s1):.3g}")
        words.append(f"{head} (was {int(w)}): {', '.join(parts)}")
    out["moved"] = words
    out = out.drop(columns=["_prev_score", "_prev_harm"])
    kept = set(zip(board["lens"], board["unit_id"], strict=True))
    gone = previous[
        [
            (lens, u) not in kept
            for lens, u in zip(previous["lens"], previous["unit_id"], strict=True)
        ]
    ]
    out.attrs.update(board.attrs)
    out.attrs["compared_with"] = name
    out.attrs["dropped_since"] = [
        {"lens": str(r.lens), "unit_id": str(r.unit_id), "previous_rank": int(r.rank)}
        for r in gone.itertuples(index=False)
    ]
    return out
