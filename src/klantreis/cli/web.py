"""Command: serve (the web app for one workspace)."""

from __future__ import annotations

from typing import Annotated

import typer

from klantreis.cli._app import app
from klantreis.cli._common import WorkspaceOpt, console, workspace


@app.command()
def serve(
    workspace_dir: WorkspaceOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1: this computer only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest file the upload page accepts (MB).")
    ] = 100,
) -> None:
    """Open the web app: journey map, report, funnel, journey check and data upload."""
    import uvicorn

    from klantreis.i18n import t
    from klantreis.web import create_app

    ws = workspace(workspace_dir)  # a missing workspace fails here, with its message
    folder, lang = ws.path, ws.settings.language
    ws.close()
    if max_upload_mb <= 0:
        from klantreis.errors import InvalidSpec

        raise InvalidSpec("max_upload_mb", "must be positive", value=max_upload_mb)
    application = create_app(folder, max_upload_bytes=max_upload_mb * 1_000_000)
    shown = f"[{host}]" if ":" in host else host
    console.print(t("web.serve.listening", lang, url=f"http://{shown}:{port}/"), markup=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")
