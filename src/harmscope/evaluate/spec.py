"""What an evaluation evaluates: the areas, periods and options of an intervention.

:class:`Intervention` names the target, buffer and control areas (:class:`AreaSpec`), the
pre and post periods (:class:`Period`), the weight scheme and the options; it loads from TOML
or JSON (:func:`load_intervention`) so that a recorded operation is evaluated by the same
code. :func:`resolve_areas` turns ``lad:`` areas into their LSOAs from the warehouse.

References
----------
Ratcliffe, J. H., Taniguchi, T., Groff, E. R., & Wood, J. D. (2011). The Philadelphia Foot
Patrol Experiment. *Criminology*, 49(3), 795-831 (target, buffer and control areas).

Bernal, J. L., Cummins, S., & Gasparrini, A. (2017). Interrupted time series regression for
the evaluation of public health interventions: a tutorial. *Int. J. Epidemiology*, 46(1),
348-355 (a baseline of at least a year before the interruption).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from harmscope.errors import InputError
from harmscope.evaluate.areas import AreaSpec, parse_area
from harmscope.harm.selection import DEFAULT_HARM, check_harm, check_types

__all__ = [
    "ROLES",
    "Intervention",
    "Period",
    "Role",
    "Scaling",
    "load_intervention",
    "month",
    "resolve_areas",
]

Role = Literal["target", "buffer", "control"]
ROLES: tuple[Role, ...] = ("target", "buffer", "control")
Scaling = Literal["pre", "none"]


# ---------------------------------------------------------------------- periods -----------
@dataclass(frozen=True)
class Period:
    """An inclusive range of months.

    Parameters
    ----------
    start, end : str
        First and last month, ``YYYY-MM``.
    """

    start: str
    end: str

    def __post_init__(self) -> None:
        s, e = month(self.start), month(self.end)
        if e < s:
            raise ValueError(f"period {self.start}:{self.end} ends before it starts")
        object.__setattr__(self, "start", str(s))
        object.__setattr__(self, "end", str(e))

    @classmethod
    def parse(cls, value: str | Mapping[str, Any] | Period) -> Period:
        """``"YYYY-MM:YYYY-MM"``, a single ``"YYYY-MM"``, or ``{start, end}``."""
        if isinstance(value, Period):
            return value
        if isinstance(value, Mapping):
            return cls(str(value["start"]), str(value.get("end", value["start"])))
        text = str(value).strip()
        if ":" in text:
            a, b = text.split(":", 1)
            return cls(a.strip(), b.strip())
        return cls(text, text)

    @cached_property
    def months(self) -> list[str]:
        """Every month of the period, ``YYYY-MM``."""
        return [str(p) for p in pd.period_range(self.start, self.end, freq="M")]

    @property
    def n_months(self) -> int:
        """Number of months."""
        return len(self.months)

    def __str__(self) -> str:
        return self.start if self.start == self.end else f"{self.start} to {self.end}"


def month(value: str) -> pd.Period:
    """A ``YYYY-MM`` month as a pandas monthly period (ValueError otherwise)."""
    text = str(value).strip()
    if not _MONTH_RE.match(text):
        raise ValueError(f"month {value!r}: expected YYYY-MM (e.g. 2019-04)")
    return pd.Period(text, freq="M")


_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# ---------------------------------------------------------------------- intervention ------
@dataclass(frozen=True)
class Intervention:
    """An operation (or any change) to evaluate: areas, periods and the weight scheme.

    Parameters
    ----------
    name : str
        Name shown in reports.
    target : AreaSpec
        Where the intervention happened.
    pre, post : Period
        Months before (the baseline) and during/after the intervention.
    buffer : AreaSpec, optional
        Catchment around the target where crime may be displaced or benefits diffuse.
        Events in the target are never counted in the buffer.
    control : AreaSpec, optional
        Comparison area with no intervention. Events in the target or buffer are never
        counted in it, so ``all`` means "the rest of the force".
    scheme : str
        Weight scheme name or TOML path (default ``cchi``).
    baseline_start : str, optional
        First month of the series used for the interrupted time series trend and
        seasonality (default: the pre-period start). Needs 14 months before ``post``.
    control_scaling : {"pre", "none"}
        Rescale the control to each area's pre-period level in the WDD (default ``pre``;
        see the module docstring) or use raw counts (``none``).
    alpha : float
        Significance level of every interval (default 0.05: 95% intervals).
    description, operation_id : str
        Free text, and the id of a recorded operation this evaluates.
    harm : {'drug', 'all'}
        View of harm of the harm estimators (harm WDD, DiD and ITS on harm): drug-attributed
        (default: each type's weight times its central drug-attributable share) or every
        crime's. Crime counts do not depend on it.
    types : tuple of str, optional
        Only these crime types (police.uk names, any case) are counted, crime and harm
        alike; None counts every type.
    """

    name: str
    target: AreaSpec
    pre: Period
    post: Period
    buffer: AreaSpec | None = None
    control: AreaSpec | None = None
    scheme: str = "cchi"
    baseline_start: str | None = None
    control_scaling: Scaling = "pre"
    alpha: float = 0.05
    description: str = ""
    operation_id: str = ""
    harm: str = DEFAULT_HARM
    types: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "harm", check_harm(self.harm))
        object.__setattr__(self, "types", check_types(self.types))
        if self.target.kind == "ring":
            raise ValueError("the target cannot be a ring: rings are buffers around a target")
        if self.control is not None and self.control.kind == "ring":
            raise ValueError("the control cannot be a ring around the target")
        if self.buffer is not None and self.buffer.kind == "all":
            raise ValueError("the buffer cannot be 'all': give LSOAs, cells, polygons or a ring")
        if self.target.kind == "all" and (self.buffer is not None or self.control is not None):
            raise ValueError(
                "a target of 'all' events leaves nothing for a buffer or control; "
                "evaluate it against its own pre-period trend (no buffer, no control)"
            )
        # A ring around cells or polygons is drawn now; around LSOAs it needs their
        # boundaries from the warehouse, so area_counts draws it.
        if (
            self.buffer is not None
            and self.buffer.kind == "ring"
            and self.target.kind in ("cells", "polygons")
        ):
            object.__setattr__(self, "buffer", self.buffer.resolve_ring(self.target))
        if month(self.post.start) <= month(self.pre.end):
            raise ValueError(
                f"the post period ({self.post}) must start after the pre period ({self.pre})"
            )
        if self.baseline_start is not None:
            b = month(self.baseline_start)
            if b > month(self.pre.start):
                raise ValueError("baseline_start must not be after the pre-period start")
            object.__setattr__(self, "baseline_start", str(b))
        if self.control_scaling not in ("pre", "none"):
            raise ValueError(
                f"control_scaling must be 'pre' or 'none', got {self.control_scaling!r}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")

    @property
    def areas(self) -> dict[Role, AreaSpec]:
        """The areas given, by role, in precedence order."""
        out: dict[Role, AreaSpec] = {"target": self.target}
        if self.buffer is not None:
            out["buffer"] = self.buffer
        if self.control is not None:
            out["control"] = self.control
        return out

    @cached_property
    def series_months(self) -> list[str]:
        """Every month from the baseline (or pre) start to the post end."""
        first = self.baseline_start or self.pre.start
        return [str(p) for p in pd.period_range(first, self.post.end, freq="M")]

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, base: Path | None = None) -> Intervention:
        """Build from a parsed TOML/JSON document (see :func:`load_intervention`)."""
        known = {
            "name",
            "target",
            "buffer",
            "control",
            "pre",
            "post",
            "scheme",
            "baseline_start",
            "control_scaling",
            "alpha",
            "description",
            "operation_id",
            "harm",
            "types",
        }
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
        for key in ("target", "pre", "post"):
            if key not in doc:
                raise ValueError(f"missing {key!r}")

        def area(key: str) -> AreaSpec | None:
            if doc.get(key) is None:
                return None
            try:
                return parse_area(doc[key], base=base)
            except InputError:
                raise
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{key}: {exc}") from None

        target = area("target")
        assert target is not None
        return cls(
            name=str(doc.get("name", "intervention")),
            target=target,
            buffer=area("buffer"),
            control=area("control"),
            pre=Period.parse(doc["pre"]),
            post=Period.parse(doc["post"]),
            scheme=str(doc.get("scheme", "cchi")),
            baseline_start=doc.get("baseline_start"),
            control_scaling=doc.get("control_scaling", "pre"),
            alpha=float(doc.get("alpha", 0.05)),
            description=str(doc.get("description", "")),
            operation_id=str(doc.get("operation_id", "")),
            harm=str(doc.get("harm", DEFAULT_HARM)),
            types=_types(doc.get("types")),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document that :meth:`from_dict` reads back."""
        out: dict[str, Any] = {
            "name": self.name,
            "target": self.target.to_dict(),
            "pre": f"{self.pre.start}:{self.pre.end}",
            "post": f"{self.post.start}:{self.post.end}",
            "scheme": self.scheme,
            "control_scaling": self.control_scaling,
            "alpha": self.alpha,
            "harm": self.harm,
        }
        if self.types is not None:
            out["types"] = list(self.types)
        if self.buffer is not None:
            out["buffer"] = self.buffer.to_dict()
        if self.control is not None:
            out["control"] = self.control.to_dict()
        if self.baseline_start:
            out["baseline_start"] = self.baseline_start
        if self.description:
            out["description"] = self.description
        if self.operation_id:
            out["operation_id"] = self.operation_id
        return out


def _types(value: Any) -> tuple[str, ...] | None:
    """The ``types`` key: a list of crime types (or one name); None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"types: expected a list of crime type names, got {value!r}")
    return tuple(value)


def load_intervention(path: str | Path) -> Intervention:
    """Read an :class:`Intervention` from a TOML or JSON file.

    Parameters
    ----------
    path : str or Path
        ``.toml`` or ``.json``. Keys: ``name``, ``target``, ``buffer``, ``control`` (each an
        area string such as ``"lsoa:E01000001,E01000002"``, ``"ring:500"``, a file path
        relative to the spec, or a table such as ``{lsoas = [...]}``), ``pre`` and ``post``
        (``"YYYY-MM:YYYY-MM"``), and optionally ``scheme``, ``baseline_start``,
        ``control_scaling``, ``alpha``, ``description``, ``operation_id``, ``harm``
        (``"drug"``, the default, or ``"all"``) and ``types`` (a list of police.uk crime
        types).

    Returns
    -------
    Intervention

    Raises
    ------
    InputError
        The file is missing or malformed; the message names the file and the key.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    text = p.read_text(encoding="utf-8-sig")
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg})", path=str(p), line=exc.lineno, column=exc.colno
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=str(p)) from None
    if not isinstance(doc, Mapping):
        raise InputError("expected a table of keys at the top level", path=str(p))
    try:
        return Intervention.from_dict(doc, base=p.parent)
    except InputError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(str(exc), path=str(p)) from None


def resolve_areas(intervention: Intervention, source: Any) -> Intervention:
    """The intervention with its ``lad:`` areas resolved to their LSOAs from the warehouse.

    Parameters
    ----------
    intervention : Intervention
    source : str, Path or Ibis backend
        The warehouse holding the ``areas`` table (``harmscope load-areas``).

    Returns
    -------
    Intervention
        The same intervention when it has no district areas.
    """
    changes: dict[str, Any] = {
        role: spec.resolve_lads(source)
        for role, spec in intervention.areas.items()
        if spec.kind == "lad"
    }
    return replace(intervention, **changes) if changes else intervention
