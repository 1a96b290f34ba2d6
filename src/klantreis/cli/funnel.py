"""Commands: funnel, dropoff (funnel issue)."""

from __future__ import annotations

from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import FormatOpt, JourneyOpt, OutputFormat, WorkspaceOpt, workspace

StepsOpt = Annotated[
    str | None,
    typer.Option(
        "--steps",
        "-s",
        help="Comma-separated steps: touchpoints, 'a|b' for either, 'b?' for an optional step.",
    ),
]
WindowOpt = Annotated[
    str, typer.Option("--window", help="Conversion window from step 1 (30d, 12h...).")
]
ModeOpt = Annotated[str, typer.Option("--mode", "-m", help="ordered, strict or any-order.")]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", "-x", help="TOUCHPOINT:AFTER:BEFORE (step numbers); repeatable."),
]
StepWindowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--step-window", help="STEP=DURATION: max time from the previous step; repeatable."
    ),
]
MinGapOpt = Annotated[
    list[str] | None,
    typer.Option("--min-gap", help="STEP=DURATION: min time from the previous step; repeatable."),
]


def _per_step(values: list[str] | None, flag: str) -> dict[int, str]:
    from klantreis.errors import InvalidSpec

    out: dict[int, str] = {}
    for item in values or []:
        step, _, duration = item.partition("=")
        if not step.strip().isdigit() or not duration:
            raise InvalidSpec(flag, "must look like STEP=DURATION, e.g. 2=1d", value=item)
        out[int(step)] = duration
    return out


@app.command()
def funnel(
    steps: StepsOpt = None,
    window: WindowOpt = "30d",
    mode: ModeOpt = "ordered",
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="segment, persona, channel, week, month, property.NAME or attribute.NAME.",
        ),
    ] = None,
    unit: Annotated[str, typer.Option("--unit", help="customers or attempts.")] = "customers",
    exclude: ExcludeOpt = None,
    step_window: StepWindowOpt = None,
    min_gap: MinGapOpt = None,
    skew: Annotated[
        str,
        typer.Option(
            "--skew",
            help="Ordered funnels: a step may come up to this long before the previous one "
            "(clock skew between sources, e.g. 5s); default 0.",
        ),
    ] = "0s",
    phases: Annotated[
        bool, typer.Option("--phases", help="Use the journey's phases as the steps.")
    ] = False,
    journey: JourneyOpt = None,
    workspace_dir: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Funnel: customers per step, conversion and time between steps."""
    from klantreis.analytics.funnel import funnel as run_funnel
    from klantreis.analytics.funnel import phase_funnel
    from klantreis.cli._common import print_result
    from klantreis.errors import InvalidSpec

    ws = workspace(workspace_dir)
    if phases:
        if steps:
            raise InvalidSpec("--phases", "cannot be combined with --steps")
        result = phase_funnel(ws, window=window, mode=mode, journey=journey, unit=unit, by=by)
    else:
        if not steps:
            raise InvalidSpec("--steps", "is required (or use --phases)")
        result = run_funnel(
            ws,
            steps=[s for s in steps.split(",") if s.strip()],
            window=window,
            mode=mode,
            unit=unit,
            by=by,
            exclude=exclude or (),
            step_windows=_per_step(step_window, "--step-window"),
            min_gaps=_per_step(min_gap, "--min-gap"),
            skew=skew,
        )
    print_result(result, fmt)


@app.command()
def dropoff(
    steps: StepsOpt = None,
    at: Annotated[
        int, typer.Option("--at", help="Step number (1-based) customers drop off after.")
    ] = 1,
    window: WindowOpt = "30d",
    mode: ModeOpt = "ordered",
    top: Annotated[int, typer.Option("--top", help="How many touchpoints to show per list.")] = 10,
    exclude: ExcludeOpt = None,
    customers: Annotated[
        bool, typer.Option("--customers", help="Print the customers who dropped off instead.")
    ] = False,
    workspace_dir: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Drop-off moments: where customers who reached step AT but not the next went instead."""
    from klantreis.analytics.funnel import dropoff as run_dropoff
    from klantreis.cli._common import print_frame, print_result
    from klantreis.errors import InvalidSpec

    if not steps:
        raise InvalidSpec("--steps", "is required")
    ws = workspace(workspace_dir)
    result = run_dropoff(
        ws,
        steps=[s for s in steps.split(",") if s.strip()],
        at=at,
        window=window,
        mode=mode,
        top=top,
        exclude=exclude or (),
    )
    if customers:
        print_frame(result.extras["customers"], fmt, title="dropoff")
    else:
        print_result(result, fmt)
