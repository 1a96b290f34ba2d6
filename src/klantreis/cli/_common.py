"""Options and output helpers shared by the command modules (no business logic here)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from klantreis.analytics import Result
    from klantreis.store import Workspace


def _width(stream: Any) -> int | None:
    """Rich's width on a terminal (or $COLUMNS); 200 when piped or captured, where rich
    would assume 80 columns and cut table cells short (a pipe has no width)."""
    import os

    if os.environ.get("COLUMNS") or (hasattr(stream, "isatty") and stream.isatty()):
        return None
    return 200


console = Console(highlight=False, soft_wrap=True, width=_width(sys.stdout))
err_console = Console(stderr=True, highlight=False, soft_wrap=True, width=_width(sys.stderr))


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="KLANTREIS_WORKSPACE",
        help="Workspace folder (default: $KLANTREIS_WORKSPACE, else the current folder).",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output as a table, CSV or JSON.")
]
JourneyOpt = Annotated[
    str | None,
    typer.Option("--journey", "-j", help="Journey key (when the workspace has several)."),
]


def workspace(path: Path | None) -> Workspace:
    from klantreis.store import open_workspace

    return open_workspace(path)


def print_frame(df: pd.DataFrame, fmt: OutputFormat, *, title: str | None = None) -> None:
    """Print a DataFrame as a rich table, CSV (exact columns) or JSON records."""
    if fmt == OutputFormat.csv:
        df.to_csv(sys.stdout, index=False)
    elif fmt == OutputFormat.json:
        sys.stdout.write(df.to_json(orient="records", date_format="iso", force_ascii=False) + "\n")
    else:
        table = Table(title=title, title_justify="left")
        for col in df.columns:
            table.add_column(str(col), justify="right" if df[col].dtype.kind in "iuf" else "left")
        for row in df.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        console.print(table)


def print_result(result: Result, fmt: OutputFormat) -> None:
    """Print an analytics result; tables show its definition as a caption."""
    if fmt == OutputFormat.json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, default=str) + "\n")
        return
    print_frame(result.table, fmt, title=result.name)
    if fmt == OutputFormat.table:
        console.print(result.definition, style="dim")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=2) + "\n")


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)
