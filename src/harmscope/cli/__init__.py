"""The ``harmscope`` command line: a thin face over the application layer (:mod:`harmscope.app`).

One module per command group; each registers on ``app`` (built in the leaf module
:mod:`harmscope.cli._app`, re-exported here for the ``harmscope.cli:app`` entry point).
Nothing in the library imports this package (faces sit on top).
"""

from __future__ import annotations

import typer

# Command modules register themselves on `app` when imported.
from harmscope.cli import demo as _demo  # noqa: F401
from harmscope.cli import evaluate as _evaluate  # noqa: F401
from harmscope.cli import export as _export  # noqa: F401
from harmscope.cli import forecast as _forecast  # noqa: F401
from harmscope.cli import hotspots as _hotspots  # noqa: F401
from harmscope.cli import ingest as _ingest  # noqa: F401
from harmscope.cli import markets as _markets  # noqa: F401
from harmscope.cli import matrix as _matrix  # noqa: F401
from harmscope.cli import partners as _partners  # noqa: F401
from harmscope.cli import power_few as _power_few  # noqa: F401
from harmscope.cli import priorities as _priorities  # noqa: F401
from harmscope.cli import quarantine as _quarantine  # noqa: F401
from harmscope.cli import records as _records  # noqa: F401
from harmscope.cli import simulate as _simulate  # noqa: F401
from harmscope.cli import surface as _surface  # noqa: F401
from harmscope.cli import validate as _validate  # noqa: F401
from harmscope.cli._app import app

# `harmscope --help` groups commands by the job an analyst is doing, in working order.
_PANELS = {
    "Get data in": (
        "ingest",
        "quarantine",
        "load-areas",
        "load-survey",
        "load-records",
        "load-partners",
        "assess",
        "simulate",
        "export",
    ),
    "Find where harm is": (
        "matrix",
        "areas",
        "hotspots",
        "surface",
        "concentration",
        "emerging",
        "markets",
        "priorities",
        "power-few",
        "report",
        "demo",
    ),
    "Measure real impact": ("evaluate", "scorecard"),
    "Check the methods": ("validate-forecast", "validate-priorities", "validate-evaluation"),
}
_ORDER = [name for names in _PANELS.values() for name in names]
_PANEL_OF = {name: panel for panel, names in _PANELS.items() for name in names}


def _command_name(info: typer.models.CommandInfo | typer.models.TyperInfo) -> str:
    if info.name:
        return info.name
    callback = info.callback
    return callback.__name__.replace("_", "-") if callback else ""


__all__ = ["app"]

for _command in app.registered_commands:
    _command.rich_help_panel = _PANEL_OF.get(_command_name(_command), "Other")
for _group in app.registered_groups:  # command groups (export, markets) list after commands
    _group.rich_help_panel = _PANEL_OF.get(_command_name(_group), "Other")
app.registered_commands.sort(
    key=lambda c: _ORDER.index(n) if (n := _command_name(c)) in _ORDER else len(_ORDER)
)
