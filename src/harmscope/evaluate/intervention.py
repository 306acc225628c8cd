"""Evaluate an intervention end to end: areas and periods in, estimates and a verdict out.

:class:`Intervention` names the target, buffer and control areas, the pre and post periods
and the weight scheme; it loads from TOML or JSON so that a recorded operation can be
evaluated by the same code. :func:`area_counts` pulls event counts per area, month and event
type from the warehouse (one Ibis query; polygons matched with shapely on the aggregated
locations). :func:`evaluate_counts` runs the estimators on those counts and
:func:`evaluate_intervention` does both.

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

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from harmscope.errors import EstimatorError, InputError, WarehouseError
from harmscope.evaluate.areas import AreaSpec, area_mask, parse_area
from harmscope.evaluate.did import DiDResult, did_count, did_harm
from harmscope.evaluate.estimate import Estimate
from harmscope.evaluate.etest import etest
from harmscope.evaluate.its import ITSForecast, its_forecast
from harmscope.evaluate.readings import estimates_of
from harmscope.evaluate.verdict import verdict_lines
from harmscope.evaluate.wdd import WDDHarmResult, WDDResult, wdd, wdd_harm
from harmscope.evaluate.wdq import WDQResult, wdq
from harmscope.harm import load_scheme, weigh
from harmscope.harm.schemes import Scheme
from harmscope.places.study_area import lsoa_geometry

__all__ = [
    "Evaluation",
    "Intervention",
    "Period",
    "area_counts",
    "evaluate_counts",
    "evaluate_intervention",
    "load_intervention",
    "resolve_areas",
    "searches_loaded",
    "verdict_lines",
]

Role = Literal["target", "buffer", "control"]
ROLES: tuple[Role, ...] = ("target", "buffer", "control")
Scaling = Literal["pre", "none"]
Progress = Callable[[str, int, int], None]
COUNT_COLUMNS = ("role", "month", "event_type", "kind", "weight", "count")
#: Months before the post period that the ITS forecast needs (trend + 11 seasonal terms).
ITS_MIN_PRE = 14


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
        s, e = _month(self.start), _month(self.end)
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


def _month(value: str) -> pd.Period:
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

    def __post_init__(self) -> None:
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
        if _month(self.post.start) <= _month(self.pre.end):
            raise ValueError(
                f"the post period ({self.post}) must start after the pre period ({self.pre})"
            )
        if self.baseline_start is not None:
            b = _month(self.baseline_start)
            if b > _month(self.pre.start):
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
        }
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


def load_intervention(path: str | Path) -> Intervention:
    """Read an :class:`Intervention` from a TOML or JSON file.

    Parameters
    ----------
    path : str or Path
        ``.toml`` or ``.json``. Keys: ``name``, ``target``, ``buffer``, ``control`` (each an
        area string such as ``"lsoa:E01000001,E01000002"``, ``"ring:500"``, a file path
        relative to the spec, or a table such as ``{lsoas = [...]}``), ``pre`` and ``post``
        (``"YYYY-MM:YYYY-MM"``), and optionally ``scheme``, ``baseline_start``,
        ``control_scaling``, ``alpha``, ``description``, ``operation_id``.

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


# ---------------------------------------------------------------------- counts ------------
def _prefilter(table: ir.Table, areas: Mapping[Role, AreaSpec]) -> ir.Table:
    """Engine-side filter to rows that can be in any area (bounding boxes, LSOA lists)."""
    conds = []
    for spec in areas.values():
        if spec.kind == "all":
            return table
        if spec.kind == "lsoas":
            conds.append(table.lsoa_code.isin(list(spec.lsoas)))
        else:
            minx, miny, maxx, maxy = spec.polygon().bounds
            conds.append(table.x.between(minx, maxx) & table.y.between(miny, maxy))
    cond = conds[0]
    for c in conds[1:]:
        cond = cond | c
    return table.filter(cond)


def area_counts(
    intervention: Intervention,
    *,
    db: str | Path | None = None,
    con: Any = None,
    events: ir.Table | None = None,
) -> pd.DataFrame:
    """Event counts per area role, month and event type, from the warehouse.

    Parameters
    ----------
    intervention : Intervention
        Areas, periods and scheme.
    db : str or Path, optional
        Warehouse DuckDB file (default ``$HARMSCOPE_DB`` or ``harmscope.duckdb``).
    con : ibis backend, optional
        An open Ibis connection (used instead of ``db``).
    events : ibis.Table, optional
        The events table itself (used instead of ``db``/``con``).

    Returns
    -------
    pandas.DataFrame
        ``role`` (target/buffer/control), ``month`` (``YYYY-MM``), ``event_type`` (the scheme
        key: stop-and-search rows are ``Stop and search``), ``kind`` (harm/activity),
        ``weight`` (scheme unit per event) and ``count``. Street crimes and ASB are harm
        or activity as the scheme says; stop-and-searches are activity; outcome rows are not
        counted. Each event is counted once, in the first of target, buffer, control that
        contains it. Months from ``baseline_start`` (or the pre start) to the post end.

    Raises
    ------
    WarehouseError
        The warehouse has no events in those months.
    """
    if events is None:
        if con is None:
            from harmscope.warehouse import ibis_connect

            con = ibis_connect(db)
        events = con.table("events")
    if any(a.kind == "lad" for a in intervention.areas.values()):
        if con is None:
            raise ValueError("a lad: area needs the warehouse's areas table (give db or con)")
        intervention = resolve_areas(intervention, con)
    areas = dict(intervention.areas)
    ring = areas.get("buffer")
    if ring is not None and ring.kind == "ring":
        if con is None:
            raise ValueError("a ring around LSOAs needs the warehouse (give db or con)")
        outline = lsoa_geometry(con, intervention.target.lsoas)
        areas["buffer"] = ring.resolve_ring(intervention.target, outline=outline)
    months = intervention.series_months
    _require_months(events, intervention)
    first = pd.Period(months[0], freq="M").to_timestamp().date()
    last = pd.Period(months[-1], freq="M").to_timestamp().date()
    ev = events.filter(
        (events.month >= first)
        & (events.month <= last)
        & events.source.isin(["street", "stop_search"])
    )
    ev = _prefilter(ev, areas)
    w = weigh(ev, intervention.scheme)
    needs_xy = any(a.kind in ("cells", "polygons") for a in areas.values())
    keys = ["lsoa_code", "month", "event_type", "kind", "weight"] + (["x", "y"] if needs_xy else [])
    agg = w.group_by(keys).aggregate(count=w.count()).execute()
    if agg.empty:
        raise WarehouseError(
            f"no street or stop-and-search events between {months[0]} and {months[-1]} in "
            "these areas; check the periods and that the months are ingested"
        )
    n = len(agg)
    x = agg["x"].to_numpy(dtype=float) if needs_xy else np.full(n, np.nan)
    y = agg["y"].to_numpy(dtype=float) if needs_xy else np.full(n, np.nan)
    lsoa = agg["lsoa_code"].to_numpy(dtype=object)
    role = np.full(n, None, dtype=object)
    for name, spec in areas.items():
        inside = area_mask(spec, x=x, y=y, lsoa=lsoa) & (role == None)  # noqa: E711
        role[inside] = name
    agg["role"] = role
    agg = agg[agg["role"].notna()]
    agg["month"] = pd.to_datetime(agg["month"]).dt.strftime("%Y-%m")
    out = (
        agg.groupby(["role", "month", "event_type", "kind", "weight"], as_index=False)["count"]
        .sum()
        .astype({"count": "int64", "weight": "float64"})
    )
    return (
        out[list(COUNT_COLUMNS)].sort_values(["role", "month", "event_type"]).reset_index(drop=True)
    )


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


def _month_list(events: ir.Table, source: str, iv: Intervention) -> set[str]:
    first = pd.Period(iv.series_months[0], freq="M").to_timestamp().date()
    last = pd.Period(iv.series_months[-1], freq="M").to_timestamp().date()
    sel = events.filter(
        (events.source == source) & (events.month >= first) & (events.month <= last)
    )
    got = sel.select("month").distinct().execute()["month"]
    return set(pd.to_datetime(got).dt.strftime("%Y-%m"))


def _require_months(events: ir.Table, iv: Intervention) -> None:
    """Refuse periods the warehouse does not cover: a month with no street record at all is
    a month not loaded, not a month without crime."""
    have = _month_list(events, "street", iv)
    wanted = iv.pre.months + iv.post.months
    missing = [m for m in wanted if m not in have]
    if missing:
        span = events.filter(events.source == "street").aggregate(
            lo=events.month.min(), hi=events.month.max()
        )
        row = span.execute().iloc[0]
        held = (
            "no street records at all"
            if pd.isna(row["lo"])
            else f"street records for {pd.Timestamp(row['lo']):%Y-%m} to "
            f"{pd.Timestamp(row['hi']):%Y-%m}"
        )
        shown = ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")
        raise WarehouseError(
            f"no answer from no data: the warehouse has no street records for {shown} "
            f"(it holds {held}); ingest those months or change --pre/--post"
        )


def searches_loaded(events: ir.Table, intervention: Intervention) -> bool:
    """Whether the events hold stop-and-search records in every pre and post month.

    Parameters
    ----------
    events : ibis.Table
        The warehouse ``events`` table.
    intervention : Intervention

    Returns
    -------
    bool
        False when some month of the periods has no search record at all (e.g. a force whose
        stop-and-search files were not loaded): its search counts are then "no data".
    """
    have = _month_list(events, "stop_search", intervention)
    return all(m in have for m in intervention.pre.months + intervention.post.months)


# ---------------------------------------------------------------------- results -----------
@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation produced. Estimates are ``None`` when the data do not allow
    them; ``notes`` says why.

    Attributes
    ----------
    intervention : Intervention
    scheme : Scheme
        The weight scheme (its ``unit`` labels harm).
    counts : DataFrame
        As returned by :func:`area_counts`.
    monthly : DataFrame
        ``role, month, events, harm, activity, searches`` per role and month (zeros filled).
    totals : DataFrame
        ``role, period (pre/post), months, events, harm, activity, searches``.
    wdd, wdd_harm : WDDResult, WDDHarmResult or None
        Target (+ buffer) against control, counts and harm.
    wdq : WDQResult or None
    etest_p, etest_buffer_p : float or None
        E-test of the monthly rate post vs pre, in the target and in the buffer.
    did, did_harm, did_buffer, did_harm_buffer : DiDResult or None
        Monthly-panel GLMs: target vs control and buffer vs control.
    its, its_harm, its_buffer : ITSForecast or None
        Pre-period trend and season forecasts of the target (counts, harm) and buffer counts.
    notes : list of str
    no_data : dict of str to str
        Totals the data cannot give, as ``"role.column"`` (e.g. ``"target.searches"``) with
        the reason; those cells of :attr:`totals` are NaN, never 0.
    """

    intervention: Intervention
    scheme: Scheme
    counts: pd.DataFrame
    monthly: pd.DataFrame
    totals: pd.DataFrame
    wdd: WDDResult | None = None
    wdd_harm: WDDHarmResult | None = None
    wdq: WDQResult | None = None
    etest_p: float | None = None
    etest_buffer_p: float | None = None
    did: DiDResult | None = None
    did_harm: DiDResult | None = None
    did_buffer: DiDResult | None = None
    did_harm_buffer: DiDResult | None = None
    its: ITSForecast | None = None
    its_harm: ITSForecast | None = None
    its_buffer: ITSForecast | None = None
    area_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    notes: list[str] = field(default_factory=list)
    no_data: dict[str, str] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        """Harm unit of the scheme (e.g. ``days of imprisonment``)."""
        return self.scheme.unit

    def total(self, role: Role, period: str, column: str = "events") -> float:
        """A total from :attr:`totals` (0 when the role is absent; NaN when the data cannot
        give it, see :attr:`no_data`)."""
        t = self.totals
        sel = t[(t["role"] == role) & (t["period"] == period)]
        return float(sel[column].iloc[0]) if len(sel) else 0.0

    @property
    def estimates(self) -> dict[str, Estimate]:
        """Every estimate made, by name, as one :class:`~harmscope.evaluate.estimate.Estimate`
        shape (see :func:`~harmscope.evaluate.readings.estimates_of`)."""
        return estimates_of(self)

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
            | {"etest_p": self.etest_p, "etest_buffer_p": self.etest_buffer_p},
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
    return Evaluation(
        intervention=iv,
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
    if progress:
        progress("counting events", 0, 2)
    if con is None:
        from harmscope.warehouse import ibis_connect

        con = ibis_connect(db)
    iv = resolve_areas(intervention, con)
    counts = area_counts(iv, con=con)
    loaded = searches_loaded(con.table("events"), iv)
    if progress:
        progress("running estimators", 1, 2)
    out = evaluate_counts(counts, iv, searches_loaded=loaded)
    if progress:
        progress("running estimators", 2, 2)
    return out
