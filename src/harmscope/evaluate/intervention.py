"""Evaluate an intervention end to end: areas and periods in, estimates and a verdict out.

The intervention itself (:class:`Intervention`) is in :mod:`~harmscope.evaluate.spec`, the
count query (:func:`area_counts`) in :mod:`~harmscope.evaluate.counts` and the verdict in
:mod:`~harmscope.evaluate.verdict`; this module runs the estimators on the counts
(:func:`evaluate_counts`), holds the result (:class:`Evaluation`) and does both
(:func:`evaluate_intervention`). The names of those modules are re-exported here.

Estimators run when the data allow them:

* WDD on counts and harm-weighted WDD, with displacement when a buffer is given
  (Wheeler & Ratcliffe 2018; Wheeler 2020);
* WDQ and total net effect (Bowers & Johnson 2003) with a buffer and a control;
* Poisson E-test of the target's monthly rate before and after (Krishnamoorthy & Thomson
  2004);
* difference-in-differences quasi-Poisson GLMs on the monthly panel, for counts and harm;
* an interrupted time series forecast from the pre-period trend and seasonality when there
  are at least 14 months before the post period (Bernal et al. 2017).

Control scaling. The WDD assumes the control's change in *counts* is what the target would
have seen. That holds only when the control is about the target's size: a control ten times
bigger changes ten times as much under a common seasonal swing. By default the control is
rescaled to each area's pre-period level (WDD area weight = control pre count / area pre
count), so the assumption becomes parallel *proportional* trends, as in the WDQ and the
GLMs. On the simulator this is what keeps the WDD unbiased with a large control
(``docs/evaluation.md``). ``control_scaling="none"`` gives the original unweighted WDD.

References
----------
Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7, 11.

Bowers, K. J., & Johnson, S. D. (2003). Measuring the geographical displacement and diffusion
of benefit effects of crime prevention activity. *J. Quantitative Criminology*, 19(3), 275-301.

Bernal, J. L., Cummins, S., & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *Int. J. Epidemiology*, 46(1),
348-355.

Ratcliffe, J. H., Taniguchi, T., Groff, E. R., & Wood, J. D. (2011). The Philadelphia Foot
Patrol Experiment. *Criminology*, 49(3), 795-831 (target, buffer and control areas).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmscope.errors import EstimatorError
from harmscope.evaluate.counts import COUNT_COLUMNS, area_counts, searches_loaded
from harmscope.evaluate.did import did_count, did_harm
from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.etest import etest
from harmscope.evaluate.its import its_forecast
from harmscope.evaluate.readings import all_estimates
from harmscope.evaluate.registry import Context, registered
from harmscope.evaluate.result import EvaluationData
from harmscope.evaluate.spec import (
    ROLES,
    Intervention,
    Period,
    Role,
    Scaling,
    load_intervention,
    resolve_areas,
)
from harmscope.evaluate.verdict import verdict_lines
from harmscope.evaluate.wdd import wdd, wdd_harm
from harmscope.evaluate.wdq import WDQResult, wdq
from harmscope.harm import Dropped, load_scheme
from harmscope.harm.schemes import Scheme
from harmscope.harm.selection import selection_attrs
from harmscope.periods import Progress, progress_stage
from harmscope.warehouse.handle import Warehouse

__all__ = [
    "COUNT_COLUMNS",
    "ROLES",
    "Evaluation",
    "Intervention",
    "Period",
    "Role",
    "Scaling",
    "area_counts",
    "evaluate_counts",
    "evaluate_intervention",
    "load_intervention",
    "resolve_areas",
    "searches_loaded",
    "verdict_lines",
]

#: Months before the post period that the ITS forecast needs (trend + 11 seasonal terms).
ITS_MIN_PRE = 14


# ---------------------------------------------------------------------- results -----------
@dataclass(frozen=True)
class Evaluation(EvaluationData):
    """Everything an evaluation produced (the fields of :class:`EvaluationData`), with every
    estimate in one shape (:attr:`estimates`), the verdict and the JSON form."""

    @cached_property
    def estimates(self) -> dict[str, Effect]:
        """Every estimate made, by name, as one :class:`~harmscope.evaluate.estimate.Effect`
        shape (see :func:`~harmscope.evaluate.readings.estimates_of`); built once, as the
        report, the JSON and the verdict all read it."""
        return all_estimates(self)

    @property
    def verdict(self) -> str:
        """The plain-language verdict, with its uncertainty (see :func:`verdict_lines`)."""
        return " ".join(verdict_lines(self))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: the intervention, totals, every estimate, notes and verdict."""

        def obj(value: Any) -> Any:
            if value is None:
                return None
            if hasattr(value, "__dataclass_fields__"):
                out = {}
                for k in value.__dataclass_fields__:
                    v = getattr(value, k)
                    if isinstance(v, pd.DataFrame):
                        out[k] = v.to_dict(orient="records")
                    elif isinstance(v, tuple) and v and hasattr(v[0], "__dataclass_fields__"):
                        out[k] = [obj(i) for i in v]
                    else:
                        out[k] = v
                if isinstance(value, WDQResult):
                    out["interpretation"] = value.interpretation
                return out
            return value

        return {
            "intervention": self.intervention.to_dict(),
            "scheme": self.scheme.name,
            "unit": self.unit,
            **selection_attrs(self.intervention.harm, self.intervention.types),
            "totals": self.totals.to_dict(orient="records"),
            "area_weights": list(self.area_weights),
            "estimates": {
                name: obj(getattr(self, name))
                for name in (
                    "wdd",
                    "wdd_harm",
                    "wdq",
                    "did",
                    "did_harm",
                    "did_buffer",
                    "did_harm_buffer",
                    "its",
                    "its_harm",
                    "its_buffer",
                )
            }
            | {"etest_p": self.etest_p, "etest_buffer_p": self.etest_buffer_p}
            | {name: obj(e) for name, e in self.extra.items()},
            "readings": {
                name: {
                    "estimate": e.estimate,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "p": e.p,
                    "unit": e.unit,
                    "method": e.method,
                    "area": e.area,
                    "outcome": e.outcome,
                    "reading": e.reading,
                    "notes": list(e.notes),
                }
                for name, e in self.estimates.items()
            },
            "no_data": dict(self.no_data),
            "notes": list(self.notes),
            "dropped": self.dropped.to_dict(),
            "verdict": self.verdict,
        }


# ---------------------------------------------------------------------- estimators --------
def _tables(
    counts: pd.DataFrame, iv: Intervention, no_data: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    roles = list(iv.areas)
    months = iv.series_months
    c = counts.copy()
    is_harm = c["kind"] == "harm"
    is_ss = c["event_type"] == "Stop and search"
    c["events"] = np.where(is_harm, c["count"], 0)
    c["harm"] = np.where(is_harm, c["count"] * c["weight"], 0.0)
    c["activity"] = np.where(~is_harm & ~is_ss, c["count"], 0)
    c["searches"] = np.where(is_ss, c["count"], 0)
    grid = pd.MultiIndex.from_product([roles, months], names=["role", "month"])
    monthly = (
        c.groupby(["role", "month"])[["events", "harm", "activity", "searches"]]
        .sum()
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    for col in ("events", "activity", "searches"):
        monthly[col] = monthly[col].astype("int64")
    monthly["harm"] = monthly["harm"].astype(float)
    period = np.where(
        monthly["month"].isin(iv.pre.months),
        "pre",
        np.where(monthly["month"].isin(iv.post.months), "post", ""),
    )
    m = monthly.assign(period=period)
    m = m[m["period"] != ""]
    totals = (
        m.groupby(["role", "period"])[["events", "harm", "activity", "searches"]]
        .sum()
        .reset_index()
    )
    totals["months"] = np.where(totals["period"] == "pre", iv.pre.n_months, iv.post.n_months)
    totals = totals[["role", "period", "months", "events", "harm", "activity", "searches"]]
    # Missing is not zero: a count the data cannot give is NaN, with its reason in no_data.
    for key in no_data:
        role, column = key.split(".", 1)
        totals[column] = totals[column].astype(float)
        monthly[column] = monthly[column].astype(float)
        totals.loc[totals["role"] == role, column] = np.nan
        monthly.loc[monthly["role"] == role, column] = np.nan
    return monthly, totals


def _no_search_data(iv: Intervention, searches_loaded: bool) -> dict[str, str]:
    """Roles whose stop-and-search count the data cannot give, with the reason."""
    out: dict[str, str] = {}
    if not searches_loaded:
        for role in iv.areas:
            out[f"{role}.searches"] = "no stop-and-search records in the warehouse for these months"
        return out
    lsoa_roles = []
    for role, spec in iv.areas.items():
        if spec.kind == "lsoas":
            lsoa_roles.append(role)
            out[f"{role}.searches"] = (
                "police.uk stop-and-search records carry no LSOA, so none can be placed in "
                "an area given by LSOA codes"
            )
        elif spec.kind == "all" and lsoa_roles:
            out[f"{role}.searches"] = (
                f"searches in the {' and '.join(lsoa_roles)} LSOAs cannot be told apart, so "
                "this count would include them"
            )
    return out


def _refuse_no_data(iv: Intervention, pairs: Mapping[str, tuple[float, float]]) -> None:
    """No answer from no data: refuse an evaluation whose target or control has no recorded
    crime in a period (or whose buffer has none at all)."""
    for role, spec in iv.areas.items():
        pre, post = pairs[role]
        empty = [
            f"{name} period ({period})"
            for name, period, n in (("pre", iv.pre, pre), ("post", iv.post, post))
            if n == 0
        ]
        if role == "buffer" and len(empty) < 2:
            continue
        if empty:
            raise EstimatorError(
                f"no answer from no data: the {role} ({spec.describe()}) has no recorded "
                f"crime of the scheme's harm types in the {' or the '.join(empty)}; an "
                "evaluation needs events in both periods. Check the area (cells are named by "
                "their lower-left corner in British National Grid metres) and the months"
            )


class _Sums:
    """Harm-kind event counts by role, period (pre/post) and event type, summed once."""

    def __init__(self, counts: pd.DataFrame, iv: Intervention) -> None:
        h = counts[counts["kind"] == "harm"]
        month = h["month"].to_numpy()
        period = np.where(
            np.isin(month, iv.pre.months),
            "pre",
            np.where(np.isin(month, iv.post.months), "post", ""),
        )
        keep = period != ""
        grouped = (
            pd.DataFrame(
                {
                    "role": h["role"].to_numpy()[keep],
                    "period": period[keep],
                    "event_type": h["event_type"].to_numpy()[keep],
                    "count": h["count"].to_numpy()[keep],
                }
            )
            .groupby(["role", "period", "event_type"])["count"]
            .sum()
        )
        self._by: dict[tuple[str, str, str], float] = {k: float(v) for k, v in grouped.items()}

    def pair(self, role: str) -> tuple[float, float]:
        """(pre, post) totals of one role."""
        pre = sum(v for (r, p, _), v in self._by.items() if r == role and p == "pre")
        post = sum(v for (r, p, _), v in self._by.items() if r == role and p == "post")
        return float(pre), float(post)

    def pairs(self, role: str, types: list[str]) -> list[tuple[float, float]]:
        """(pre, post) per event type, in the order of ``types``."""
        return [
            (self._by.get((role, "pre", t), 0.0), self._by.get((role, "post", t), 0.0))
            for t in types
        ]


def _panel(counts: pd.DataFrame, iv: Intervention, treated_role: str) -> pd.DataFrame:
    """Long monthly panel (role x month x harm event type) of one area and the control."""
    months = iv.pre.months + iv.post.months
    c = counts[
        counts["role"].isin([treated_role, "control"])
        & (counts["kind"] == "harm")
        & (counts["weight"] > 0)
        & counts["month"].isin(months)
    ]
    types = sorted(c["event_type"].unique())
    grid = pd.MultiIndex.from_product(
        [[treated_role, "control"], months, types], names=["area", "period", "crime_type"]
    )
    panel = (
        c.rename(columns={"role": "area", "month": "period", "event_type": "crime_type"})
        .groupby(["area", "period", "crime_type"])["count"]
        .sum()
        .reindex(grid, fill_value=0)
        .reset_index()
    )
    panel["treated"] = (panel["area"] == treated_role).astype(int)
    panel["post"] = panel["period"].isin(iv.post.months).astype(int)
    return panel


def _try(notes: list[str], label: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except EstimatorError as exc:
        notes.append(f"{label} not estimated: {exc}")
        return None


def evaluate_counts(
    counts: pd.DataFrame,
    intervention: Intervention,
    *,
    scheme: Scheme | None = None,
    searches_loaded: bool = True,
) -> Evaluation:
    """Run every estimator the data allow on counts from :func:`area_counts`.

    Parameters
    ----------
    counts : pandas.DataFrame
        Columns ``role, month, event_type, kind, weight, count`` (see :func:`area_counts`).
    intervention : Intervention
        Periods, areas (only their roles matter here), scheme, scaling and alpha.
    scheme : Scheme, optional
        The loaded scheme (default: load ``intervention.scheme``).
    searches_loaded : bool
        Whether the source holds stop-and-search records for these months; when not, the
        ``searches`` totals are "no data" (NaN, see :attr:`Evaluation.no_data`), not 0.

    Returns
    -------
    Evaluation

    Raises
    ------
    EstimatorError
        The target or the control has no recorded crime of the harm types in the pre or
        the post period, or the buffer has none in either: there is no answer from no data.

    Notes
    -----
    WDD time weights are the numbers of pre and post months (estimates are per post
    period); with ``control_scaling="pre"`` the area weights are ``(C0/T0, 1, C0/D0, 1)``
    from pre-period counts of control C, target T and buffer D. The GLMs use the monthly
    panel of pre and post months; the ITS uses every month from ``baseline_start``.
    """
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise EstimatorError(f"counts has no column(s) {missing}")
    iv = intervention
    sch = scheme if scheme is not None else load_scheme(iv.scheme)
    notes: list[str] = []
    no_data = _no_search_data(iv, searches_loaded)
    monthly, totals = _tables(counts, iv, no_data)
    a = iv.alpha
    has_buffer = iv.buffer is not None
    has_control = iv.control is not None
    post_n, pre_n = iv.post.n_months, iv.pre.n_months
    sums = _Sums(counts, iv)
    t_ = sums.pair("target")
    d_ = sums.pair("buffer") if has_buffer else (0.0, 0.0)
    c_ = sums.pair("control") if has_control else (0.0, 0.0)
    _refuse_no_data(iv, {"target": t_, "buffer": d_, "control": c_})
    if has_buffer and 0.0 in d_:
        notes.append(
            "the buffer has no recorded crime of the harm types in the "
            f"{'pre' if d_[0] == 0 else 'post'} period: its estimates rest on one period's count"
        )
    harm_types = sorted(
        counts.loc[(counts["kind"] == "harm") & (counts["weight"] > 0), "event_type"].unique()
    )
    wts = (
        counts[counts["event_type"].isin(harm_types)]
        .drop_duplicates("event_type")
        .set_index("event_type")["weight"]
    )
    weights = [float(wts[t]) for t in harm_types]

    res: dict[str, Any] = {}
    aw = (1.0, 1.0, 1.0, 1.0)
    if has_control:
        if iv.control_scaling == "pre":
            if t_[0] > 0 and c_[0] > 0 and (not has_buffer or d_[0] > 0):
                aw = (c_[0] / t_[0], 1.0, c_[0] / d_[0] if has_buffer else 1.0, 1.0)
            else:
                notes.append(
                    "control not rescaled: an area has no events in the pre period, so the WDD "
                    "uses raw counts (parallel trends in counts)"
                )
        # Estimates are totals over the post period: the pre period is scaled to its length.
        tw = (pre_n / post_n, 1.0)
        disp = {"disp_control": c_, "disp_treated": d_} if has_buffer else {}
        res["wdd"] = _try(
            notes,
            "WDD",
            lambda: wdd(c_, t_, **disp, time_weights=tw, area_weights=aw, alpha=a),
        )
        if harm_types:
            ck = sums.pairs("control", harm_types)
            tk = sums.pairs("target", harm_types)
            hd = (
                {
                    "disp_control": ck,
                    "disp_treated": sums.pairs("buffer", harm_types),
                }
                if has_buffer
                else {}
            )
            res["wdd_harm"] = _try(
                notes,
                "harm WDD",
                lambda: wdd_harm(ck, tk, weights, **hd, time_weights=tw, area_weights=aw, alpha=a),
            )
        if has_buffer:
            if c_[0] > 0 and c_[1] > 0:
                res["wdq"] = wdq(
                    response=(t_[0] / pre_n, t_[1] / post_n),
                    buffer=(d_[0] / pre_n, d_[1] / post_n),
                    control=(c_[0] / pre_n, c_[1] / post_n),
                )
            else:
                notes.append("WDQ not computed: the control has no events in one period")
        n_months = pre_n + post_n
        cov: Any = "quasi" if n_months > 2 else "model"
        for role, key in (("target", "did"), ("buffer", "did_buffer")):
            if role == "buffer" and not has_buffer:
                continue
            panel = _panel(counts, iv, role)
            area_panel = panel.groupby(["area", "period", "treated", "post"], as_index=False)[
                "count"
            ].sum()
            label = "DiD" if role == "target" else "buffer DiD"
            res[key] = _try(notes, label, partial(did_count, area_panel, cov_type=cov, alpha=a))
            hkey = "did_harm" if role == "target" else "did_harm_buffer"
            if harm_types:
                harm_w = dict(zip(harm_types, weights, strict=True))
                res[hkey] = _try(
                    notes, f"harm {label}", partial(did_harm, panel, weights=harm_w, alpha=a)
                )
    else:
        notes.append(
            "no control area: WDD, WDQ and DiD need one; the counterfactual is the target's "
            "own pre-period trend and seasonality"
        )
    if t_[0] + t_[1] > 0:
        res["etest_p"] = etest(t_[1], t_[0], post_n, pre_n)
    if has_buffer and d_[0] + d_[1] > 0:
        res["etest_buffer_p"] = etest(d_[1], d_[0], post_n, pre_n)

    series_months = iv.series_months
    n_before = series_months.index(iv.post.start)
    if n_before >= ITS_MIN_PRE:
        its_months = series_months[: n_before + post_n]
        roles_its: list[tuple[str, str, str]] = [
            ("target", "events", "its"),
            ("target", "harm", "its_harm"),
        ]
        if has_buffer:
            roles_its.append(("buffer", "events", "its_buffer"))
        for role, col, key in roles_its:
            s = monthly[monthly["role"] == role].set_index("month")[col]
            s = s.reindex(its_months).astype(float)
            if s.iloc[:n_before].sum() <= 0:
                notes.append(f"ITS ({role}, {col}) not estimated: no events before the post period")
                continue
            res[key] = _try(
                notes,
                f"ITS ({role}, {col})",
                partial(its_forecast, s, start=iv.post.start, end=iv.post.end, alpha=a),
            )
    else:
        notes.append(
            f"interrupted time series not run: it needs {ITS_MIN_PRE} months before the post "
            f"period for trend and seasonality, the series has {n_before} (set baseline_start)"
        )
    extra: dict[str, Effect] = {}
    ctx = Context(counts=counts, intervention=iv, monthly=monthly, unit=sch.unit)
    for name, runner in registered().items():
        got = _try(notes, name, partial(runner, ctx))
        for key, e in (got or {}).items():
            if key in extra or key in res:
                notes.append(f"{name}: estimate {key!r} already exists; left out")
            else:
                extra[key] = e
    return Evaluation(
        intervention=iv,
        extra=extra,
        scheme=sch,
        counts=counts,
        monthly=monthly,
        totals=totals,
        area_weights=aw,
        notes=notes,
        no_data=no_data,
        **res,
    )


def evaluate_intervention(
    intervention: Intervention,
    *,
    db: str | Path | None = None,
    con: Any = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Counts from the warehouse, then every estimator (:func:`area_counts`,
    :func:`evaluate_counts`).

    Parameters
    ----------
    intervention : Intervention
    db : str or Path, optional
        Warehouse file.
    con : ibis backend, optional
        Open connection instead of ``db``.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    Evaluation
    """
    source = con if con is not None else db
    with progress_stage(progress, "counting events"), Warehouse.of(source) as wh:
        iv = resolve_areas(intervention, wh.backend)
        counts = area_counts(iv, con=wh.backend)
        loaded = searches_loaded(wh.events(), iv)
    with progress_stage(progress, "running estimators"):
        out = evaluate_counts(counts, iv, searches_loaded=loaded)
    return replace(out, dropped=Dropped.from_dict(counts.attrs.get("dropped")))
