"""Commands: simulate (personas walk the journey) and whatif (compare a changed journey)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from klantreis.cli._app import app
from klantreis.cli._common import (
    FormatOpt,
    JourneyOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    print_json,
    print_result,
    workspace,
)

if TYPE_CHECKING:
    from klantreis.simulate.whatif import Change

CustomersOpt = Annotated[
    int, typer.Option("--customers", "-n", help="Number of simulated customers.")
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Random seed: the same seed gives the same data.")
]
PersonaOpt = Annotated[str | None, typer.Option("--persona", help="Simulate one persona only.")]
StartOpt = Annotated[str, typer.Option("--start", help="First day of the simulated period.")]
DaysOpt = Annotated[int, typer.Option("--days", help="Length of the simulated period in days.")]
StateOpt = Annotated[str, typer.Option("--state", help="Walk the as-is or the to-be map.")]


def _model(
    ws: Any, journey: str | None, state: str, from_data: bool, order: int, by: str | None
) -> Any:
    from klantreis.simulate import journey_model
    from klantreis.simulate.fit import fit_model

    j = ws.journey(journey)
    if from_data:
        return fit_model(ws.events, journey=j, customers=ws.customers, by=by, order=order)
    return journey_model(j, state=state)


@app.command()
def simulate(
    workspace_dir: WorkspaceOpt = None,
    customers: CustomersOpt = 10_000,
    seed: SeedOpt = 0,
    persona: PersonaOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write events to FILE.parquet or FILE.csv (feedback and customers beside it); "
            "without it the data is ingested into the workspace.",
        ),
    ] = None,
    journey: JourneyOpt = None,
    start: StartOpt = "2026-01-01",
    days: DaysOpt = 365,
    state: StateOpt = "as-is",
    from_data: Annotated[
        bool, typer.Option("--from-data", help="Fit the walk on the workspace's events instead.")
    ] = False,
    order: Annotated[
        int, typer.Option("--order", help="Markov order of a fitted model: 1 or 2.")
    ] = 1,
    by: Annotated[
        str | None, typer.Option("--by", help="Fit one model per 'persona' or 'segment'.")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Let the personas walk the journey: simulated events, feedback and customers."""
    from klantreis.i18n import t
    from klantreis.simulate import simulate as run

    ws = workspace(workspace_dir)
    lang = ws.settings.language
    model = _model(ws, journey, state, from_data, order, by)
    sim = run(
        model,
        customers,
        seed=seed,
        persona=persona,
        start=start,
        days=days,
        timezone=ws.settings.timezone,
        state=state,
    )
    summary = sim.summary()
    if output is not None:
        written = {k: str(v) for k, v in sim.write(output).items()}
        summary["files"] = written
    else:
        ingested = sim.ingest(ws)
        summary["ingested"] = {k: v.to_dict() for k, v in ingested.items()}
    if fmt == OutputFormat.json:
        print_json(summary)
        return
    print_summary(summary, lang)
    for kind, path in summary.get("files", {}).items():
        console.print(t("simulate.written", lang, kind=kind, path=path))
    for kind, info in summary.get("ingested", {}).items():
        console.print(
            t(
                "simulate.ingested",
                lang,
                kind=kind,
                **{k: info[k] for k in ("stored", "duplicates", "rejected")},
            )
        )


def _pairs(values: list[str] | None, option: str) -> list[tuple[str, float | None]]:
    """'key=0.2' or 'key' items of a repeatable option."""
    from klantreis.errors import InvalidSpec

    out: list[tuple[str, float | None]] = []
    for item in values or []:
        key, _, number = item.partition("=")
        if not key:
            raise InvalidSpec(option, "give KEY or KEY=NUMBER", value=item)
        try:
            out.append((key.strip(), float(number) if number else None))
        except ValueError:
            raise InvalidSpec(option, "the part after '=' must be a number", value=item) from None
    return out


def _changes(
    journey: Any,
    reduce_leaving: list[str] | None,
    speed_up: list[str] | None,
    add: list[str] | None,
    shift_channel: list[str] | None,
    improve: list[str] | None,
) -> list[Change]:
    from klantreis.errors import InvalidSpec
    from klantreis.simulate import whatif as w

    changes: list[Change] = []
    for key, x in _pairs(reduce_leaving, "--reduce-leaving"):
        changes.append(w.ReduceLeaving(key, 0.2 if x is None else x))
    for key, x in _pairs(speed_up, "--speed-up"):
        changes.append(w.SpeedUp(key, 0.5 if x is None else x))
    for key, x in _pairs(shift_channel, "--shift-channel"):
        changes.append(w.ShiftChannels(key, 0.1 if x is None else x))
    for key, x in _pairs(improve, "--improve"):
        changes.append(w.ImproveExperience(key, 1.0 if x is None else x))
    for spec, x in _pairs(add, "--add"):
        new, sep, after = spec.partition("@")
        if not sep or not new or not after:
            raise InvalidSpec("--add", "give NEW@AFTER or NEW@AFTER=REACH", value=spec)
        changes.append(w.add_touchpoint(journey, new, after=after, reach=0.3 if x is None else x))
    return changes


@app.command()
def whatif(
    workspace_dir: WorkspaceOpt = None,
    reduce_leaving: Annotated[
        list[str] | None,
        typer.Option(
            "--reduce-leaving", help="TOUCHPOINT=SHARE: fewer customers leave there (0.2 = 20%)."
        ),
    ] = None,
    speed_up: Annotated[
        list[str] | None,
        typer.Option(
            "--speed-up", help="TOUCHPOINT=SHARE: the next step comes sooner (0.5 = twice as fast)."
        ),
    ] = None,
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add", help="NEW@AFTER=REACH: add a touchpoint (e.g. a reminder e-mail) for leavers."
        ),
    ] = None,
    shift_channel: Annotated[
        list[str] | None,
        typer.Option("--shift-channel", help="CHANNEL=SHARE: move steps to a channel."),
    ] = None,
    improve: Annotated[
        list[str] | None,
        typer.Option(
            "--improve",
            help="TOUCHPOINT=POINTS: raise the current experience on the journey's scale.",
        ),
    ] = None,
    to_be: Annotated[
        bool, typer.Option("--to-be", help="Compare the to-be map with the as-is map.")
    ] = False,
    rank: Annotated[
        bool,
        typer.Option("--rank", help="Rank every touchpoint by the gain of the same improvement."),
    ] = False,
    effort: Annotated[
        float,
        typer.Option("--effort", help="With --rank: share of leavers kept at each touchpoint."),
    ] = 0.2,
    metric: Annotated[
        str, typer.Option("--metric", help="With --rank: the outcome to rank by.")
    ] = "conversion",
    customers: CustomersOpt = 20_000,
    runs: Annotated[
        int, typer.Option("--runs", help="Repeated runs for the confidence intervals.")
    ] = 5,
    seed: SeedOpt = 0,
    persona: PersonaOpt = None,
    journey: JourneyOpt = None,
    start: StartOpt = "2026-01-01",
    days: DaysOpt = 365,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """What if the journey changed? Compare conversion, time, revenue and NPS with today."""
    from klantreis.simulate import whatif as w

    ws = workspace(workspace_dir)
    j = ws.journey(journey)
    common: dict[str, Any] = {
        "customers": customers,
        "runs": runs,
        "seed": seed,
        "persona": persona,
        "start": start,
        "days": days,
        "timezone": ws.settings.timezone,
        "lang": ws.settings.language,
    }
    if rank:
        result = w.rank(j, effort=effort, metric=metric, **common)
    else:
        changes = _changes(j, reduce_leaving, speed_up, add, shift_channel, improve)
        scenario = None
        if to_be:
            from klantreis.simulate import journey_model

            scenario = journey_model(j, state="to-be")
        result = w.whatif(j, changes, scenario=scenario, **common)
    print_result(result, fmt)


def print_summary(summary: dict[str, Any], lang: str) -> None:
    """One line: customers, events, feedback, conversions (rate) and revenue simulated."""
    from klantreis.i18n import format_number, format_percent, t

    rate = summary["converted"] / summary["customers"] if summary["customers"] else 0.0
    console.print(
        t(
            "simulate.summary",
            lang,
            customers=format_number(summary["customers"], lang),
            events=format_number(summary["events"], lang),
            feedback=format_number(summary["feedback"], lang),
            converted=format_number(summary["converted"], lang),
            rate=format_percent(rate, lang),
            revenue=format_number(summary["revenue"], lang, digits=0),
        )
    )
