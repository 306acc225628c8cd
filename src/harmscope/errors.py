"""Semantic exceptions. Each subclasses a built-in so callers can catch either."""

from __future__ import annotations


class HarmScopeError(Exception):
    """Base class for every error HarmScope raises on purpose."""


class InputError(HarmScopeError, ValueError):
    """Bad input data: names the file, the line (1-based, header = line 1) and the column.

    ``str(err)`` reads ``FILE, line L, column C (NAME): what was wrong; what was expected``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        column: int | None = None,
        column_name: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.column_name = column_name
        self.reason = message
        where = [path]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}" + (f" ({column_name})" if column_name else ""))
        elif column_name:
            where.append(f"column {column_name}")
        super().__init__(", ".join(where) + ": " + message)


class SchemeError(HarmScopeError, ValueError):
    """A weight scheme or taxonomy file is missing, malformed or inconsistent."""


class WarehouseError(HarmScopeError, RuntimeError):
    """The warehouse cannot be opened, or holds no data for the request."""


class SimulationError(HarmScopeError, ValueError):
    """Simulator parameters are impossible (e.g. negative months)."""


class EstimatorError(HarmScopeError, ValueError):
    """An evaluation estimator got impossible input (negative counts, mismatched lengths)."""
