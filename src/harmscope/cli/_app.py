"""The ``harmscope`` Typer application object, on which every command module registers.

A leaf module: command modules import ``app`` from here (not from the package), so the
package's ``__init__`` can import them all without an import circle.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(
    name="harmscope",
    help="Decision support for real impact drug enforcement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        from harmscope import __version__

        try:  # the installed distribution's version: what pip and bug reports name
            installed = version("harmscope")
        except PackageNotFoundError:  # run from a source tree that was never installed
            installed = __version__
        typer.echo(f"harmscope {installed}")
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
