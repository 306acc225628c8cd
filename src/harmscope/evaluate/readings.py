"""Every result of an evaluation as an :class:`~harmscope.evaluate.estimate.Effect`.

The estimators return their own detailed results (:class:`~harmscope.evaluate.wdd.WDDResult`,
:class:`~harmscope.evaluate.did.DiDResult`, ...). :func:`estimates_of` puts each effect an
:class:`~harmscope.evaluate.intervention.Evaluation` made into the one shape, in report
order (the headline DiD first), so the report, the verdict and the JSON loop over them.

References
----------
Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test to
evaluate place based crime interventions. *Crime Science*, 7, 11 (WDD local and displacement
parts, each with its Poisson standard error).

Bowers, K. J., & Johnson, S. D. (2003). Measuring the geographical displacement and diffusion
of benefit effects of crime prevention activity. *J. Quantitative Criminology*, 19(3), 275-301.
"""

from __future__ import annotations

import math

from harmscope.evaluate._checks import z_crit
from harmscope.evaluate.estimate import Effect
from harmscope.evaluate.result import EvaluationData as Evaluation

__all__ = ["all_estimates", "estimates_of"]


def _family(family: str, cov_type: str) -> str:
    if family == "quasi-poisson" or (family == "poisson" and cov_type == "quasi"):
        return "quasi-Poisson"
    return {"poisson": "Poisson", "negbin": "negative binomial"}.get(family, family)


def estimates_of(ev: Evaluation) -> dict[str, Effect]:
    """The effects of an evaluation, by name, in report order.

    Parameters
    ----------
    ev : Evaluation (:class:`~harmscope.evaluate.result.EvaluationData` or its subclass)

    Returns
    -------
    dict of str to Effect
        Names: ``did_harm, did, did_harm_buffer, did_buffer`` (DiD GLMs), ``wdd``,
        ``wdd_local``, ``wdd_displacement``, ``wdd_harm``, ``wdd_harm_displacement`` (WDD and
        its parts), ``wdq_net`` (minus the WDQ total net effect, no interval), ``its``,
        ``its_harm``, ``its_buffer`` (ITS forecasts). Only those the evaluation made.
    """
    iv = ev.intervention
    a = iv.alpha
    unit = ev.unit
    z = z_crit(a)
    out: dict[str, Effect] = {}
    for name, res, area, outcome in (
        ("did_harm", ev.did_harm, "target", "harm"),
        ("did", ev.did, "target", "crimes"),
        ("did_harm_buffer", ev.did_harm_buffer, "buffer", "harm"),
        ("did_buffer", ev.did_buffer, "buffer", "crimes"),
    ):
        if res is None:
            continue
        disp = (
            f"dispersion {res.dispersion:.1f}"
            if res.cov_type == "quasi" and math.isfinite(res.dispersion)
            else ""
        )
        out[name] = Effect(
            estimate=res.difference,
            ci_low=res.difference_ci_low,
            ci_high=res.difference_ci_high,
            p=res.p,
            unit=unit if outcome == "harm" else "crimes",
            method=f"DiD {_family(res.family, res.cov_type)} GLM, monthly panel",
            notes=(disp,) if disp else (),
            area=area,
            outcome=outcome,
            family="DiD",
            ratio=res.irr,
            ratio_low=res.ci_low,
            ratio_high=res.ci_high,
            alpha=a,
        )
    if ev.wdd is not None:
        r = ev.wdd
        out["wdd"] = Effect(
            estimate=r.estimate,
            ci_low=r.ci_low,
            ci_high=r.ci_high,
            p=r.p,
            unit="crimes",
            method="WDD (Wheeler & Ratcliffe 2018)",
            area="target + buffer" if iv.buffer is not None else "target",
            family="WDD",
            alpha=a,
        )
        if iv.buffer is not None:
            for key, e, se, area in (
                ("wdd_local", r.local_estimate, r.local_se, "target"),
                ("wdd_displacement", r.displacement_estimate, r.displacement_se, "buffer"),
            ):
                out[key] = Effect(
                    estimate=e,
                    ci_low=e - z * se,
                    ci_high=e + z * se,
                    p=None,
                    unit="crimes",
                    method=f"WDD {'local' if area == 'target' else 'displacement'} part",
                    area=area,
                    family="WDD",
                    alpha=a,
                )
    if ev.wdd_harm is not None:
        h = ev.wdd_harm
        out["wdd_harm"] = Effect(
            estimate=h.estimate,
            ci_low=h.ci_low,
            ci_high=h.ci_high,
            p=h.p,
            unit=unit,
            method="harm-weighted WDD (Wheeler 2020)",
            area="target + buffer" if iv.buffer is not None else "target",
            outcome="harm",
            family="WDD",
            alpha=a,
        )
        if iv.buffer is not None:
            pairs = list(zip(h.weights, h.components, strict=True))
            d = sum(w * c.displacement_estimate for w, c in pairs)
            dse = math.sqrt(sum((w * c.displacement_se) ** 2 for w, c in pairs))
            out["wdd_harm_displacement"] = Effect(
                estimate=d,
                ci_low=d - z * dse,
                ci_high=d + z * dse,
                p=None,
                unit=unit,
                method="harm-weighted WDD displacement part",
                area="buffer",
                outcome="harm",
                family="WDD",
                alpha=a,
            )
    if ev.wdq is not None:
        out["wdq_net"] = Effect(
            estimate=-ev.wdq.total_net_effect * iv.post.n_months,
            ci_low=None,
            ci_high=None,
            p=None,
            unit="crimes",
            method="WDQ total net effect (Bowers & Johnson 2003), sign flipped",
            notes=("the WDQ has no standard error: read it beside the WDD",),
            area="target + buffer",
            family="WDQ",
            alpha=a,
        )
    for name, f, area, outcome in (
        ("its", ev.its, "target", "crimes"),
        ("its_harm", ev.its_harm, "target", "harm"),
        ("its_buffer", ev.its_buffer, "buffer", "crimes"),
    ):
        if f is None:
            continue
        out[name] = Effect(
            estimate=f.difference,
            ci_low=f.difference_ci_low,
            ci_high=f.difference_ci_high,
            p=None,
            unit=unit if outcome == "harm" else "crimes",
            method="ITS forecast (pre-period trend + season)",
            notes=(f"{f.n_pre} pre-period months, no control",),
            area=area,
            outcome=outcome,
            family="ITS",
            ratio=f.ratio,
            ratio_low=f.ratio_ci_low,
            ratio_high=f.ratio_ci_high,
            alpha=a,
        )
    return out


def all_estimates(ev: Evaluation) -> dict[str, Effect]:
    """Every estimate of an evaluation, by name: the built-in ones (:func:`estimates_of`)
    then those of registered estimators (``ev.extra``) under names not already taken."""
    built_in = estimates_of(ev)
    return built_in | {k: v for k, v in ev.extra.items() if k not in built_in}
