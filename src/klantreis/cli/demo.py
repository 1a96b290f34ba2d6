"""`klantreis demo`: the README's main job.

Creates the Dutch fitness-club workspace (three personas), lets a year of about 50,000
customers walk its journey, ingests what they did, then runs the analyses and prints
the main tables. Running it again on the same folder reuses the data.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import OutputFormat, console, print_result

if TYPE_CHECKING:
    from klantreis.store import Workspace

DEMO_CUSTOMERS = 50_000
DEMO_SEED = 2026


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "klantreis-demo"
    ),
    customers: Annotated[
        int, typer.Option("--customers", "-n", help="Number of simulated customers.")
    ] = DEMO_CUSTOMERS,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the simulation.")] = DEMO_SEED,
) -> None:
    """Create the Dutch fitness-club demo: a journey, a year of simulated data, the analyses."""
    started = time.perf_counter()
    ws = prepare(folder, customers=customers, seed=seed)
    run_analyses(ws, whatif_customers=min(customers, 10_000))
    from klantreis.i18n import t

    console.print(
        t(
            "demo.done",
            ws.settings.language,
            seconds=f"{time.perf_counter() - started:.0f}",
            folder=str(folder),
        )
    )


def prepare(folder: Path, *, customers: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED) -> Workspace:
    """The demo workspace with its simulated year (created and filled when new)."""
    from klantreis.i18n import format_number, t
    from klantreis.simulate import simulate
    from klantreis.store import init_workspace, open_workspace

    if (folder / "klantreis.toml").exists():
        ws = open_workspace(folder)
        console.print(t("demo.existing", ws.settings.language, folder=str(folder)))
    else:
        console.print(t("demo.creating", "nl", folder=str(folder)))
        ws = init_workspace(folder, template="fitness", lang="nl")
    lang = ws.settings.language
    held = int(ws.events.count().execute())
    if held:
        console.print(t("demo.has_data", lang, events=format_number(held, lang)))
        return ws
    console.print(t("demo.simulating", lang, customers=format_number(customers, lang)))
    sim = simulate(
        ws.journey(), customers, seed=seed, timezone=ws.settings.timezone, start="2026-01-01"
    )
    sim.ingest(ws)
    from klantreis.cli.simulate import print_summary

    print_summary(sim.summary(), lang)
    return ws


#: The results the demo prints in the terminal (all of them go into the report).
PRINTED = ("phase_funnel", "dropoff", "nps", "gap", "whatif")


def run_analyses(ws: Workspace, *, whatif_customers: int = 10_000) -> Path:
    """Run every analysis (``run_all`` plus the what-if ranking), print the main tables and
    write the report to ``<workspace>/rapport.html``; return its path."""
    from klantreis.analytics import run_all
    from klantreis.i18n import t
    from klantreis.render import build_report, write_report
    from klantreis.simulate.whatif import rank

    lang = ws.settings.language
    journey = ws.journey()
    results = run_all(ws, window="60d", seed=DEMO_SEED)
    results.run(
        "whatif",
        lambda: rank(journey, customers=whatif_customers, runs=3, seed=DEMO_SEED, lang=lang),
    )
    for name in PRINTED:
        if name in results:
            console.print()
            print_result(results[name], OutputFormat.table)
    for name, reason in results.skipped.items():
        console.print(t("demo.skipped", lang, name=name, reason=reason), style="dim")
    html = build_report(journey, results, lang=lang)
    path = write_report(html, ws.path / ("rapport.html" if lang == "nl" else "report.html"))
    console.print()
    console.print(t("demo.report", lang, path=str(path)))
    return path
