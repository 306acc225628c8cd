"""Local excess of harm around drug markets, as the harm core takes it (no markets import).

:mod:`harmscope.markets.attribution` measures, for each market, the harm in its cells above
what comparable places without a market show (the *local excess*, with an interval). The
harm core must not import the markets package (``docs/architecture.md``), so the result
crosses the layer as the plain data object :class:`LocalExcess`, and :func:`apply_local`
lets it adjust a :class:`~harmscope.harm.matrix.HarmMatrix` of the same study area and period.

The rule that avoids double counting
------------------------------------
With ``H`` every crime's harm of the area, ``A`` the harm of every type in the market cells
(``area_harm``) and ``E`` the local excess (clipped at 0: a market with no measurable excess
adds no harm), the background of the market cells is ``X = A - E``:

- outside the market cells (share ``1 - A/H`` of the harm) the national fractions stand,
  distribution included (markets nobody has found still cause harm there);
- inside, the background ``X`` keeps the national fractions of use, production and control,
  **not** of distribution: its distribution share is dropped, because the measured excess
  replaces it;
- the excess ``E`` is distribution harm, spread over harm types and bearers as the matrix's
  distribution cells are;
- what is left (``H`` minus every drug-attributed cell) is not drug-attributed, so harm is
  neither created nor counted twice: ``drug_attributed + not_attributed = H`` still.

Matrix cells hold no location, so inside the market cells the event-type mix is taken to be
the area's (each source's cells scale by ``1 - A/H + X/H``); the per-type table
``by_event_type`` keeps the national fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from harmscope.harm.matrix import Cell, HarmMatrix

__all__ = ["LOCAL_BASIS", "LOCAL_REF", "LocalExcess", "MarketExcessRow", "apply_local"]

#: ``basis`` of a distribution cell that holds a local excess.
LOCAL_BASIS = "fraction+local"

#: Citation key of the local excess (``HarmMatrix.references``).
LOCAL_REF = "local-excess"

_DISTRIBUTION = "distribution"
_NOT_ATTRIBUTED = "not_attributed"


@dataclass(frozen=True)
class MarketExcessRow:
    """One market's local excess over the period (scheme unit).

    Attributes
    ----------
    market_id : str
    area_harm : float
        Harm of every type in the market's cells.
    observed : float
        Harm of the types a market can cause in those cells.
    expected : float
        Harm of those types that comparable places without a market predict for them.
    low, central, high : float
        The excess ``observed - expected`` and its interval.
    """

    market_id: str
    area_harm: float
    observed: float
    expected: float
    low: float
    central: float
    high: float


@dataclass(frozen=True)
class LocalExcess:
    """Local excess of harm attributed to markets in one study area and period.

    Attributes
    ----------
    unit, scheme : str
        Scheme unit and name: the matrix it adjusts must use the same.
    total : (low, central, high)
        Excess of all markets together (an interval of the sum, not a sum of intervals).
    markets : tuple of MarketExcessRow
    method : str
        How it was measured, one sentence.
    """

    unit: str
    scheme: str
    total: tuple[float, float, float]
    markets: tuple[MarketExcessRow, ...]
    method: str = ""

    @property
    def area_harm(self) -> float:
        """Harm of every type in every market's cells."""
        return math.fsum(m.area_harm for m in self.markets)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        low, central, high = self.total
        return {
            "scheme": self.scheme,
            "unit": self.unit,
            "excess": central,
            "excess_low": low,
            "excess_high": high,
            "area_harm": self.area_harm,
            "method": self.method,
            "markets": [m.__dict__.copy() for m in self.markets],
        }


def apply_local(matrix: HarmMatrix, local: LocalExcess) -> HarmMatrix:
    """The matrix with the local excess as distribution harm (rule in the module docstring).

    Parameters
    ----------
    matrix : HarmMatrix
        Matrix of the whole study area and period, ``harm='drug'`` or ``'all'``.
    local : LocalExcess
        Local excess measured on the same area, period and scheme.

    Returns
    -------
    HarmMatrix
        Cells with source ``distribution`` carry ``basis = 'fraction+local'`` and cite
        ``local-excess``; every total, range and ``not_attributed`` follows. ``cells`` keep
        their order and set (re-sorted by value).

    Raises
    ------
    ValueError
        Another scheme, market harm above
        the area's harm, or no distribution cell to carry the excess.
    """
    if local.scheme and local.scheme != matrix.scheme:
        raise ValueError(
            f"local excess is in scheme {local.scheme!r}, the matrix in {matrix.scheme!r}"
        )
    all_harm = matrix.drug_attributed + matrix.not_attributed
    if all_harm <= 0 or not local.markets:
        return matrix
    if local.area_harm > all_harm * (1 + 1e-9):
        raise ValueError(
            f"market cells hold {local.area_harm:g} {matrix.unit}, more than the matrix's "
            f"{all_harm:g}: the local excess is not from this area and period"
        )
    inside = local.area_harm / all_harm
    low, central, high = (min(max(v, 0.0), local.area_harm) for v in local.total)
    background = inside - central / all_harm
    dist = [c for c in matrix.cells if c["source"] == _DISTRIBUTION]
    weights = [c["value"] for c in dist]
    if not dist or math.fsum(weights) <= 0:
        raise ValueError("the matrix has no distribution harm to spread the local excess over")
    wsum = math.fsum(weights)
    other = 1.0 - inside + background  # use, production, control: outside + background
    keep = 1.0 - inside  # distribution: outside only
    cells: list[Cell] = []
    for c in matrix.cells:
        new = Cell(**c)
        if c["source"] == _DISTRIBUTION:
            w = c["value"] / wsum
            new["value"] = c["value"] * keep + central * w
            new["low"] = c["low"] * keep + low * w
            new["high"] = c["high"] * keep + high * w
            if w > 0:
                new["basis"] = LOCAL_BASIS
                new["refs"] = sorted({*c["refs"], LOCAL_REF})
        elif c["source"] != _NOT_ATTRIBUTED:
            for key in ("value", "low", "high"):
                new[key] = c[key] * other
        cells.append(new)
    drug = math.fsum(c["value"] for c in cells if c["source"] != _NOT_ATTRIBUTED)
    drug_low = math.fsum(c["low"] for c in cells if c["source"] != _NOT_ATTRIBUTED)
    drug_high = math.fsum(c["high"] for c in cells if c["source"] != _NOT_ATTRIBUTED)
    na, na_low, na_high = all_harm - drug, all_harm - drug_high, all_harm - drug_low
    na_cells = [c for c in cells if c["source"] == _NOT_ATTRIBUTED]
    old_na = math.fsum(c["value"] for c in na_cells)
    for c in na_cells:
        # The remainder shrinks by what the excess now attributes, in proportion.
        share = c["value"] / old_na if old_na > 0 else 1.0 / len(na_cells)
        c["value"], c["low"], c["high"] = na * share, na_low * share, na_high * share
    order = {id(c): i for i, c in enumerate(cells)}
    cells.sort(key=lambda c: (-c["value"], order[id(c)]))
    total = math.fsum(c["value"] for c in cells)
    if matrix.harm == "drug":
        total_low, total_high = drug_low, drug_high
    else:
        total_low = total_high = all_harm
    references = dict(matrix.references)
    references[LOCAL_REF] = f"Local excess of harm around markets: {local.method}"
    return replace(
        matrix,
        cells=cells,
        total=total,
        total_low=total_low,
        total_high=total_high,
        drug_attributed=drug,
        drug_low=drug_low,
        drug_high=drug_high,
        not_attributed=na,
        not_attributed_low=na_low,
        not_attributed_high=na_high,
        references=references,
    )
