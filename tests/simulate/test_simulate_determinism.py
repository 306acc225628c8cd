"""Same seed, same bytes; another seed, other data; running in parts changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from harmscope.errors import SimulationError
from harmscope.simulate import Operation, Simulation, simulate


def _hashes(d: Path) -> dict[str, str]:
    return {
        f.relative_to(d).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in sorted(d.rglob("*"))
        if f.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    ops = [Operation("crackdown", ("M001",), start=2, duration=2)]
    a = _hashes(simulate(seed=11, months=6, size="small", operations=ops).write(tmp_path / "a"))
    b = _hashes(simulate(seed=11, months=6, size="small", operations=ops).write(tmp_path / "b"))
    assert len(a) > 30
    assert a == b


def test_different_seeds_differ(tmp_path: Path) -> None:
    a = _hashes(simulate(seed=11, months=3, size="small").write(tmp_path / "a"))
    b = _hashes(simulate(seed=12, months=3, size="small").write(tmp_path / "b"))
    assert a.keys() == b.keys()
    differ = [k for k in a if a[k] != b[k]]
    assert all(k in differ for k in a if k.endswith("-street.csv"))
    assert "truth/places.csv" in differ and "areas.csv" in differ


def test_running_in_parts_and_scheduling_midway_equal_one_run() -> None:
    whole = Simulation(seed=5, months=10, size="small")
    whole.schedule(Operation("crackdown", ("M001",), start=6, duration=2))
    r1 = whole.run()
    parts = Simulation(seed=5, months=10, size="small")
    parts.run(until=4)
    parts.schedule(Operation("crackdown", ("M001",), start=6, duration=2))
    parts.run(until="2021-08")
    r2 = parts.run()
    pd.testing.assert_frame_equal(r1.street, r2.street)
    pd.testing.assert_frame_equal(r1.truth["operation_effects"], r2.truth["operation_effects"])
    with pytest.raises(SimulationError, match="already run"):
        parts.schedule(Operation("crackdown", ("M001",), start=3))


def test_an_operation_only_changes_its_own_stream() -> None:
    base = simulate(seed=8, months=8, size="small")
    with_op = simulate(
        seed=8,
        months=8,
        size="small",
        operations=[Operation("crackdown", ("M001",), start=5, duration=2)],
    )
    # Months before the operation are identical.
    before = base.street[base.street["_m"] < 5]
    pd.testing.assert_frame_equal(
        before, with_op.street[with_op.street["_m"] < 5].loc[before.index]
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": 0}, "months must be at least 1"),
        ({"size": "megacity"}, "unknown size"),
        ({"start": "2021-13"}, "not a month"),
        ({"start": "2090-01"}, "in the future"),
        ({"operations": [Operation("crackdown", ("M999",))]}, "unknown target id 'M999'"),
        ({"operations": [Operation("raid", ("M001",))]}, "unknown tactic"),  # type: ignore[arg-type]
        ({"operations": [Operation("dmi", ())]}, "needs market, group or person targets"),
        (
            {"operations": [Operation("crackdown", ("M001",), start=40)]},
            "outside the 3 simulated months",
        ),
        ({"operations": [Operation("crackdown", ("M001",), duration=0)]}, "duration"),
    ],
)
def test_impossible_requests_raise(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"seed": 1, "months": 3, "size": "small", **kwargs}
    with pytest.raises(SimulationError, match=message):
        simulate(**args)  # type: ignore[arg-type]
