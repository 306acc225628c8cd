"""keep_values: the same rows whether the values are written into the query or joined."""

from __future__ import annotations

import importlib

import ibis
import pytest

from harmscope.harm.weigh import keep_values


@pytest.mark.parametrize("inline", [1, 10_000])
@pytest.mark.parametrize("keep", [True, False])
def test_keep_values_inline_and_joined_agree(
    monkeypatch: pytest.MonkeyPatch, inline: int, keep: bool
) -> None:
    module = importlib.import_module("harmscope.harm.weigh")  # harm.weigh is also a function
    monkeypatch.setattr(module, "INLINE_VALUES", inline)  # 1: always the join
    codes = [f"E{i:08d}" for i in range(40)] + [None]
    t = ibis.memtable({"lsoa_code": codes, "n": list(range(len(codes)))})
    wanted = {f"E{i:08d}" for i in range(0, 40, 3)} | {"W99999999"}  # one not in the table
    got = sorted(keep_values(t, "lsoa_code", wanted, keep=keep).execute()["n"])
    expected = [
        i
        for i, c in enumerate(codes)
        if (c in wanted if keep else c not in wanted)  # None: not in, so kept by keep=False
    ]
    assert got == expected


def test_keep_values_empty() -> None:
    t = ibis.memtable({"lsoa_code": ["a", "b"]})
    assert keep_values(t, "lsoa_code", []).count().execute() == 0
    assert keep_values(t, "lsoa_code", [], keep=False).count().execute() == 2
