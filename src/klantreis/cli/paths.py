"""Commands: transitions, paths, time (how customers move and how long it takes)."""

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

CollapseOpt = Annotated[
    bool, typer.Option("--collapse", help="Count repeats of the same touchpoint in a row once.")
]
ConversionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--conversion", "-c", help="Conversion touchpoint (repeatable; default: the journey's)."
    ),
]


@app.command()
def transitions(
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    collapse: CollapseOpt = False,
    sessions: Annotated[
        bool, typer.Option("--sessions", help="A long gap breaks the path (see --session-gap).")
    ] = False,
    session_gap: Annotated[
        int | None,
        typer.Option(
            "--session-gap",
            help="Minutes without events that break a path (implies --sessions; default: setting).",
        ),
    ] = None,
    phase: Annotated[
        str | None, typer.Option("--phase", help="Only touchpoints of this phase.")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Transitions between touchpoints: counts, customers, share and gaps."""
    from klantreis.analytics.transitions import transitions as run

    ws = workspace(workspace_dir)
    result = run(
        ws,
        collapse=collapse,
        sessions=sessions or session_gap is not None,
        session_gap_minutes=session_gap,
        phase=phase,
        journey=journey,
    )
    print_result(result, fmt)


@app.command()
def paths(
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    kind: Annotated[
        str,
        typer.Option("--kind", "-k", help="variants, outcome (converted vs dropped) or design."),
    ] = "variants",
    start: Annotated[
        str | None, typer.Option("--from", help="Sankey: paths from this touchpoint forward.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Sankey: paths to this touchpoint backward.")
    ] = None,
    depth: Annotated[int, typer.Option("--depth", "-d", help="Sankey: steps to follow.")] = 3,
    sankey: Annotated[
        bool,
        typer.Option(
            "--sankey", help="Sankey from each customer's first event (without --from/--to)."
        ),
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(
            "--top", "-n", help="Rows (variants) or nodes per step (Sankey) before '(other)'."
        ),
    ] = None,
    conversion: ConversionOpt = None,
    collapse: CollapseOpt = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Path variants, converted vs dropped, design vs reality, or Sankey data (--from/--to)."""
    ws = workspace(workspace_dir)
    if start is not None or end is not None or sankey:
        if start is not None and end is not None:
            from klantreis.errors import InvalidSpec
            from klantreis.i18n import t

            raise InvalidSpec("--from", t("paths.cli.anchor_both", ws.settings.language))
        from klantreis.analytics.paths import sankey as run_sankey

        result = run_sankey(
            ws, start=start, end=end, depth=depth, top=top or 8, collapse=collapse, journey=journey
        )
        if fmt == OutputFormat.table:
            print_result(result, fmt)
            from klantreis.cli._common import print_frame

            print_frame(result.extras["nodes"], fmt, title="nodes")
        else:
            print_result(result, fmt)
        return
    from klantreis.analytics.paths import paths as run

    result = run(
        ws,
        kind=kind,
        top=top or 20,
        conversion=list(conversion) if conversion else None,
        collapse=collapse,
        journey=journey,
    )
    print_result(result, fmt)


@app.command("time")
def time_(
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind", "-k", help="convert (time to convert) or phase (time in each phase)."
        ),
    ] = "convert",
    rule: Annotated[
        str,
        typer.Option(
            "--rule",
            help="Time in phase: span (first to last event) or entry (entry to next phase).",
        ),
    ] = "span",
    by: Annotated[str | None, typer.Option("--by", help="Split by persona or segment.")] = None,
    conversion: ConversionOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Time to convert, or time in each phase (median, p90), optionally per persona/segment."""
    from klantreis.analytics.timing import timing as run

    ws = workspace(workspace_dir)
    result = run(
        ws,
        kind=kind,
        rule=rule,
        by=by,
        conversion=list(conversion) if conversion else None,
        journey=journey,
    )
    print_result(result, fmt)
