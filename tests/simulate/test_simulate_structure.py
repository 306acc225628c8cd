"""The simulator's parts agree with each other: multipliers, months, derived tables."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmscope.errors import SimulationError
from harmscope.simulate import Simulation
from harmscope.simulate.months import month_index, month_label
from harmscope.simulate.operations import effect_totals

from .conftest import SEED, small_operations


@pytest.fixture(scope="module")
def ran() -> Simulation:
    """A small city run for 18 months with one operation of each tactic."""
    sim = Simulation(seed=SEED, months=18, size="small")
    for op in small_operations(sim):
        sim.schedule(op)
    sim.run()
    return sim


def test_taking_an_operation_out_equals_never_putting_it_in(ran: Simulation) -> None:
    """``Model.without`` (dividing one operation's factors out, used for the true effects)
    gives the multipliers built without that operation, for every operation and month."""
    md, checked = ran.model, 0
    for q in ran.plans:
        for m in sorted(q.months_on):
            turf = ran.sellers.turf[m]
            divided = md.without(md.multipliers(ran.plans, m, turf), q, m)
            rebuilt = md.multipliers(ran.plans, m, turf, exclude=q)
            for name in ("bg", "mk", "dep", "a", "a_op", "v", "u"):
                np.testing.assert_allclose(
                    getattr(divided, name), getattr(rebuilt, name), rtol=1e-12, err_msg=name
                )
            checked += 1
    assert checked >= 4 * 3  # every tactic, each active for several months


def test_effect_rows_cover_the_active_months_and_sum_to_effect_totals(ran: Simulation) -> None:
    """Each operation has true-effect rows in exactly the months it acts (residual
    deterrence included), and ``effect_totals`` sums exactly those rows."""
    res = ran.run()
    eff = pd.DataFrame(res.effects)
    for q in ran.plans:
        months = set(eff.loc[eff["operation_id"] == q.operation_id, "month"])
        assert months == set(q.months_on) & set(range(res.months))
    # effect_totals sums exactly these rows (recomputed here with pandas).
    q = ran.plans[0]
    rows = eff[eff["operation_id"] == q.operation_id]
    want = {
        f"{z}_{k}": float((g[f"{k}_with"] - g[f"{k}_without"]).sum())
        for z, g in rows.groupby("zone")
        for k in ("true_harm", "recorded_harm", "recorded_events", "activity")
    }
    got = effect_totals(res, q.operation_id, range(res.months))
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-9)


def test_derived_tables_do_not_depend_on_the_order_they_are_read(ran: Simulation) -> None:
    """Intelligence and the reports' truth come from one draw, whichever is read first."""
    a, b = ran.run(), ran.run()
    truth_first = a.truth["intel_reports"]
    intel_first = b.intel["reports"]
    pd.testing.assert_frame_equal(truth_first, b.truth["intel_reports"])
    pd.testing.assert_frame_equal(intel_first, a.intel["reports"])
    assert len(truth_first) == len(intel_first) > 0
    assert (truth_first["report_id"] == intel_first["report_id"]).all()


def test_month_labels_and_indices_agree_with_pandas_periods() -> None:
    first = "2019-11"
    for m in range(0, 40):
        want = str(pd.Period(first, freq="M") + m)
        assert month_label(first, m) == want
        assert month_index(want, first) == m
    assert month_index(7, first) == 7
    with pytest.raises(SimulationError, match="not YYYY-MM"):
        month_index("2019-11-01", first)


def test_docs_list_the_modules_in_import_order() -> None:
    """docs/simulator.md's code-layout table names every module, each importing only
    modules of earlier rows (so there is no cycle and the page tells the truth)."""
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "simulator.md").read_text(encoding="utf-8")
    table = doc.split("## Code layout", 1)[1].split("\n\n")[2]
    rows = [re.findall(r"`(\w+)`", line.split("|")[1]) for line in table.splitlines()[2:]]
    row_of = {name: i for i, names in enumerate(rows) for name in names}
    pkg = root / "src" / "harmscope" / "simulate"
    modules = {f.stem for f in pkg.glob("*.py")} - {"__init__"}
    assert set(row_of) == modules
    for name in modules:
        tree = ast.parse((pkg / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module.removeprefix("harmscope.simulate.")]
                if node.module == "harmscope.simulate":
                    targets = [a.name for a in node.names]
                for t in targets:
                    if t in modules:
                        assert row_of[t] < row_of[name], f"{name} imports {t}"
