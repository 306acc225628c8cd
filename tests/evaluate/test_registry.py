"""A new estimator is one function plus one registration: it then appears in the estimates,
the report, the JSON and validate-evaluation without any other change."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from harmscope.checks.evaluation import validate_evaluation
from harmscope.errors import EstimatorError
from harmscope.evaluate.areas import AreaSpec
from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.intervention import Intervention, Period, evaluate_counts
from harmscope.evaluate.registry import Context, register, registered, registered_for
from harmscope.report.evaluation import estimate_rows, render_html


def naive(ctx: Context) -> dict[str, Effect]:
    """Target crimes after minus before, with a Poisson interval: no control at all."""
    pre, post = ctx.pair("target")
    if pre + post == 0:
        raise EstimatorError("no crimes")
    half = 1.959963984540054 * math.sqrt(pre + post)
    diff = post - pre
    return {
        "naive": Effect(
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
    def broken(ctx: Context) -> dict[str, Effect]:
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


def test_every_estimator_returns_the_one_estimate_shape() -> None:
    from harmscope.evaluate import did_count, its_forecast, wdd, wdd_harm, wdq
    from harmscope.evaluate.estimate import Estimate

    w = wdd((308, 318), (207, 110), (150, 140), (178, 157))
    # The DESIGN contract: estimate, se, z, p, ci_low, ci_high, beside the common shape.
    assert isinstance(w, Estimate) and round(w.estimate) == -118 and round(w.se**2) == 1568
    assert (w.unit, w.reading) == ("crimes", "the 95% interval excludes no change")
    h = wdd_harm([(133, 91)], [(130, 74)], [3])
    assert isinstance(h, Estimate) and h.estimate == 3 * ((74 - 130) - (91 - 133))
    q = wdq(response=(100, 50), buffer=(100, 150), control=(100, 100))
    assert isinstance(q, Estimate) and q.estimate == q.wdq == -1 and q.reading == "no interval"
    panel = pd.DataFrame(
        {
            "area": ["c", "c", "t", "t"],
            "period": [0, 1, 0, 1],
            "treated": [0, 0, 1, 1],
            "post": [0, 1, 0, 1],
            "count": [100, 120, 80, 60],
        }
    )
    d = did_count(panel, cov_type="model")
    # A rate ratio reads against 1, not 0: (0.43, 0.92) excludes no change.
    assert isinstance(d, Estimate) and d.estimate == d.irr and d.null == 1.0
    assert d.ci_high < 1 and d.significant and d.reading.endswith("excludes no change")
    months = pd.period_range("2018-01", periods=27, freq="M")
    y = pd.Series([90.0, 110.0] * 12 + [50.0, 60.0, 55.0], index=months)
    f = its_forecast(y, start="2020-01", seasonal=False)
    assert isinstance(f, Estimate) and f.estimate == f.difference
    assert (f.ci_low, f.ci_high) == (f.difference_ci_low, f.difference_ci_high)
