"""What the readings and the verdict read of an evaluation: a structural type.

:class:`~harmscope.evaluate.intervention.Evaluation` is built by the run
(:mod:`~harmscope.evaluate.intervention`), which also derives its readings
(:func:`~harmscope.evaluate.readings.estimates_of`) and verdict
(:func:`~harmscope.evaluate.verdict.verdict_lines`). Those two modules therefore must not
import the run back; they take any object with the members below, which an ``Evaluation``
has (mypy checks that where the run passes one), so the modules import in one direction:
``intervention -> readings, verdict -> view``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from harmscope.evaluate.did import DiDResult
    from harmscope.evaluate.estimate import Effect
    from harmscope.evaluate.its import ITSForecast
    from harmscope.evaluate.spec import Intervention, Role
    from harmscope.evaluate.wdd import WDDHarmResult, WDDResult
    from harmscope.evaluate.wdq import WDQResult

__all__ = ["EvaluationView"]


class EvaluationView(Protocol):
    """The read-only members of an evaluation that its readings and verdict use."""

    @property
    def intervention(self) -> Intervention: ...

    @property
    def unit(self) -> str: ...

    @property
    def notes(self) -> list[str]: ...

    @property
    def estimates(self) -> dict[str, Effect]: ...

    @property
    def wdd(self) -> WDDResult | None: ...

    @property
    def wdd_harm(self) -> WDDHarmResult | None: ...

    @property
    def wdq(self) -> WDQResult | None: ...

    @property
    def did(self) -> DiDResult | None: ...

    @property
    def did_harm(self) -> DiDResult | None: ...

    @property
    def did_buffer(self) -> DiDResult | None: ...

    @property
    def did_harm_buffer(self) -> DiDResult | None: ...

    @property
    def its(self) -> ITSForecast | None: ...

    @property
    def its_harm(self) -> ITSForecast | None: ...

    @property
    def its_buffer(self) -> ITSForecast | None: ...

    def total(self, role: Role, period: str, column: str = "events") -> float:
        """A total of one role, period (``pre``/``post``) and column."""
        ...
