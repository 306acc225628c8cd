"""The ``harmscope`` command line. One module per command group; each registers on ``app``.

Nothing in the library imports this package (faces sit on top).
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="harmscope",
    help="Decision support for real impact drug enforcement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def main() -> None:
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
