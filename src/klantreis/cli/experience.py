"""Commands: experience, gap, ambassadors, compare, drivers (what customers feel, and why)."""

from __future__ import annotations

from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import (
    FormatOpt,
    JourneyOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    print_frame,
    print_result,
    workspace,
)


@app.command()
def experience(
    workspace_dir: WorkspaceOpt = None,
    metric: Annotated[
        str, typer.Option("--metric", "-m", help="nps, csat, ces or emotion.")
    ] = "nps",
    by: Annotated[
        str, typer.Option("--by", help="touchpoint, phase, persona, segment, month or all.")
    ] = "touchpoint",
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """NPS, CSAT, CES or emotion with 95% intervals, per touchpoint, phase, group or month."""
    from klantreis.analytics.experience import experience as run

    print_result(run(workspace(workspace_dir), metric, by, journey=journey), fmt)


@app.command()
def gap(
    workspace_dir: WorkspaceOpt = None,
    metric: Annotated[
        str, typer.Option("--metric", "-m", help="emotion, csat or nps.")
    ] = "emotion",
    state: Annotated[str, typer.Option("--state", help="as-is or to-be design.")] = "as-is",
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Measured vs designed and desired experience per touchpoint, ranked by gap x customers."""
    from klantreis.analytics.gap import gap as run

    print_result(run(workspace(workspace_dir), metric, state=state, journey=journey), fmt)


@app.command()
def ambassadors(
    workspace_dir: WorkspaceOpt = None,
    request: Annotated[
        list[str] | None,
        typer.Option("--request", help="A review/referral request touchpoint (repeatable)."),
    ] = None,
    window: Annotated[
        str, typer.Option("--window", help="A referral this soon after a request is prompted.")
    ] = "30d",
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Promoters who refer customers, prompted (after a request) or spontaneous."""
    from klantreis.analytics.experience import ambassadors as run

    ws = workspace(workspace_dir)
    print_result(run(ws, requests=request or None, window=window, journey=journey), fmt)


@app.command()
def compare(
    analytic: Annotated[
        str, typer.Argument(help="retention, experience, loops, drivers, funnel, ...")
    ],
    workspace_dir: WorkspaceOpt = None,
    by: Annotated[str, typer.Option("--by", help="persona or segment.")] = "persona",
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", help="A group to compare (repeatable).")
    ] = None,
    metric: Annotated[
        str | None, typer.Option("--metric", "-m", help="For experience: the metric.")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="For retention/lifecycle: the period.")
    ] = None,
    rate: Annotated[
        str | None, typer.Option("--rate", help="Columns to test: NUMERATOR,DENOMINATOR.")
    ] = None,
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Run an analytic per persona or segment side by side, with two-proportion tests."""
    from klantreis.analytics.compare import compare as run
    from klantreis.errors import InvalidSpec
    from klantreis.i18n import t

    ws = workspace(workspace_dir)
    kwargs: dict[str, object] = {}
    if metric is not None:
        kwargs["metric"] = metric
    if period is not None:
        kwargs["period"] = period
    pair = None
    if rate is not None:
        parts = [p.strip() for p in rate.split(",")]
        if len(parts) != 2 or not all(parts):
            raise InvalidSpec("rate", t("loyalty.cli.bad_rate", ws.settings.language), value=rate)
        pair = (parts[0], parts[1])
    result = run(ws, analytic, by=by, groups=group or None, rate=pair, journey=journey, **kwargs)
    print_result(result, fmt)
    tests = result.extras.get("tests")
    if fmt == OutputFormat.table and tests is not None and len(tests):
        console.print()
        print_frame(tests, fmt, title=t("loyalty.cli.tests", ws.settings.language))


@app.command()
def drivers(
    workspace_dir: WorkspaceOpt = None,
    outcome: Annotated[
        str, typer.Option("--outcome", help="conversion or promoter.")
    ] = "conversion",
    min_support: Annotated[
        int, typer.Option("--min-support", help="Least customers a feature needs.")
    ] = 10,
    journey: JourneyOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Touchpoints, channels and customer groups that go with conversion or promoters."""
    from klantreis.analytics.drivers import drivers as run

    print_result(
        run(workspace(workspace_dir), outcome, min_support=min_support, journey=journey), fmt
    )
