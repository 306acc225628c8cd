"""The harm matrix's arithmetic: event-type totals spread over harm type x bearer x source.

No query here: :func:`spread_totals` takes the per-type totals the engine returned
(:func:`harmscope.harm.matrix.type_totals`) and lands each type's harm on the cells the
taxonomy names, split by the attributable fractions (:mod:`harmscope.harm.attribution`);
:func:`attributed_by_type` splits each type's harm into its drug-attributed part and the rest.
Shared by :func:`harmscope.harm.matrix.harm_matrix` and the grouped form
:func:`harmscope.harm.grouped.harm_matrices`, so one market's matrix is the same arithmetic
whichever asked.

References
----------
UK Drug Policy Commission (2009). *Refocusing drug-related law enforcement to address
harms*. London: UKDPC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

from harmscope.harm.attribution import NOT_ATTRIBUTED, Attribution
from harmscope.harm.schemes import Scheme
from harmscope.harm.taxonomy import Taxonomy

__all__ = ["Cell", "EventTypeTotal", "attributed_by_type", "spread_totals"]


class Cell(TypedDict):
    """One matrix cell: the DESIGN §5 shape plus where its number comes from.

    ``value`` is the central estimate, ``low``/``high`` its range (scheme unit). ``basis`` is
    ``'fraction'`` (harm x a cited attributable fraction), ``'remainder'`` (the part not
    attributed to drugs, ``source = 'not_attributed'``, in the ``all`` view); ``refs`` are
    the citation keys of the fractions used (see ``HarmMatrix.references``), ``judgement``
    is true when any of them is a judgement rather than a figure read off a source, and
    ``event_types`` lists the event types that contribute.
    """

    harm_type: str
    bearer: str
    source: str
    value: float
    low: float
    high: float
    basis: str
    refs: list[str]
    judgement: bool
    event_types: list[str]


@dataclass(frozen=True)
class EventTypeTotal:
    """Weighted total of one event type.

    Attributes
    ----------
    event_type : str
        Scheme key (stop-and-search rows: ``'Stop and search'``).
    kind : {'harm', 'activity'}
    events : int
        Number of events.
    weight : float
        Weight of one event: the scheme weight for harm kinds; 1 for activity kinds, which
        are counted.
    value : float
        ``events * weight`` as summed by the engine (scheme unit for harm, events for
        activity).
    """

    event_type: str
    kind: str
    events: int
    weight: float
    value: float


def _landing(taxonomy: Taxonomy, event_type: str) -> dict[tuple[str, str], float]:
    """Shares of an event type by (harm type, bearer); the taxonomy's own source is not used.

    The attribution decides the source; the taxonomy only says which harm and bearer the
    type's harm lands on.
    """
    out: dict[tuple[str, str], float] = {}
    for share in taxonomy.cells_for(event_type):
        key = (share.harm_type, share.bearer)
        out[key] = out.get(key, 0.0) + share.share
    return out


@dataclass
class _Acc:
    value: float = 0.0
    low: float = 0.0
    high: float = 0.0
    refs: set[str] = field(default_factory=set)
    judgement: bool = False
    types: list[str] = field(default_factory=list)


def spread_totals(
    totals: list[EventTypeTotal],
    scheme: Scheme,
    taxonomy: Taxonomy,
    attribution: Attribution,
    view: str,
) -> list[Cell]:
    acc: dict[tuple[str, str, str], _Acc] = {}
    harm_types = [w.event_type for w in scheme.weights if w.kind == "harm"]
    values = {t.event_type: t.value for t in totals if t.kind == "harm"}
    # Every cell a harm type can reach is listed (zeros too), so the shape does not depend
    # on data; a cell's range is the sum of its contributions' ranges (fractions at their
    # bounds together), and it names every fraction it used.
    for event_type in harm_types:
        h_total = values.get(event_type, 0.0)
        ta = attribution.for_type(event_type)
        for (h, b), share in _landing(taxonomy, event_type).items():
            part = h_total * share
            for f in ta.fractions.values():
                a = acc.setdefault((h, b, f.source), _Acc())
                a.value += part * f.central
                a.low += part * f.low
                a.high += part * f.high
                if part * f.high > 0:  # a cell cites only what contributes to it
                    a.refs.update(f.refs)
                    a.judgement = a.judgement or f.judgement
                    if event_type not in a.types:
                        a.types.append(event_type)
            if view == "all":
                na_low, na_central, na_high = ta.not_attributed
                a = acc.setdefault((h, b, NOT_ATTRIBUTED), _Acc())
                a.value += part * na_central
                a.low += part * na_low
                a.high += part * na_high
                if part * na_high > 0 and event_type not in a.types:
                    a.types.append(event_type)

    def order(cell: tuple[str, str, str]) -> tuple[int, int, int]:
        source = (
            len(taxonomy.sources.ids)
            if cell[2] == NOT_ATTRIBUTED
            else taxonomy.sources.ids.index(cell[2])
        )
        return (taxonomy.harm_types.ids.index(cell[0]), taxonomy.bearers.ids.index(cell[1]), source)

    ordered = sorted(acc.items(), key=lambda kv: (-kv[1].value, order(kv[0])))
    return [
        Cell(
            harm_type=h,
            bearer=b,
            source=s,
            value=a.value,
            low=a.low,
            high=a.high,
            basis="remainder" if s == NOT_ATTRIBUTED else "fraction",
            refs=sorted(a.refs),
            judgement=a.judgement,
            event_types=a.types,
        )
        for (h, b, s), a in ordered
    ]


def attributed_by_type(
    totals: list[EventTypeTotal], attribution: Attribution
) -> list[dict[str, Any]]:
    """Per harm-kind type present: its harm split into drug-attributed (range) and the rest."""
    rows = []
    for t in totals:
        if t.kind != "harm":
            continue
        low, central, high = attribution.for_type(t.event_type).drug
        rows.append(
            {
                "event_type": t.event_type,
                "events": t.events,
                "harm": t.value,
                "drug": t.value * central,
                "drug_low": t.value * low,
                "drug_high": t.value * high,
                "not_attributed": t.value * (1.0 - central),
            }
        )
    return rows
