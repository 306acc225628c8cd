"""Set-based reasons (frame_reasons) say exactly what the unit-by-unit word_reasons says."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.harm.taxonomy import default_taxonomy
from harmscope.priorities.reasons import frame_reasons, word_reasons


def test_frame_reasons_equal_word_reasons_unit_by_unit() -> None:
    rng = np.random.default_rng(7)
    tax = default_taxonomy()
    cells = [
        (t, b, s)
        for t in tax.harm_types.ids[:3]
        for b in tax.bearers.ids[:2]
        for s in tax.sources.ids[:2]
    ]
    types = ["Burglary", "Robbery", "Vehicle crime", "Shoplifting"]
    matrix, kinds = [], []
    for unit in range(40):
        # integer values make ties (broken by key, as word_reasons does) and zeros common
        for t, b, s in cells:
            matrix.append((unit, 0, t, b, s, float(rng.integers(0, 4))))
        for name in types:
            kinds.append((unit, 0, name, float(rng.integers(0, 3))))
    m = pd.DataFrame(matrix, columns=["ux", "uy", "harm_type", "bearer", "source", "value"])
    k = pd.DataFrame(kinds, columns=["ux", "uy", "event_key", "value"])
    got = frame_reasons(m, k, ["ux", "uy"], "days of imprisonment", tax, k=3).set_index("ux")
    for unit in range(40):
        mine = m[m["ux"] == unit]
        words, keys = word_reasons(
            mine.to_dict("records"),
            dict(zip(k[k["ux"] == unit]["event_key"], k[k["ux"] == unit]["value"], strict=True)),
            "days of imprisonment",
            tax,
            k=3,
        )
        assert got.loc[unit, "reasons"] == words
        assert got.loc[unit, "reason_cells"] == keys


def test_per_distinct_and_formatted_are_the_row_by_row_texts() -> None:
    """Texts made once per distinct value are those made row by row (signed zero, NaN, None)."""
    from harmscope.priorities.reasons import _per_distinct, formatted

    floats = np.array([0.5, -0.0, 0.0, np.nan, 0.5, 1234.5678, np.nan, -0.0])
    names = np.array(["a", None, "b", "a", "a", None, "b", "a"], dtype=object)
    made = _per_distinct(lambda s, v: f"{s}|{v:.3g}", names, floats)
    assert made.tolist() == [f"{s}|{v:.3g}" for s, v in zip(names, floats, strict=True)]
    assert formatted(floats, "g").tolist() == [format(v, "g") for v in floats.tolist()]
    assert _per_distinct(str, np.array([], dtype=float)).tolist() == []
