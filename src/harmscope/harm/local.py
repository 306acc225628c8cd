"""Local excess of harm around drug markets, as the harm core takes it (no markets import).

placeholder
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MarketExcessRow:
    """One market's local excess (scheme unit)."""

    market_id: str
    observed: float
    expected: float
    low: float
    central: float
    high: float


@dataclass(frozen=True)
class LocalExcess:
    """Local excess of harm attributed to markets."""

    unit: str
    scheme: str
    total: tuple[float, float, float]
    markets: tuple[MarketExcessRow, ...]
    method: str = ""
