"""``repeatable_sum``: harm sums with the same bits whatever order the engine adds rows in.

A float sum's last bits follow the order of addition; DuckDB's threads change that order from
run to run, and on the 1x national extract the places board swapped tied ranks between two
runs on the same warehouse (session 7). The fixed-point sum must give the same bits for any
order of the same values and stay within half a quantum per value of the exact sum.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from harmscope.harm import repeatable_sum
from harmscope.harm.weigh import SUM_SCALE


def _sums(values: np.ndarray, groups: np.ndarray) -> tuple[pd.Series, pd.Series]:
    t = ibis.memtable(pd.DataFrame({"g": groups, "v": values}))
    out = (
        t.group_by("g")
        .aggregate(fixed=repeatable_sum(t.v), plain=t.v.sum())
        .to_pandas()
        .set_index("g")
        .sort_index()
    )
    return out["fixed"], out["plain"]


def test_the_same_bits_in_any_order() -> None:
    rng = np.random.default_rng(7)
    # harm weights in days: many small values and a few large ones, as crimes are
    values = np.round(rng.lognormal(1.0, 2.0, 20_000), 3) * rng.choice([1.0, 0.31, 0.05], 20_000)
    groups = rng.integers(0, 5, 20_000)
    fixed, plain = _sums(values, groups)
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(len(values))
        assert (
            _sums(values[order], groups[order])[0].to_numpy().tobytes()
            == fixed.to_numpy().tobytes()
        )
    # the hazard itself: the same values added in another order give other float bits
    assert sum(values.tolist()) != sum(values[::-1].tolist())
    assert plain.sum() == pytest.approx(fixed.sum(), rel=1e-9)
    # within half a quantum per value of the exact sum, and a multiple of the quantum
    for g in range(5):
        exact = math.fsum(values[groups == g])
        n = int((groups == g).sum())
        assert abs(fixed[g] - exact) <= n * 0.5 / SUM_SCALE
        assert float(fixed[g] * SUM_SCALE).is_integer()


def test_where_and_missing_values() -> None:
    t = ibis.memtable(
        pd.DataFrame({"g": ["a", "a", "b", "c"], "v": [1.25, None, 2.5, None], "k": [1, 1, 0, 1]})
    )
    out = (
        t.group_by("g")
        .aggregate(s=repeatable_sum(t.v), w=repeatable_sum(t.v, where=t.k == 1))
        .to_pandas()
        .set_index("g")
    )
    assert out.loc["a", "s"] == 1.25 and out.loc["a", "w"] == 1.25
    assert out.loc["b", "s"] == 2.5 and pd.isna(out.loc["b", "w"])
    # no value: NULL, as a plain sum gives, so callers' coalesce(0.0) keeps its meaning
    assert pd.isna(out.loc["c", "s"])
