"""The Typer application every command module adds its commands to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="klantreis",
    help="Klantreis: design, measure, analyse, simulate and show customer journeys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
