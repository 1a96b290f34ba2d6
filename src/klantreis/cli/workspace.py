"""Commands on the workspace and its journey: init, validate, show."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import (
    JourneyOpt,
    WorkspaceOpt,
    console,
    err_console,
    print_json,
    workspace,
)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    template: Annotated[
        str, typer.Option("--template", "-t", help="blank, fitness or retail.")
    ] = "blank",
    lang: Annotated[str, typer.Option("--lang", help="Language: nl or en.")] = "en",
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="IANA time zone (default Europe/Amsterdam).")
    ] = None,
) -> None:
    """Create a workspace from a template."""
    from klantreis.i18n import t
    from klantreis.store import init_workspace

    ws = init_workspace(folder, template=template, lang=lang, timezone=timezone)
    console.print(t("cli.init.done", ws.settings.language, folder=str(ws.path), template=template))


@app.command()
def validate(
    workspace_dir: WorkspaceOpt = None,
    file: Annotated[
        list[Path] | None, typer.Argument(help="Journey files (default: all in the workspace).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print problems as JSON.")] = False,
) -> None:
    """Check journey files; exit 0 if valid, 1 with messages otherwise."""
    from klantreis.errors import Problem
    from klantreis.i18n import t
    from klantreis.model.io import journey_file_problems
    from klantreis.settings import Settings
    from klantreis.store.workspace import resolve_workspace_path

    if file:
        folder = resolve_workspace_path(workspace_dir)
        lang = Settings.load(folder).language if (folder / "klantreis.toml").exists() else "en"
        files = list(file)
    else:
        ws = workspace(workspace_dir)
        lang = ws.settings.language
        files = ws.journey_files()
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in files:
        journey, found = journey_file_problems(path, lang=lang)
        problems.extend(found)
        if journey is not None and journey.key in seen:
            message = t(
                "journey.duplicate_journey", lang, value=journey.key, other=seen[journey.key]
            )
            problems.append(Problem(code="duplicate_journey", message=message, file=str(path)))
        elif journey is not None:
            seen[journey.key] = path
    errors = [p for p in problems if p.severity == "error"]
    warnings = len(problems) - len(errors)
    if as_json:
        print_json([{**p.__dict__, "params": None} for p in problems])
    else:
        for p in problems:
            level = t(f"common.{p.severity}", lang)
            line = f"{p.location()}{f' [{p.field}]' if p.field else ''}: {level}: {p.message}"
            (err_console if p.severity == "error" else console).print(line, markup=False)
        if problems:
            summary = t(
                "cli.validate.problems",
                lang,
                errors=len(errors),
                warnings=warnings,
                count=len(files),
            )
            (err_console if errors else console).print(summary, markup=False)
        else:
            console.print(t("cli.validate.ok", lang, count=len(files)), markup=False)
    if errors:
        # SystemExit (not typer.Exit): cli.main() turns it into the exit code.
        raise SystemExit(1)


class MapState(StrEnum):
    as_is = "as-is"
    to_be = "to-be"


@app.command()
def show(
    workspace_dir: WorkspaceOpt = None,
    journey: JourneyOpt = None,
    state: Annotated[
        MapState, typer.Option("--state", "-s", help="Show the as-is or the to-be map.")
    ] = MapState.as_is,
) -> None:
    """Print a readable outline of the journey."""
    from klantreis.cli._outline import outline

    ws = workspace(workspace_dir)
    lang = ws.settings.language
    console.print(outline(ws.journey(journey), lang, state=state.value), soft_wrap=False)
