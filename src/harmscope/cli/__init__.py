"""The ``harmscope`` command line. One module per command group; each registers on ``app``.

Nothing in the library imports this package (faces sit on top).
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="harmscope",
    help="Decision support for real impact drug enforcement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from harmscope import __version__

        typer.echo(f"harmscope {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """HarmScope: find and measure drug-market harm, not police busyness."""


# Command modules register themselves on `app` when imported.
from harmscope.cli import demo as _demo  # noqa: E402,F401
from harmscope.cli import evaluate as _evaluate  # noqa: E402,F401
from harmscope.cli import export as _export  # noqa: E402,F401
from harmscope.cli import forecast as _forecast  # noqa: E402,F401
from harmscope.cli import hotspots as _hotspots  # noqa: E402,F401
from harmscope.cli import ingest as _ingest  # noqa: E402,F401
from harmscope.cli import markets as _markets  # noqa: E402,F401
from harmscope.cli import matrix as _matrix  # noqa: E402,F401
from harmscope.cli import priorities as _priorities  # noqa: E402,F401
from harmscope.cli import simulate as _simulate  # noqa: E402,F401
from harmscope.cli import validate as _validate  # noqa: E402,F401

# `harmscope --help` groups commands by the job an analyst is doing, in working order.
_PANELS = {
    "Get data in": ("ingest", "load-areas", "load-survey", "simulate", "export"),
    "Find where harm is": (
        "matrix",
        "areas",
        "hotspots",
        "concentration",
        "emerging",
        "markets",
        "priorities",
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


for _command in app.registered_commands:
    _command.rich_help_panel = _PANEL_OF.get(_command_name(_command), "Other")
for _group in app.registered_groups:  # command groups (export, markets) list after commands
    _group.rich_help_panel = _PANEL_OF.get(_command_name(_group), "Other")
app.registered_commands.sort(
    key=lambda c: _ORDER.index(n) if (n := _command_name(c)) in _ORDER else len(_ORDER)
)
