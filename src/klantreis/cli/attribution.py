"""Commands: attribution (attribution issue)."""

from __future__ import annotations

from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import FormatOpt, JourneyOpt, OutputFormat, WorkspaceOpt, workspace


@app.command()
def attribution(
    conversion: Annotated[
        list[str] | None,
        typer.Option(
            "--conversion", "-c", help="Conversion touchpoint (repeatable; default: the journey's)."
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            help="first_touch, last_touch, last_non_direct, linear, time_decay, position_based, "
            "markov or shapley (repeatable; default: all).",
        ),
    ] = None,
    order: Annotated[str, typer.Option("--order", help="Markov order 1-4, or 'auto'.")] = "1",
    lookback: Annotated[
        str,
        typer.Option(
            "--lookback", help="Touches up to this long before a conversion (30d; 0 = no limit)."
        ),
    ] = "30d",
    by: Annotated[str, typer.Option("--by", help="touchpoint or channel.")] = "touchpoint",
    repeat: Annotated[
        bool,
        typer.Option("--repeat/--first", help="Every conversion closes a path, or only the first."),
    ] = False,
    half_life: Annotated[
        str, typer.Option("--half-life", help="Time-decay half-life (7d).")
    ] = "7d",
    wide: Annotated[bool, typer.Option("--wide", help="One column per model.")] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed for sampled Shapley and order choice.")
    ] = 0,
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Attribute conversions and value to touchpoints or channels, per model."""
    from klantreis.analytics.attribution import attribution as run
    from klantreis.cli._common import print_frame, print_result

    ws = workspace(workspace_dir)
    result = run(
        ws,
        conversion=conversion or None,
        models=model or None,
        order=int(order) if order.strip().isdigit() else order.strip(),
        lookback=lookback,
        by=by,
        repeat=repeat,
        half_life=half_life,
        seed=seed,
        journey=journey,
    )
    if wide and fmt != OutputFormat.json:
        print_frame(result.extras["wide"], fmt, title=result.name)
    else:
        print_result(result, fmt)
