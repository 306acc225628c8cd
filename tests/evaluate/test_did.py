"""Difference-in-differences count and harm models: closed forms on 2 x 2 tables, agreement
with independent statsmodels fits, and the behaviour of the options."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from numpy.testing import assert_allclose

from harmscope.errors import EstimatorError
from harmscope.evaluate import did_count, did_harm, wdd_harm

# Wheeler & Ratcliffe (2018) treated and control counts as a 2 x 2 panel.
TWO_BY_TWO = pd.DataFrame(
    {
        "area": ["control", "control", "target", "target"],
        "period": [0, 1, 0, 1],
        "treated": [0, 0, 1, 1],
        "post": [0, 1, 0, 1],
        "count": [308, 318, 207, 110],
    }
)

HARM_CONTROL = [(133, 91), (388, 305), (148, 97), (86, 64), (94, 67)]
HARM_TREATED = [(130, 74), (327, 202), (398, 190), (144, 92), (183, 96)]
HARM_WEIGHTS = {"vehicle": 3.0, "theft": 2.0, "burglary": 5.0, "robbery": 7.0, "assault": 10.0}


def _harm_long() -> pd.DataFrame:
    rows = []
    for name, c, t in zip(HARM_WEIGHTS, HARM_CONTROL, HARM_TREATED, strict=True):
        for period in (0, 1):
            rows.append(("control", period, 0, period, name, c[period]))
            rows.append(("target", period, 1, period, name, t[period]))
    return pd.DataFrame(rows, columns=["area", "period", "treated", "post", "crime_type", "count"])


def _panel(
    seed: int, *, areas: int = 24, periods: int = 12, irr: float = 0.7, nb_alpha: float = 0.0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(areas):
        base = rng.gamma(5.0, 4.0)
        for t in range(periods):
            treated, post = i < areas // 3, t >= periods // 2
            mu = base * math.exp(0.03 * t) * (irr if treated and post else 1.0)
            if nb_alpha:
                mu = rng.gamma(1.0 / nb_alpha, mu * nb_alpha)
            rows.append((f"a{i:02d}", t, int(treated), int(post), rng.poisson(mu)))
    return pd.DataFrame(rows, columns=["area", "period", "treated", "post", "count"])


def test_two_by_two_poisson_is_the_ratio_of_ratios() -> None:
    r = did_count(TWO_BY_TWO, cov_type="model")
    assert_allclose(r.irr, (110 / 207) / (318 / 308))
    assert_allclose(r.se, math.sqrt(1 / 308 + 1 / 318 + 1 / 207 + 1 / 110))
    assert_allclose(r.ci_low, r.irr * math.exp(-1.959963984540054 * r.se))
    # Counterfactual: the treated post count had it followed the control trend.
    assert_allclose(r.counterfactual, 207 * 318 / 308)
    assert_allclose(r.difference, 110 - 207 * 318 / 308)
    assert r.difference_ci_low < r.difference < r.difference_ci_high < 0
    assert_allclose(r.percent_change, 100 * (r.irr - 1))
    assert (r.n_obs, r.n_areas, r.n_periods) == (4, 2, 2)


def test_two_by_two_quasi_needs_residual_df() -> None:
    with pytest.raises(EstimatorError, match="cov_type='model'"):
        did_count(TWO_BY_TWO)


@pytest.mark.parametrize("cov_type", ["quasi", "model", "robust", "cluster"])
def test_poisson_panel_matches_statsmodels_formula(cov_type: str) -> None:
    panel = _panel(1)
    panel["D"] = panel["treated"] * panel["post"]
    model = smf.glm("count ~ C(area) + C(period) + D", panel, family=sm.families.Poisson())
    fit_args = {
        "quasi": {"scale": "X2"},
        "model": {},
        "robust": {"cov_type": "HC0"},
        "cluster": {"cov_type": "cluster", "cov_kwds": {"groups": panel["area"].factorize()[0]}},
    }[cov_type]
    ref = model.fit(**fit_args)
    r = did_count(panel, cov_type=cov_type)  # type: ignore[arg-type]
    assert_allclose([r.log_irr, r.se], [ref.params["D"], ref.bse["D"]], rtol=1e-6)


def test_poisson_recovers_known_effect() -> None:
    r = did_count(_panel(2, areas=60, irr=0.7))
    assert r.ci_low < 0.7 < r.ci_high
    assert r.ci_high < 1.0
    assert 0.8 < r.dispersion < 1.25  # Poisson data: Pearson dispersion near 1


def test_negbin_matches_full_maximum_likelihood() -> None:
    # Profile-likelihood NB2 GLM against statsmodels' joint MLE of (beta, alpha).
    panel = _panel(11, areas=6, periods=8, irr=0.6, nb_alpha=0.2)
    panel["D"] = panel["treated"] * panel["post"]
    ref = smf.negativebinomial("count ~ C(area) + C(period) + D", panel).fit(
        disp=0, maxiter=500, method="newton"
    )
    r = did_count(panel, family="negbin", cov_type="model")
    assert_allclose(r.log_irr, ref.params["D"], rtol=1e-4)
    assert_allclose(r.dispersion, ref.params["alpha"], rtol=1e-4)
    # Same estimates; the GLM variance drops the (beta, alpha) cross terms of the observed
    # information, which vanish in expectation.
    assert_allclose(r.se, ref.bse["D"], rtol=0.02)


def test_negbin_estimates_overdispersion() -> None:
    r = did_count(_panel(3, areas=30, periods=10, nb_alpha=0.3), family="negbin", cov_type="model")
    assert 0.2 < r.dispersion < 0.4
    assert r.ci_low < 0.7 < r.ci_high


def test_areas_without_events_are_dropped() -> None:
    panel = _panel(4)
    empty = pd.DataFrame(
        {
            "area": "zz",
            "period": range(12),
            "treated": 0,
            "post": [int(t >= 6) for t in range(12)],
            "count": 0,
        }
    )
    a = did_count(panel)
    b = did_count(pd.concat([panel, empty], ignore_index=True))
    assert_allclose([b.irr, b.se], [a.irr, a.se])
    assert b.n_areas == a.n_areas


def test_exposure_offset_turns_counts_into_rates() -> None:
    panel = _panel(5)
    panel["exposure"] = 1.0
    base = did_count(panel, exposure="exposure")
    doubled = panel.copy()
    doubled.loc[(doubled.treated == 1) & (doubled.post == 1), "exposure"] = 2.0
    r = did_count(doubled, exposure="exposure")
    assert_allclose(r.irr, base.irr / 2.0)
    scaled = panel.assign(exposure=np.where(panel.area == "a01", 5.0, 1.0))
    assert_allclose(did_count(scaled, exposure="exposure").irr, base.irr)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="count"), "no column"),
        (lambda d: d.assign(treated=[0, 1, 1, 1]), "constant within each 'area'"),
        (lambda d: d.assign(treated=1), "treated and control areas"),
        (lambda d: d.assign(count=[1, 2, -3, 4]), "finite values >= 0"),
        (lambda d: pd.concat([d, d.iloc[:1]]), "more than one row"),
        (lambda d: d.assign(post=[0, 2, 0, 2]), "0/1 or booleans"),
    ],
)
def test_did_count_rejects_bad_panels(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EstimatorError, match=message):
        did_count(change(TWO_BY_TWO), cov_type="model")


def test_did_count_rejects_bad_options() -> None:
    with pytest.raises(EstimatorError, match="family"):
        did_count(TWO_BY_TWO, family="gaussian", cov_type="model")  # type: ignore[arg-type]
    with pytest.raises(EstimatorError, match="overdispersion itself"):
        did_count(_panel(1), family="negbin", cov_type="quasi")


def test_harm_two_by_two_compound_variance() -> None:
    # Harm totals H and their compound-Poisson variances V = sum w^2 y per cell.
    r = did_harm(_harm_long(), weights=HARM_WEIGHTS)
    w = np.array(list(HARM_WEIGHTS.values()))
    cells = {}
    for name, pairs in (("c", HARM_CONTROL), ("t", HARM_TREATED)):
        for period in (0, 1):
            y = np.array([p[period] for p in pairs], dtype=float)
            cells[name, period] = (w @ y, (w**2) @ y)
    log_irr = math.log(cells["t", 1][0] / cells["t", 0][0] / (cells["c", 1][0] / cells["c", 0][0]))
    se = math.sqrt(sum(v / h**2 for h, v in cells.values()))
    assert_allclose([r.log_irr, r.se], [log_irr, se])
    assert_allclose(r.observed, cells["t", 1][0])
    assert r.family == "quasi-poisson" and r.cov_type == "compound"
    # On the count scale the same cells give Wheeler's harm-weighted WDD: -1721 (304.1).
    wdd = wdd_harm(HARM_CONTROL, HARM_TREATED, list(HARM_WEIGHTS.values()))
    diff = (cells["t", 1][0] - cells["t", 0][0]) - (cells["c", 1][0] - cells["c", 0][0])
    assert_allclose(diff, wdd.estimate)
    assert_allclose(math.sqrt(sum(v for _, v in cells.values())), wdd.se)


def test_harm_variance_is_wider_than_a_naive_poisson_on_harm() -> None:
    # A naive Poisson on harm totals treats 3180 days as 3180 events; the weights make the
    # real variance much larger.
    long = _harm_long()
    r = did_harm(long, weights=HARM_WEIGHTS)
    harm = long.assign(h=long["crime_type"].map(HARM_WEIGHTS) * long["count"])
    totals = harm.groupby(["area", "period", "treated", "post"], as_index=False)["h"].sum()
    naive = did_count(totals.rename(columns={"h": "count"}), cov_type="model")
    assert_allclose(r.log_irr, naive.log_irr)
    assert r.se > 2 * naive.se


def test_harm_with_unit_weights_equals_count_model() -> None:
    long = _harm_long()
    ones = dict.fromkeys(HARM_WEIGHTS, 1.0)
    r = did_harm(long, weights=ones)
    counts = long.groupby(["area", "period", "treated", "post"], as_index=False)["count"].sum()
    ref = did_count(counts, cov_type="model")
    assert_allclose([r.log_irr, r.se], [ref.log_irr, ref.se])


def test_harm_panel_quasi_and_cluster_run_on_a_real_panel_shape() -> None:
    base = _panel(6, areas=30)
    rng = np.random.default_rng(6)
    long = pd.concat(
        [
            base.assign(crime_type="theft"),
            base.assign(crime_type="robbery", count=rng.poisson(base["count"] / 10)),
        ],
        ignore_index=True,
    )
    for cov in ("compound", "quasi", "cluster", "robust"):
        r = did_harm(long, weights={"theft": 2.0, "robbery": 20.0}, cov_type=cov)  # type: ignore[arg-type]
        assert r.ci_low < r.irr < r.ci_high
        assert r.ci_high < 1.0  # the simulated effect (IRR 0.7) is detected


def test_harm_rejects_unweighted_types_and_inconsistent_rows() -> None:
    long = _harm_long()
    with pytest.raises(EstimatorError, match="no harm weight for crime type"):
        did_harm(long, weights={"theft": 2.0})
    bad = long.copy()
    bad.loc[0, "treated"] = 1
    with pytest.raises(EstimatorError, match="must be the same for every crime type"):
        did_harm(bad, weights=HARM_WEIGHTS)
    with pytest.raises(EstimatorError, match="weights\\['theft'\\]"):
        did_harm(long, weights={**HARM_WEIGHTS, "theft": 0})
