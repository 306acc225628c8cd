"""A new estimator is one function plus one registration: it then appears in the estimates,
the report, the JSON and validate-evaluation without any other change."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.errors import EstimatorError
from harmscope.evaluate.areas import AreaSpec
from harmscope.evaluate.estimate import Estimate
from harmscope.evaluate.intervention import Intervention, Period, evaluate_counts
from harmscope.evaluate.registry import Context, register, registered, registered_for
from harmscope.evaluate.validation import validate_evaluation
from harmscope.report.evaluation import estimate_rows, render_html


def naive(ctx: Context) -> dict[str, Estimate]:
    """Target crimes after minus before, with a Poisson interval: no control at all."""
    pre, post = ctx.pair("target")
    if pre + post == 0:
        raise EstimatorError("no crimes")
    half = 1.959963984540054 * math.sqrt(pre + post)
    diff = post - pre
    return {
        "naive": Estimate(
            estimate=diff,
            ci_low=diff - half,
            ci_high=diff + half,
            p=None,
            unit="crimes",
            method="raw post minus pre",
            family="naive",
        )
    }


def _counts() -> pd.DataFrame:
    rows = []
    for role, (pre, post) in (("target", (200, 150)), ("control", (1000, 990))):
        for month, n in (("2020-01", pre), ("2020-02", post)):
            rows.append(("Robbery", 365.0, role, month, n))
    return pd.DataFrame(
        [
            {"role": r, "month": m, "event_type": e, "kind": "harm", "weight": w, "count": k}
            for e, w, r, m, k in rows
        ]
    )


IV = Intervention(
    "k",
    AreaSpec.from_lsoas(["E01000001"]),
    Period.parse("2020-01"),
    Period.parse("2020-02"),
    control=AreaSpec.from_lsoas(["E01000003"]),
)


def test_a_registered_estimator_reaches_estimates_report_and_json() -> None:
    with registered_for("naive", naive):
        ev = evaluate_counts(_counts(), IV)
    assert "naive" not in registered()
    e = ev.estimates["naive"]
    assert e.estimate == -50 and e.significant
    assert_allclose(e.ci_high, -50 + 1.959963984540054 * math.sqrt(350))
    row = next(r for r in estimate_rows(ev) if r["key"] == "naive")
    assert row["reading"] == "the 95% interval excludes no change"
    payload = ev.to_dict()
    assert payload["readings"]["naive"]["method"] == "raw post minus pre"
    assert payload["estimates"]["naive"]["estimate"] == -50
    assert "raw post minus pre" in render_html(ev)


def test_a_failing_estimator_is_noted_and_names_clash_are_refused() -> None:
    def broken(ctx: Context) -> dict[str, Estimate]:
        raise EstimatorError("needs more months")

    with registered_for("broken", broken):
        ev = evaluate_counts(_counts(), IV)
    assert "broken not estimated: needs more months" in ev.notes
    register("naive2")(naive)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register("naive2")(naive)
    finally:
        from harmscope.evaluate.registry import unregister

        unregister("naive2")


def test_validate_evaluation_scores_a_registered_estimator() -> None:
    with registered_for("naive", naive):
        res = validate_evaluation(operations=3, seed=11, workers=1)
    ops = res.operations[res.operations["estimator"] == "naive"]
    assert len(ops) == 3
    # Truth: the target's recorded crime effect, as for the DiD.
    did = res.operations[res.operations["estimator"] == "did_count"].set_index("operation_id")
    assert_allclose(ops.set_index("operation_id")["true_effect"], did["true_effect"])
    row = res.table.set_index("estimator").loc["naive"]
    covered = (
        (ops["ci_low"] <= ops["true_effect"]) & (ops["true_effect"] <= ops["ci_high"])
    ).mean()
    assert_allclose(row["coverage"], covered)
    assert "naive" in res.to_dict()
