"""Validity of the evaluation estimators on simulated operations with known effects.

Each simulated city (a seeded :class:`~harmscope.simulate.Simulation`) gets an operation (a
crackdown, arrest sweep or Drug Market Intervention, 60/20/20%) on one of its markets. The simulator draws each operation's effect,
including displacement into or diffusion of benefits to its buffer, and records the exact
expected recorded crime and harm with and without it (``truth/operation_effects``). The
recorded events are then evaluated by :func:`~harmscope.evaluate.intervention.evaluate_counts`
— the code that evaluates a real operation — with the target and buffer cells, the rest of
the city as control, the six months before the start as the pre period and the six
operation months as the post period. Per estimator we report

* **coverage**: share of 95% intervals that contain the true effect;
* **bias**: mean (estimate − true effect), relative to the mean true effect;
* **displacement_detected**: share of operations *with* displacement where the estimator
  finds a significant rise in the buffer (and, beside it, the false-alarm rate where there
  was none and the detection rate of diffusion).

References
----------
Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7, 11.

Bowers, K. J., Johnson, S. D., Guerette, R. T., Summers, L., & Poynton, S. (2011). Spatial
displacement and diffusion of benefits among geographically focused policing initiatives: a
meta-analytical review. *J. Experimental Criminology*, 7(4), 347-374.

Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to evaluate
statistical methods. *Statistics in Medicine*, 38(11), 2074-2102 (coverage, bias).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from harmscope.errors import EstimatorError, SimulationError
from harmscope.evaluate.areas import AreaSpec
from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.intervention import (
    Evaluation,
    Intervention,
    Period,
    Scaling,
    evaluate_counts,
)
from harmscope.harm import load_scheme
from harmscope.periods import Progress

__all__ = ["ESTIMATORS", "ValidationResult", "validate_evaluation"]

#: Estimators scored, with the effect each one estimates. ``did_count`` is the default.
ESTIMATORS: dict[str, str] = {
    "wdd": "crimes, target + buffer, post period",
    "wdd_harm": "harm (CCHI days), target + buffer",
    "wdq": "crimes, target + buffer (minus the total net effect); no interval",
    "etest": "no effect size: tests the buffer's rate post vs pre",
    "did_count": "crimes, target",
    "did_harm": "harm (CCHI days), target",
    "its_forecast": "crimes, target",
}
DEFAULT_ESTIMATOR = "did_count"
TACTIC_MIX = {"crackdown": 0.6, "arrests": 0.2, "dmi": 0.2}


@dataclass(frozen=True)
class ValidationResult:
    """Result of :func:`validate_evaluation`.

    Attributes
    ----------
    table : DataFrame
        One row per estimator: ``estimator, estimand, n, coverage, bias`` (mean error over
        the mean true effect), ``bias_mcse`` (its Monte Carlo standard error), ``bias_abs``
        (in crimes or harm units), ``true_mean, rmse, displacement_detected,
        displacement_false_alarm, diffusion_detected, default`` (NaN where an estimator has
        no interval or effect size).
    operations : DataFrame
        One row per operation and estimator: ids, tactic, buffer effect, true effect,
        estimate, interval, and whether displacement was flagged.
    settings : dict
        Seed, size, number of operations and windows used.
    """

    table: pd.DataFrame
    operations: pd.DataFrame
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, dict[str, float | str | int | None]]:
        """The DESIGN §5 JSON: estimator → ``{coverage, bias, displacement_detected, ...}``."""
        out: dict[str, dict[str, float | str | int | None]] = {}
        for row in self.table.to_dict(orient="records"):
            name = str(row.pop("estimator"))
            out[name] = {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items()
            }
        return out


def _settings_from(simdir: Path | None) -> dict[str, Any]:
    base: dict[str, Any] = {"seed": 0, "size": "small"}
    if simdir is None:
        return base
    manifest = simdir / "manifest.json"
    if manifest.exists():
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SimulationError(f"{manifest}: not valid JSON ({exc.msg})") from None
        base["seed"] = int(doc.get("seed", 0))
        base["size"] = str(doc.get("size", "small"))
    elif simdir.exists() and any(simdir.iterdir()):
        raise SimulationError(
            f"{simdir}: no manifest.json; give a folder written by `harmscope simulate` "
            "(or an empty or new folder for the defaults)"
        )
    return base


def _label(first: str, m: int) -> str:
    return str(pd.Period(first, freq="M") + m)


def validate_evaluation(
    simdir: str | Path | None = None,
    *,
    operations: int = 200,
    seed: int | None = None,
    size: str | None = None,
    months: int = 24,
    pre_months: int = 6,
    duration: int = 6,
    per_city: int = 1,
    min_monthly: float = 3.0,
    control_scaling: Scaling = "pre",
    workers: int = 2,
    progress: Progress | None = None,
) -> ValidationResult:
    """Simulate operations with known effects and score each estimator against them.

    Parameters
    ----------
    simdir : str or Path, optional
        A folder written by ``harmscope simulate``: its ``manifest.json`` seed and size define
        the cities (default seed 0, ``small``). Per-operation results are written to
        ``SIMDIR/validation/evaluation_operations.csv``.
    operations : int
        Number of operations to simulate and evaluate (default 200).
    seed, size : optional
        Override the manifest's seed and city size.
    months : int
        Months simulated per city (default 24; operations start from month 14 so the
        interrupted time series has 14 months of history, and end by the last month).
    pre_months, duration : int
        Pre-period length and operation length (= post period), months (default 6 and 6).
    per_city : int
        At most this many operations per simulated city (their areas never touch). Default
        1: a Drug Market Intervention treats users who offend across the whole city, so a
        second operation in the same city would see its control and target contaminated.
    min_monthly : float
        Operations whose target or buffer averaged fewer recorded crimes a month in the
        history before the pre period are not evaluated (an analyst would not run a
        count-based evaluation there); another is drawn instead.
    control_scaling : {"pre", "none"}
        The WDD's control scaling (:class:`~harmscope.evaluate.intervention.Intervention`);
        ``"none"`` scores the original unweighted WDD (``bench/evaluation.py`` compares
        both on the same operations).
    workers : int
        Processes simulating cities in parallel (default 2; the result is the same for any
        number).
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    ValidationResult
    """
    if operations < 1:
        raise SimulationError(f"operations must be at least 1, got {operations}")
    if months < 18 or duration < 1 or pre_months < 1:
        raise SimulationError("need months >= 18, duration >= 1 and pre_months >= 1")
    sdir = Path(simdir) if simdir is not None else None
    settings = _settings_from(sdir)
    if seed is not None:
        settings["seed"] = int(seed)
    if size is not None:
        settings["size"] = size
    if control_scaling not in ("pre", "none"):
        raise SimulationError(f"control_scaling must be 'pre' or 'none', got {control_scaling!r}")
    settings.update(
        operations=operations,
        months=months,
        pre_months=pre_months,
        duration=duration,
        control_scaling=control_scaling,
    )
    job = _Job(
        base_seed=int(settings["seed"]),
        size=str(settings["size"]),
        months=months,
        pre_months=pre_months,
        duration=duration,
        per_city=per_city,
        min_monthly=min_monthly,
        control_scaling=control_scaling,
        start_month="2019-01",
        earliest_start=max(14, pre_months + 6),
        latest_start=months - duration,
    )
    if job.earliest_start > job.latest_start:
        raise SimulationError(f"{months} months is too short for these windows")
    n_workers = max(1, min(workers, os.cpu_count() or 1))
    rows: list[dict[str, Any]] = []
    done = 0
    run = 0
    # Cities are simulated in batches (in parallel when workers > 1) and their operations
    # taken in city order, so the result does not depend on the number of workers.
    with ProcessPoolExecutor(n_workers) if n_workers > 1 else _Serial() as pool:
        while done < operations:
            if run > 20 * operations:
                raise SimulationError("could not place enough evaluable operations in the cities")
            batch = range(run, run + max(2 * n_workers, 2))
            run += len(batch)
            for city_rows in pool.map(_city, [job] * len(batch), batch):
                for op_rows in city_rows:
                    if done >= operations:
                        break
                    rows.extend(op_rows)
                    done += 1
                    if progress:
                        progress("simulated operations", done, operations)

    ops = pd.DataFrame(rows)
    table = _summarise(ops)
    if sdir is not None:
        out = sdir / "validation"
        out.mkdir(parents=True, exist_ok=True)
        from harmscope.export import write_csv

        write_csv(ops, out / "evaluation_operations.csv")
    return ValidationResult(table=table, operations=ops, settings=settings)


class _Serial:
    """A stand-in for a process pool that maps in this process."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[..., Any], *its: Any) -> Any:
        return map(fn, *its)


@dataclass(frozen=True)
class _Job:
    base_seed: int
    size: str
    months: int
    pre_months: int
    duration: int
    per_city: int
    min_monthly: float
    control_scaling: Scaling
    start_month: str
    earliest_start: int
    latest_start: int


def _city(job: _Job, run: int) -> list[list[dict[str, Any]]]:
    """Simulate one city with a few operations; score every evaluable one."""
    from harmscope.simulate import Operation, Simulation
    from harmscope.simulate.operations import OperationPlan, effect_totals
    from harmscope.simulate.params import CRIME_TYPES

    scheme = load_scheme("cchi")
    known = {w.event_type: w for w in scheme.weights}
    type_names = list(CRIME_TYPES)
    kinds = np.array([known[t].kind if t in known else "none" for t in type_names], dtype=object)
    weights = np.array([known[t].weight if t in known else 0.0 for t in type_names])
    months, pre_months = job.months, job.pre_months
    city_seed = job.base_seed * 100_003 + run
    rng = np.random.default_rng([job.base_seed, run, 17])
    sim = Simulation(seed=city_seed, months=months, size=job.size, start=job.start_month)  # type: ignore[arg-type]
    city = sim.city
    cut = np.zeros(city.n_cells, dtype=bool)
    chosen: list[OperationPlan] = []
    for k in rng.permutation(len(city.markets)):
        if len(chosen) >= job.per_city:
            break
        tactic = str(rng.choice(list(TACTIC_MIX), p=list(TACTIC_MIX.values())))
        start = int(rng.integers(job.earliest_start, job.latest_start + 1))
        op = Operation(
            tactic,  # type: ignore[arg-type]
            (str(city.markets["market_id"].iat[int(k)]),),
            start=start,
            duration=job.duration,
            operation_id=f"V{run:05d}{len(chosen)}",
        )
        plan = sim.schedule(op)
        # Keep the areas (and a two-cell margin) of different operations apart.
        margin = _dilate(plan.target_mask | plan.buffer_mask, city.n, rings=2)
        if (margin & cut).any():
            sim.plans.pop()
            continue
        cut |= margin
        chosen.append(plan)
    if not chosen:
        return []
    res = sim.run()
    ev = res.events
    ev = ev[ev["recorded"].to_numpy()]
    cube = np.zeros((months, city.n_cells, len(type_names)), dtype=np.int64)
    np.add.at(cube, (ev["month"].to_numpy(), ev["cell"].to_numpy(), ev["type"].to_numpy()), 1)
    control = ~cut
    labels = [_label(job.start_month, m) for m in range(months)]
    harm_cols = kinds == "harm"
    out = []
    for plan in chosen:
        n_hist = plan.start - pre_months
        hist_t = cube[:n_hist][:, plan.target_mask][:, :, harm_cols].sum() / max(n_hist, 1)
        hist_b = cube[:n_hist][:, plan.buffer_mask][:, :, harm_cols].sum() / max(n_hist, 1)
        if hist_t < job.min_monthly or hist_b < job.min_monthly:
            continue
        masks = {"target": plan.target_mask, "buffer": plan.buffer_mask, "control": control}
        counts = _counts(cube, masks, labels, type_names, kinds, weights)
        iv = Intervention(
            name=plan.operation_id,
            target=AreaSpec.from_cells(
                zip(city.cell_x[plan.target_mask], city.cell_y[plan.target_mask], strict=True)
            ),
            buffer=AreaSpec.from_cells(
                zip(city.cell_x[plan.buffer_mask], city.cell_y[plan.buffer_mask], strict=True)
            ),
            control=AreaSpec.everything(),
            pre=Period(labels[plan.start - pre_months], labels[plan.start - 1]),
            post=Period(labels[plan.start], labels[plan.end - 1]),
            baseline_start=labels[0],
            control_scaling=job.control_scaling,
        )
        # Tiny panels fit some cells exactly; statsmodels warns about it, which is expected
        # here and silenced for this fit only (never for the whole process).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            try:
                evaluation = evaluate_counts(counts, iv, scheme=scheme)
            except EstimatorError:
                continue  # no answer from no data (e.g. an empty control period): redraw

        tot = effect_totals(res, plan.operation_id, range(plan.start, plan.end))
        truth = {
            (zone, what): tot.get(f"{zone}_recorded_{what}", 0.0)
            for zone in ("target", "buffer")
            for what in ("events", "harm")
        }
        base = {
            "operation_id": plan.operation_id,
            "city_seed": city_seed,
            "tactic": plan.op.tactic,
            "intensity": plan.op.intensity,
            "start_month": labels[plan.start],
            "buffer_effect": plan.buffer_kind,
            "buffer_effect_size": plan.buffer_size,
            "target_pre_events": evaluation.total("target", "pre"),
            "true_target_events": truth[("target", "events")],
            "true_buffer_events": truth[("buffer", "events")],
            "true_target_harm": truth[("target", "harm")],
            "true_buffer_harm": truth[("buffer", "harm")],
        }
        out.append(_score(evaluation, base, truth))
    return out


def _dilate(mask: np.ndarray, n: int, *, rings: int) -> np.ndarray:
    grid = mask.reshape(n, n)
    out = grid.copy()
    for _ in range(rings):
        g = out.copy()
        g[1:, :] |= out[:-1, :]
        g[:-1, :] |= out[1:, :]
        g[:, 1:] |= out[:, :-1]
        g[:, :-1] |= out[:, 1:]
        out = g
    return out.reshape(-1)


def _counts(
    cube: np.ndarray,
    masks: dict[str, np.ndarray],
    labels: list[str],
    types: list[str],
    kinds: np.ndarray,
    weights: np.ndarray,
) -> pd.DataFrame:
    """Counts in the shape of :func:`~harmscope.evaluate.intervention.area_counts`."""
    keep = kinds != "none"
    frames = []
    for role, mask in masks.items():
        m = cube[:, mask, :].sum(axis=1)[:, keep]  # months x types
        month_idx, type_idx = np.nonzero(m >= 0)
        frames.append(
            pd.DataFrame(
                {
                    "role": role,
                    "month": np.array(labels, dtype=object)[month_idx],
                    "event_type": np.array(types, dtype=object)[keep][type_idx],
                    "kind": kinds[keep][type_idx],
                    "weight": weights[keep][type_idx],
                    "count": m[month_idx, type_idx].astype(np.int64),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out[out["count"] > 0].reset_index(drop=True)


def _row(
    base: dict[str, Any],
    estimator: str,
    true: float,
    est: float | None,
    lo: float | None,
    hi: float | None,
    disp: bool | None,
    diff: bool | None,
) -> dict[str, Any]:
    nan = math.nan
    return base | {
        "estimator": estimator,
        "true_effect": true,
        "estimate": nan if est is None else est,
        "ci_low": nan if lo is None else lo,
        "ci_high": nan if hi is None else hi,
        "flag_displacement": disp,
        "flag_diffusion": diff,
    }


#: Estimators scored under their DESIGN names: the effect of the evaluation scored, and the
#: effect whose interval flags a shift in the buffer (displacement above 0, diffusion below).
SCORED: dict[str, tuple[str, str | None]] = {
    "wdd": ("wdd", "wdd_displacement"),
    "wdd_harm": ("wdd_harm", "wdd_harm_displacement"),
    "wdq": ("wdq_net", None),
    "did_count": ("did", "did_buffer"),
    "did_harm": ("did_harm", "did_harm_buffer"),
    "its_forecast": ("its", "its_buffer"),
}


def _true(e: Effect, truth: dict[tuple[str, str], float]) -> float:
    """The simulator's true effect for an effect's area and outcome."""
    what = "harm" if e.outcome == "harm" else "events"
    zones = {"target": ("target",), "buffer": ("buffer",)}.get(e.area, ("target", "buffer"))
    return sum(truth[(zone, what)] for zone in zones)


def _score(
    ev: Evaluation, base: dict[str, Any], truth: dict[tuple[str, str], float]
) -> list[dict[str, Any]]:
    """One row per scored effect: the built-in ones of :data:`SCORED`, then every registered
    estimator's effects, each against the truth of its area and outcome."""
    a = ev.intervention.alpha
    post_n = ev.intervention.post.n_months
    est = ev.estimates
    jobs = [(name, key, buf) for name, (key, buf) in SCORED.items()]
    jobs += [(key, key, None) for key in ev.extra]
    out = []
    for name, key, buf_key in jobs:
        e = est.get(key)
        if e is None:
            continue
        buf = est.get(buf_key) if buf_key else None
        disp = dif = None
        if buf is not None and buf.ci_low is not None and buf.ci_high is not None:
            disp, dif = bool(buf.ci_low > 0), bool(buf.ci_high < 0)
        if name == "wdq" and ev.wdq is not None:
            # The WDQ has no interval: its published reading is what flags the buffer.
            q = ev.wdq
            readable = q.success < 0 and math.isfinite(q.wdq)
            disp, dif = readable and q.wdq < 0, readable and q.wdq > 0
        row = _row(base, name, _true(e, truth), e.estimate, e.ci_low, e.ci_high, disp, dif)
        if key in ev.extra:
            row["estimand"] = f"{e.outcome}, {e.area} ({e.method})"
        out.append(row)
    if ev.etest_buffer_p is not None:
        # No effect size: the E-test only flags the buffer's rate, post vs pre.
        rose = ev.total("buffer", "post") / post_n > ev.total("buffer", "pre") / max(
            ev.intervention.pre.n_months, 1
        )
        sig = ev.etest_buffer_p < a
        total_events = truth[("target", "events")] + truth[("buffer", "events")]
        out.append(
            _row(base, "etest", total_events, None, None, None, sig and rose, sig and not rose)
        )
    return out


def _summarise(ops: pd.DataFrame) -> pd.DataFrame:
    rows = []
    names = dict(ESTIMATORS)
    if len(ops) and "estimand" in ops.columns:
        for name, estimand in ops.dropna(subset=["estimand"]).groupby("estimator")["estimand"]:
            names.setdefault(str(name), str(estimand.iloc[0]))
    for name, estimand in names.items():
        g = ops[ops["estimator"] == name] if len(ops) else ops
        if g.empty:
            continue
        has_ci = g["ci_low"].notna() & g["ci_high"].notna()
        has_est = g["estimate"].notna()
        cover = (
            float(
                ((g["ci_low"] <= g["true_effect"]) & (g["true_effect"] <= g["ci_high"]))[
                    has_ci
                ].mean()
            )
            if has_ci.any()
            else math.nan
        )
        err = (g["estimate"] - g["true_effect"])[has_est]
        true_mean = float(g.loc[has_est, "true_effect"].mean()) if has_est.any() else math.nan
        bias_abs = float(err.mean()) if has_est.any() else math.nan
        bias = bias_abs / abs(true_mean) if has_est.any() and true_mean != 0 else math.nan

        def rate(kind: str, col: str, g: pd.DataFrame = g) -> float:
            sel = g[(g["buffer_effect"] == kind) & g[col].notna()]
            return float(sel[col].astype(bool).mean()) if len(sel) else math.nan

        rows.append(
            {
                "estimator": name,
                "estimand": estimand,
                "n": len(g),
                "coverage": cover,
                "bias": bias,
                "bias_mcse": (
                    float(err.std(ddof=1) / math.sqrt(len(err)) / abs(true_mean))
                    if len(err) > 1 and true_mean != 0
                    else math.nan
                ),
                "bias_abs": bias_abs,
                "true_mean": true_mean,
                "rmse": float(np.sqrt((err**2).mean())) if has_est.any() else math.nan,
                "displacement_detected": rate("displacement", "flag_displacement"),
                "displacement_false_alarm": rate("none", "flag_displacement"),
                "diffusion_detected": rate("diffusion", "flag_diffusion"),
                "default": name == DEFAULT_ESTIMATOR,
            }
        )
    if not rows:
        raise EstimatorError("no operation could be evaluated")
    return pd.DataFrame(rows)
