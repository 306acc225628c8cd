"""Weighted displacement quotient (WDQ) and total net effect.

References
----------
Bowers, K. J., & Johnson, S. D. (2003). Measuring the geographical displacement and diffusion
of benefit effects of crime prevention activity. *Journal of Quantitative Criminology*, 19(3),
275-301. https://doi.org/10.1023/A:1024909009240

Guerette, R. T. (2009). *Analyzing crime displacement and diffusion* (Problem-Oriented Guides
for Police, Problem-Solving Tools Series No. 10). Center for Problem-Oriented Policing.
Appendix B (formulas), C (interpretation) and D (Lancashire worked example).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harmscope.errors import EstimatorError
from harmscope.evaluate import _checks
from harmscope.evaluate.estimate import Estimate

__all__ = ["WDQResult", "wdq"]


@dataclass(frozen=True, kw_only=True)
class WDQResult(Estimate):
    """Result of :func:`wdq`. Subscripts: ``b`` = before, ``a`` = after.

    As an :class:`~harmscope.evaluate.estimate.Estimate`, ``estimate`` is the quotient
    (``wdq``) with no interval and no p-value (the WDQ has no standard error).

    Attributes
    ----------
    success : float
        Success measure ``Ra/Ca - Rb/Cb`` (the WDQ denominator). Negative: crime in the
        response area fell relative to the control area (the response worked).
    buffer_measure : float
        Buffer displacement measure ``Da/Ca - Db/Cb`` (the WDQ numerator). Positive: possible
        displacement into the buffer; negative: possible diffusion of benefits.
    wdq : float
        ``buffer_measure / success``. NaN when ``success == 0`` (no change to relate to).
    net_effect : float
        Net effect ``Rb/Cb - Ra/Ca`` (Guerette 2009, eq. 2) = ``-success``; positive = decrease.
    total_net_effect : float
        ``[Rb (Ca/Cb) - Ra] + [Db (Ca/Cb) - Da]``, in crimes: crimes prevented in the response
        area plus crimes prevented in the buffer, each against the control-area trend.
        Positive = net crimes prevented; negative = net crimes added.
    gross_effect : float
        ``Rb - Ra`` in crimes (positive = decrease), ignoring the control area.
    """

    success: float
    buffer_measure: float
    wdq: float
    net_effect: float
    total_net_effect: float
    gross_effect: float
    ci_low: float | None = None
    ci_high: float | None = None
    p: float | None = None
    unit: str = "quotient"
    method: str = "WDQ (Bowers & Johnson 2003)"
    notes: tuple[str, ...] = ("no standard error: read it beside the WDD",)

    @property
    def interpretation(self) -> str:
        """Plain-language reading of the quotient (Guerette 2009, Appendix C)."""
        if self.success >= 0 or math.isnan(self.wdq):
            return (
                "no success in the response area relative to the control area, "
                "so the WDQ cannot be read as displacement or diffusion"
            )
        if self.wdq > 1:
            return "diffusion of benefits larger than the direct effect"
        if self.wdq > 0:
            return "diffusion of benefits (the direct effect was amplified)"
        if self.wdq == 0:
            return "no displacement or diffusion in the buffer"
        if self.wdq >= -1:
            return "some displacement, smaller than the direct effect (a net benefit remains)"
        return "displacement larger than the direct effect (the benefit was erased)"


def wdq(
    response: Sequence[float],
    buffer: Sequence[float],
    control: Sequence[float],
) -> WDQResult:
    r"""Weighted displacement quotient (Bowers & Johnson 2003) with the total net effect.

    Parameters
    ----------
    response : (pre, post)
        Crime counts in the response (target) area, ``(Rb, Ra)``.
    buffer : (pre, post)
        Counts in the buffer (displacement catchment) zone around it, ``(Db, Da)``.
    control : (pre, post)
        Counts in the control (comparison) area, ``(Cb, Ca)``; both must be > 0.

    Returns
    -------
    WDQResult

    Notes
    -----
    All ratios use the control area as the yardstick for the background trend:

    .. math::

        \text{success} = \frac{R_a}{C_a} - \frac{R_b}{C_b}, \qquad
        \text{buffer} = \frac{D_a}{C_a} - \frac{D_b}{C_b}, \qquad
        \mathrm{WDQ} = \frac{\text{buffer}}{\text{success}}

    .. math::

        \mathrm{TNE} = \left[R_b \frac{C_a}{C_b} - R_a\right]
                     + \left[D_b \frac{C_a}{C_b} - D_a\right]

    Reading (Bowers & Johnson 2003; Guerette 2009, Appendix C), only meaningful when
    ``success < 0``: WDQ > 1 diffusion greater than the direct effect; 0 < WDQ <= 1
    diffusion of benefits; 0 no buffer effect; -1 <= WDQ < 0 displacement smaller than the
    direct effect; WDQ < -1 displacement larger than the direct effect. WDQ = -1 is complete
    displacement: every crime prevented in the response area reappeared in the buffer.
    The WDQ has no standard error; pair it with :func:`harmscope.evaluate.wdd` for inference.

    Examples
    --------
    >>> r = wdq(response=(100, 50), buffer=(100, 150), control=(100, 100))
    >>> r.success, r.buffer_measure, r.wdq, r.total_net_effect
    (-0.5, 0.5, -1.0, 0.0)
    """
    rb, ra = _checks.pre_post(response, "response")
    db, da = _checks.pre_post(buffer, "buffer")
    cb, ca = _checks.pre_post(control, "control")
    if cb == 0 or ca == 0:
        raise EstimatorError(
            f"control counts must both be > 0 (they are the denominators), got {(cb, ca)}"
        )
    success = ra / ca - rb / cb
    buffer_measure = da / ca - db / cb
    quotient = buffer_measure / success if success != 0 else math.nan
    ratio = ca / cb
    return WDQResult(
        estimate=quotient,
        success=success,
        buffer_measure=buffer_measure,
        wdq=quotient,
        net_effect=rb / cb - ra / ca,
        total_net_effect=(rb * ratio - ra) + (db * ratio - da),
        gross_effect=rb - ra,
    )
