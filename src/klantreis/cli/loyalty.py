"""Commands: retention, lifecycle, churn, loops (who stays, who comes back)."""

from __future__ import annotations

from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import (
    FormatOpt,
    JourneyOpt,
    OutputFormat,
    WorkspaceOpt,
    print_result,
    workspace,
)

PeriodOpt = Annotated[str, typer.Option("--period", "-p", help="day, week or month.")]


@app.command()
def retention(
    workspace_dir: WorkspaceOpt = None,
    period: PeriodOpt = "month",
    start: Annotated[
        str | None, typer.Option("--start", help="Cohort by the first time of this touchpoint.")
    ] = None,
    returning: Annotated[
        str | None, typer.Option("--returning", help="Count a return only at this touchpoint.")
    ] = None,
    mode: Annotated[str, typer.Option("--mode", help="'on' or 'on-or-after'.")] = "on",
    periods: Annotated[
        int | None,
        typer.Option("--periods", help="Show at most this many periods after the first."),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Cohort retention: of the customers who started in a period, how many came back."""
    from klantreis.analytics.retention import retention as run

    ws = workspace(workspace_dir)
    print_result(run(ws, period, start, returning, mode, periods=periods), fmt)


@app.command()
def lifecycle(
    workspace_dir: WorkspaceOpt = None,
    period: PeriodOpt = "month",
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """New, returning, resurrecting and dormant customers per period."""
    from klantreis.analytics.lifecycle import lifecycle as run

    print_result(run(workspace(workspace_dir), period), fmt)


@app.command()
def churn(
    workspace_dir: WorkspaceOpt = None,
    inactive: Annotated[
        str, typer.Option("--inactive", help="Churned after this long without events, e.g. 90d.")
    ] = "90d",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reference date (default: the last event).")
    ] = None,
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Active and churned customers (inactive, or ended at an end-of-relationship touchpoint)."""
    from klantreis.analytics.lifecycle import churn as run

    print_result(run(workspace(workspace_dir), inactive, as_of, journey=journey), fmt)


@app.command()
def loops(
    workspace_dir: WorkspaceOpt = None,
    repeat: Annotated[
        bool, typer.Option("--repeat", help="Show the repeat purchase rate instead.")
    ] = False,
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Buyers entering the purchase, service and loyalty loops, and how often they cycle."""
    from klantreis.analytics.loops import loops as run
    from klantreis.analytics.loops import repeat_purchase

    ws = workspace(workspace_dir)
    result = repeat_purchase(ws, journey=journey) if repeat else run(ws, journey=journey)
    print_result(result, fmt)
