"""`klantreis demo`: the README's main job.

Until simulation lands it creates the Dutch fitness-club workspace and prints its
outline; the simulation issue grows it into the full demo.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import console


@app.command()
def demo(
    folder: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path(
        "klantreis-demo"
    ),
) -> None:
    """Create the Dutch fitness-club demo workspace and show its journey."""
    from klantreis.cli._outline import outline
    from klantreis.store import init_workspace, open_workspace

    ws = (
        open_workspace(folder)
        if (folder / "klantreis.toml").exists()
        else init_workspace(folder, template="fitness", lang="nl")
    )
    console.print(outline(ws.journey(), ws.settings.language))
