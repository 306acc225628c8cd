"""The plain-language verdict of an evaluation: effects with intervals, read one way.

Every sentence words its interval with :func:`~harmscope.evaluate.estimate.interval_reading`,
so two estimators whose intervals lie on the same side of no change read the same. When
estimators of the same effect (same area, same outcome) disagree in sign or in whether their
interval excludes no change, the verdict says so and explains why from what each method
assumes. The WDQ is read only in the direction the buffer actually moved: it is never called
a diffusion of benefits while the buffer's crime or harm rose.

References
----------
Bowers, K. J., & Johnson, S. D. (2003). Measuring the geographical displacement and diffusion
of benefit effects of crime prevention activity. *J. Quantitative Criminology*, 19(3), 275-301.

Bernal, J. L., Cummins, S., & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *Int. J. Epidemiology*, 46(1),
348-355 (an ITS has no control: anything else that changed at the start is in its estimate).

Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7, 11 (Poisson variance).
"""

from __future__ import annotations

import math

from harmscope.evaluate.estimate import Effect, interval_reading, number
from harmscope.evaluate.readings import all_estimates
from harmscope.evaluate.result import EvaluationData as Evaluation
from harmscope.evaluate.spec import Role

__all__ = ["disagreements", "verdict_lines", "wdq_reading"]

# Why two estimator families can disagree about the same effect: what each one assumes.
_WHY: dict[frozenset[str], str] = {
    frozenset({"DiD", "ITS"}): (
        "the ITS forecasts the {area} from its own pre-period trend and season and has no "
        "control, while the DiD compares the {area} with the control over the same months; "
        "a change that also hit the control (season, a force-wide shift) is removed by the "
        "DiD and counted as effect by the ITS"
    ),
    frozenset({"DiD", "WDD"}): (
        "the WDD compares one pre total with one post total and takes the counts as Poisson "
        "(its variance is the count itself), while the DiD fits every month with area and "
        "month effects{dispersion}, so its interval also reflects month-to-month variation; "
        "prefer the DiD's reading (it is the one validated on simulated operations)"
    ),
    frozenset({"ITS", "WDD"}): (
        "the WDD compares the {area} with the control, the ITS with the {area}'s own "
        "pre-period trend and season (no control)"
    ),
}


def _pct_change(pre: float, post: float, pre_n: int, post_n: int) -> float:
    """Percentage change of the monthly rate (NaN when the pre period had none)."""
    if pre <= 0:
        return math.nan
    return 100.0 * ((post / post_n) / (pre / pre_n) - 1.0)


def _signed_pct(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{'+' if x >= 0 else '−'}{abs(x):.0f}%"


def _buffer_moves(ev: Evaluation) -> tuple[float, float, float]:
    """Measured monthly-rate changes, post vs pre, in percent: buffer crimes, buffer harm,
    control crimes."""
    iv = ev.intervention
    pre_n, post_n = iv.pre.n_months, iv.post.n_months

    def change(role: Role, col: str) -> float:
        return _pct_change(ev.total(role, "pre", col), ev.total(role, "post", col), pre_n, post_n)

    return change("buffer", "events"), change("buffer", "harm"), change("control", "events")


def _measured(ev: Evaluation) -> str:
    crimes, harm, control = _buffer_moves(ev)
    return (
        f"measured: buffer crimes {_signed_pct(crimes)} and harm {_signed_pct(harm)} a month, "
        f"control crimes {_signed_pct(control)}"
    )


def _shift_name(ev: Evaluation, relative: float) -> tuple[str | None, str]:
    """The name of a buffer shift in the direction ``relative`` (against the control), or
    None with the reason when the buffer's own crime or harm moved the other way.

    One rule for every reading: "diffusion of benefits" only when the buffer's crime and
    harm both fell, "displacement" only when both rose; otherwise the buffer merely did
    better or worse than the control's trend.
    """
    crimes, harm = _buffer_moves(ev)[:2]
    if relative < 0:
        if crimes < 0 and harm < 0:
            return "a diffusion of benefits", ""
        return None, "the buffer's own crime or harm rose, so this is not a diffusion of benefits"
    if crimes > 0 and harm > 0:
        return "displacement", ""
    return None, "the buffer's own crime or harm fell, so this is not a displacement"


def _buffer_sentence(ev: Evaluation, b: Effect) -> str:
    span = f"{b.sentence()} (against the control; {_measured(ev)})"
    if not b.significant:
        return (
            f"No shift of crime to or from the buffer was detected: {span}; a shift within "
            "that interval cannot be ruled out."
        )
    name, why = _shift_name(ev, b.estimate)
    if name is not None:
        return f"{name[0].upper()}{name[1:]} to the buffer was detected: {span}."
    better = "better" if b.estimate < 0 else "worse"
    return f"Buffer crime did {better} than the control's trend: {span}; but {why}."


def wdq_reading(ev: Evaluation) -> str | None:
    """The WDQ in words, in agreement with the measured buffer change.

    The quotient (Bowers & Johnson 2003) compares the buffer's and the target's counts with
    the control's. It is read as displacement or diffusion only when the buffer's own crime
    *and* harm moved that way (rates per month, post vs pre), the rule every buffer reading
    of the verdict follows; otherwise the sentence gives the measured changes and says why
    the quotient is not read. It has no interval.

    Parameters
    ----------
    ev : Evaluation (:class:`~harmscope.evaluate.result.EvaluationData` or its subclass)

    Returns
    -------
    str or None
        None when no WDQ was computed.
    """
    q = ev.wdq
    if q is None:
        return None
    head = f"WDQ {number(q.wdq, 2)}"
    if q.success >= 0 or not math.isfinite(q.wdq):
        return (
            f"{head}: not read, because crime in the target did not fall relative to the "
            f"control ({_measured(ev)})."
        )
    if q.wdq != 0:
        name, why = _shift_name(ev, -q.wdq)
        if name is None:
            better = "better" if q.wdq > 0 else "worse"
            return f"{head}: the buffer did {better} than the control's trend, but {why} ({_measured(ev)})."
    return f"{head}: {q.interpretation} ({_measured(ev)}; a point reading without an interval)."


def _short(e: Effect) -> str:
    verb = "excludes" if e.significant else "includes"
    return f"{e.method} {number(e.estimate)} ({e.interval()}, {verb} no change)"


def disagreements(estimates: dict[str, Effect]) -> list[str]:
    """One sentence for each effect on which estimators disagree in sign or significance.

    Parameters
    ----------
    estimates : dict of str to Effect
        As :attr:`Evaluation.estimates`.

    Returns
    -------
    list of str
        Per (area, outcome) estimated by two or more families (DiD, ITS, WDD) whose
        estimates differ in sign or in whether their interval excludes no change: every
        estimate with its interval, then why the families that disagree can differ.
    """
    groups: dict[tuple[str, str], list[Effect]] = {}
    for e in estimates.values():
        if e.has_interval and e.family in ("DiD", "ITS", "WDD"):
            groups.setdefault((e.area, e.outcome), []).append(e)
    out = []
    for (area, outcome), items in groups.items():
        how: list[str] = []
        whys: list[str] = []
        for i, a in enumerate(items):
            for b in items[i + 1 :]:
                pair = frozenset({a.family, b.family})
                sign = a.estimate * b.estimate < 0
                sig = a.significant != b.significant
                if len(pair) < 2 or not (sign or sig):
                    continue
                if sign and "direction" not in how:
                    how.append("direction")
                if sig and "significance" not in how:
                    how.append("significance")
                disp = next((e.notes[0] for e in (a, b) if e.family == "DiD" and e.notes), "")
                why = _WHY[pair].format(
                    area=area if area != "target + buffer" else "areas",
                    dispersion=f" ({disp})" if disp else "",
                )
                if why not in whys:
                    whys.append(why)
        if how:
            unit = items[0].unit
            out.append(
                f"The estimators disagree in {' and '.join(how)} on {outcome} in the {area} "
                f"({unit}): "
                + "; ".join(_short(e) for e in items)
                + ". Why: "
                + "; ".join(whys)
                + "."
            )
    return out


def _change(e: Effect, what: str) -> str:
    direction = "fell" if e.estimate < 0 else "rose"
    tail = interval_reading(e.ci_low, e.ci_high, alpha=e.alpha) + (
        "" if e.significant else ", so it cannot be told apart from chance"
    )
    return (
        f"{what} {direction} by an estimated {number(abs(e.estimate))} {e.unit} "
        f"({e.interval()}) relative to the control; {tail}."
    )


def verdict_lines(ev: Evaluation) -> list[str]:
    """Plain-language sentences: the effect on harm and on crime, with intervals, what
    happened in the buffer, and where the estimators disagree.

    Parameters
    ----------
    ev : Evaluation (:class:`~harmscope.evaluate.result.EvaluationData` or its subclass)

    Returns
    -------
    list of str
        With a control, the headline is the difference-in-differences GLM on the monthly
        panel (the estimator validated on the simulator): harm, then recorded crime, then
        the buffer, then the WDD and WDQ as cross-checks. Without one, the interrupted time
        series forecast. Every interval is read by
        :func:`~harmscope.evaluate.estimate.interval_reading`; disagreements between
        estimators of the same effect close the verdict (:func:`disagreements`).
    """
    iv = ev.intervention
    est = all_estimates(ev)
    conf = f"{100 * (1 - iv.alpha):g}%"
    lines: list[str] = []
    if "did_harm" in est:
        dh, r = est["did_harm"], ev.did_harm
        assert r is not None
        lines.append(
            _change(dh, "Harm in the target area")
            + f" That is {abs(100 * (r.irr - 1)):.0f}% {'less' if r.irr < 1 else 'more'} harm "
            f"than expected (rate ratio {r.irr:.2f}, {r.ci_low:.2f} to {r.ci_high:.2f})."
        )
    if "did" in est:
        lines.append(_change(est["did"], "Recorded crime (harm types) in the target area"))
    if "did_buffer" in est:
        lines.append(_buffer_sentence(ev, est["did_buffer"]))
    if "wdd" in est:
        w = est["wdd"]
        what = "target and buffer together" if iv.buffer is not None else "target"
        lines.append(
            f"Cross-check: the weighted displacement difference ({what}) "
            f"is {w.sentence()} (p = {w.p:.3f})."
        )
    if "wdd_displacement" in est:
        lines.append(f"Its buffer part (displacement +) is {est['wdd_displacement'].sentence()}.")
    q = wdq_reading(ev)
    if q is not None:
        lines.append(q)
    if ev.did is None and ev.its is not None:
        f = ev.its
        lines.append(
            f"Recorded crime (harm types) in the target over {iv.post} was {number(f.observed)} "
            f"against {number(f.counterfactual)} expected from the pre-period trend and "
            f"seasonality: {abs(100 * (f.ratio - 1)):.0f}% {'lower' if f.ratio < 1 else 'higher'} "
            f"(ratio {f.ratio:.2f}, {conf} PI {f.ratio_ci_low:.2f} to {f.ratio_ci_high:.2f}; "
            f"{interval_reading(f.ratio_ci_low, f.ratio_ci_high, null=1.0, alpha=iv.alpha)})."
        )
        if ev.its_harm is not None:
            h = ev.its_harm
            lines.append(
                f"Harm was {number(h.observed)} {ev.unit} against {number(h.counterfactual)} "
                f"expected: {number(abs(h.difference))} {ev.unit} "
                f"{'less' if h.difference < 0 else 'more'} ({conf} PI "
                f"{number(h.difference_ci_low)} to {number(h.difference_ci_high)}; ratio "
                f"{h.ratio:.2f}, {h.ratio_ci_low:.2f} to {h.ratio_ci_high:.2f}; "
                f"{interval_reading(h.difference_ci_low, h.difference_ci_high, alpha=iv.alpha)})."
            )
        lines.append(
            f"This forecast rests on {f.n_pre} pre-period months continuing their trend and "
            "season; anything else that changed at the same time is part of the estimate."
        )
    lines.extend(disagreements(est))
    if not lines:
        lines.append(
            "No estimate could be made: "
            + ("; ".join(ev.notes) if ev.notes else "the areas have no events in these periods")
            + "."
        )
    return lines
