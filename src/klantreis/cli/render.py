"""Commands: map, report, export, import (the journey map and the report)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from klantreis.cli._app import app
from klantreis.cli._common import JourneyOpt, WorkspaceOpt, console, workspace

if TYPE_CHECKING:
    from klantreis.store import Workspace

OutputOpt = Annotated[
    Path, typer.Option("--output", "-o", help="File to write; its suffix chooses the format.")
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang", help="nl or en (default: the workspace's language).", show_default=False
    ),
]
PaperOpt = Annotated[str, typer.Option("--paper", help="PDF paper size, landscape: A4 or A3.")]
PersonaOpt = Annotated[
    str | None, typer.Option("--persona", "-p", help="Persona key (default: all customers).")
]


def _results(
    ws: Workspace, persona: str | None = None, journey: str | None = None
) -> dict[str, Any]:
    """The analytics results of the workspace (or of one persona's customers)."""
    from klantreis.analytics import run_all

    return dict(run_all(ws, persona=persona, journey=journey))


def _map_metrics(ws: Workspace, j: Any, persona: str | None, lang: str) -> Any:
    """The map's measured numbers, from only the analyses the map needs."""
    from klantreis.analytics.overview import map_results
    from klantreis.i18n import t
    from klantreis.render import map_metrics_from_results

    results = map_results(ws, persona=persona, journey=j.key)
    if not results:
        return None
    label = None
    if persona is not None:
        label = t("render.metrics.persona", lang, persona=j.persona(persona).label(lang))
    return map_metrics_from_results(results, j, label=label)


@app.command("map")
def map_(
    output: OutputOpt,
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    persona: PersonaOpt = None,
    state: Annotated[str, typer.Option("--state", help="as-is, to-be or both.")] = "as-is",
    overlay: Annotated[
        str | None,
        typer.Option(
            "--overlay", help="Add measured emotion lines per persona or segment (persona|segment)."
        ),
    ] = None,
    measured: Annotated[
        bool,
        typer.Option(
            "--measured/--design-only", help="Add the numbers measured in the workspace's data."
        ),
    ] = True,
    lang: LangOpt = None,
    paper: PaperOpt = "A4",
) -> None:
    """Draw the journey map to FILE.html, .svg, .png or .pdf."""
    from klantreis.i18n import t
    from klantreis.render import MapMetrics, write_map

    ws = workspace(workspace_dir)
    lang = lang or ws.settings.language
    j = ws.journey(journey)
    if persona is not None:
        j.persona(persona)  # unknown persona: a clear error before any work
    metrics = None
    if measured:
        metrics = _map_metrics(ws, j, persona, lang)
        if overlay is not None:
            import dataclasses

            from klantreis.analytics.overview import emotion_overlays

            names = {p.key: p.label(lang) for p in j.personas}
            lines = {
                names.get(group, group): scores
                for group, scores in emotion_overlays(ws, overlay, journey=j.key).items()
            }
            metrics = dataclasses.replace(metrics or MapMetrics(), overlays=lines)
    path = write_map(
        j, output, lang=lang, state=state, persona=persona, metrics=metrics, paper=paper
    )
    console.print(t("render.export.written", lang, file=str(path)), markup=False)


@app.command()
def report(
    output: OutputOpt,
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    persona: Annotated[
        str | None,
        typer.Option(
            "--persona",
            "-p",
            help="Report on one persona's customers (default: all customers, with a map "
            "per persona).",
        ),
    ] = None,
    persona_maps: Annotated[
        bool,
        typer.Option(
            "--persona-maps/--no-persona-maps",
            help="Add a map per persona (only the map's numbers are measured per persona).",
        ),
    ] = True,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    lang: LangOpt = None,
    paper: PaperOpt = "A4",
) -> None:
    """Write the report (map, findings, charts, definitions) to FILE.html or .pdf."""
    from klantreis.i18n import t
    from klantreis.render import MapMetrics, build_report, write_report
    from klantreis.render.export import REPORT_SUFFIXES, _suffix

    ws = workspace(workspace_dir)
    lang = lang or ws.settings.language
    _suffix(output, REPORT_SUFFIXES, lang)  # a wrong suffix fails before the analyses run
    j = ws.journey(journey)
    if persona is not None:
        j.persona(persona)  # unknown persona: a clear error before any work
    per_persona = None
    if persona is None and persona_maps and j.personas:
        per_persona = {p.key: _map_metrics(ws, j, p.key, lang) or MapMetrics() for p in j.personas}
    html = build_report(
        j,
        _results(ws, persona, j.key),
        lang=lang,
        title=title,
        persona=persona,
        persona_metrics=per_persona,
    )
    path = write_report(html, output, paper=paper, lang=lang)
    console.print(t("render.export.written", lang, file=str(path)), markup=False)


@app.command()
def export(
    output: OutputOpt,
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    state: Annotated[str, typer.Option("--state", help="For Mermaid: as-is or to-be.")] = "as-is",
    lang: LangOpt = None,
) -> None:
    """Export the journey itself to FILE.json, .xlsx (editable, see 'import') or .mmd (Mermaid)."""
    from klantreis.i18n import t
    from klantreis.render import write_journey

    ws = workspace(workspace_dir)
    lang = lang or ws.settings.language
    path = write_journey(ws.journey(journey), output, lang=lang, state=state)
    console.print(t("render.export.written", lang, file=str(path)), markup=False)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="A workbook (.xlsx) or JSON file made by 'klantreis export'.")
    ],
    workspace_dir: WorkspaceOpt = None,
) -> None:
    """Read an exported (and edited) journey back into the workspace's journey YAML."""
    from klantreis.errors import JourneyInvalid
    from klantreis.i18n import t
    from klantreis.model import check_journey, save_journey
    from klantreis.render import read_journey_file

    ws = workspace(workspace_dir)
    lang = ws.settings.language
    imported = read_journey_file(file, lang=lang)
    errors = [p for p in check_journey(imported, lang) if p.severity == "error"]
    if errors:
        raise JourneyInvalid(errors)
    target = ws.journeys_dir / f"{imported.key}.yaml"
    existing = next((j for j in ws.journeys() if j.key == imported.key), None)
    if existing is not None:  # keep the file's comments and key order
        imported._node = existing._node
        target = Path(existing.path)
    path = save_journey(imported, target)
    ws.reload()
    console.print(
        t("render.export.imported", lang, key=imported.key, source=str(file), file=str(path)),
        markup=False,
    )
