"""The ``harmscope`` command line: a thin face over the application layer (:mod:`harmscope.app`).

One module per command group; each registers on ``app`` (built in the leaf module
:mod:`harmscope.cli._app`, re-exported here for the ``harmscope.cli:app`` entry point).
Nothing in the library imports this package (faces sit on top).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from harmscope.cli._app import app

#: The module that registers each command (and command group) on ``app``.
COMMAND_MODULES: dict[str, str] = {
    "ingest": "ingest",
    "quarantine": "quarantine",
    "load-areas": "matrix",
    "load-survey": "evaluate",
    "load-records": "records",
    "load-partners": "partners",
    "simulate": "simulate",
    "export": "export",
    "matrix": "matrix",
    "areas": "matrix",
    "hotspots": "hotspots",
    "surface": "surface",
    "concentration": "hotspots",
    "emerging": "hotspots",
    "markets": "markets",
    "priorities": "priorities",
    "power-few": "power_few",
    "report": "demo",
    "demo": "demo",
    "evaluate": "evaluate",
    "scorecard": "evaluate",
    "assess": "partners",
    "validate-forecast": "forecast",
    "validate-priorities": "validate",
    "validate-evaluation": "evaluate",
    "validate-attribution": "validate",
}


def command_modules(argv: list[str]) -> list[str]:
    """The command modules to import for a run with these arguments (``sys.argv``).

    A ``harmscope COMMAND ...`` run imports only the module of its command: every module
    brings its own libraries (the simulator, the evaluation models, the report templates),
    and loading all of them took 2.6 s of each command's time (issue 13). Anything else
    (``--help``, ``--version``, no command, an unknown one, or ``app`` imported by a test or
    another program) imports every module, so every command is there.
    """
    named = Path(argv[0]).name == "harmscope" if argv else False
    if named and len(argv) > 1 and argv[1] in COMMAND_MODULES:
        return [COMMAND_MODULES[argv[1]]]
    return sorted(set(COMMAND_MODULES.values()))


# Command modules register themselves on `app` when imported.
for _module in command_modules(sys.argv):
    importlib.import_module(f"harmscope.cli.{_module}")

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


__all__ = ["COMMAND_MODULES", "app", "command_modules"]

for _command in app.registered_commands:
    _command.rich_help_panel = _PANEL_OF.get(_command_name(_command), "Other")
for _group in app.registered_groups:  # command groups (export, markets) list after commands
    _group.rich_help_panel = _PANEL_OF.get(_command_name(_group), "Other")
app.registered_commands.sort(
    key=lambda c: _ORDER.index(n) if (n := _command_name(c)) in _ORDER else len(_ORDER)
)
