"""Commands: ingest, forget, prune, rejects (the store)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from klantreis.cli._app import app
from klantreis.cli._common import (
    FormatOpt,
    OutputFormat,
    WorkspaceOpt,
    console,
    print_frame,
    workspace,
)

if TYPE_CHECKING:
    from klantreis.store.ingest import IngestSummary


def _command() -> str:
    return " ".join(["klantreis", *sys.argv[1:]])[:200]


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(help="Files (CSV/TSV, xlsx, Parquet file or folder, JSON Lines)."),
    ],
    workspace_dir: WorkspaceOpt = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="events, feedback, customers or identities.")
    ] = "events",
    mapping: Annotated[
        Path | None, typer.Option("--map", "-m", help="Mapping file (YAML).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count; store nothing.")
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
    file_format: Annotated[
        str | None,
        typer.Option(
            "--file-format", help="csv, tsv, xlsx, parquet or jsonl (default: by extension)."
        ),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="Field separator (default: detected).")
    ] = None,
    quote: Annotated[
        str | None, typer.Option("--quote", help='Quote character (default ").')
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="utf-8, cp1252, latin-1... (default: detected)."),
    ] = None,
    decimal: Annotated[
        str | None, typer.Option("--decimal", help="Decimal mark: . or , (default: detected).")
    ] = None,
    date_format: Annotated[
        str | None, typer.Option("--date-format", help="strptime format, e.g. '%d-%m-%Y %H:%M'.")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Excel sheet (default: the first).")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="Zone of timestamps without one (default: the workspace's)."
        ),
    ] = None,
    pseudonymise: Annotated[
        bool | None,
        typer.Option(
            "--pseudonymise/--no-pseudonymise", help="Replace customer ids by a keyed hash."
        ),
    ] = None,
) -> None:
    """Read files into the workspace's store; print what was stored, skipped and rejected."""
    from klantreis.store.ingest import combine

    ws = workspace(workspace_dir)
    lang = ws.settings.language
    reader = {
        "format": file_format,
        "delimiter": delimiter,
        "quote": quote,
        "encoding": encoding,
        "decimal": decimal,
        "date_format": date_format,
        "sheet": sheet,
    }
    summaries = []
    show_bar = fmt == OutputFormat.table and sys.stderr.isatty()
    for file in files:
        options: dict[str, Any] = {k: v for k, v in reader.items() if v is not None}
        if show_bar:
            summaries.append(
                _with_bar(ws, file, kind, mapping, dry_run, timezone, pseudonymise, options)
            )
        else:
            summaries.append(
                ws.ingest(
                    file,
                    kind=kind,
                    mapping=mapping,
                    dry_run=dry_run,
                    timezone=timezone,
                    pseudonymise=pseudonymise,
                    command=_command(),
                    **options,
                )
            )
    total = combine(summaries)
    if fmt == OutputFormat.json:
        from klantreis.cli._common import print_json

        print_json(total.to_dict())
    else:
        _print_summary(total, lang)


def _with_bar(
    ws: Any,
    file: Path,
    kind: str,
    mapping: Any,
    dry_run: bool,
    timezone: str | None,
    pseudonymise: bool | None,
    options: dict[str, Any],
) -> IngestSummary:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from klantreis.cli._common import err_console

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{file.name}", total=100)

        def report(stage: str, pct: float) -> None:
            bar.update(task, completed=pct, description=f"{file.name}: {stage}")

        return ws.ingest(
            file,
            kind=kind,
            mapping=mapping,
            dry_run=dry_run,
            timezone=timezone,
            pseudonymise=pseudonymise,
            progress=report,
            command=_command(),
            **options,
        )


def _print_summary(s: IngestSummary, lang: str) -> None:
    from rich.table import Table

    from klantreis.i18n import format_number, t

    def reason_text(code: str) -> str:
        try:
            return t(f"store.reason.{code}", lang)
        except KeyError:
            return code

    table = Table(
        title=t("store.summary.title", lang, file=s.file), title_justify="left", show_header=False
    )
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    for key in ("read", "stored", "duplicates", "rejected"):
        table.add_row(t(f"store.summary.{key}", lang), format_number(getattr(s, key), lang))
    console.print(table)
    for code, n in s.reasons.items():
        console.print(f"  {reason_text(code)}: {format_number(n, lang)}", markup=False)
    for ex in s.examples:
        console.print(
            "    "
            + t(
                "store.summary.example",
                lang,
                file=ex["file"],
                line=ex["line"],
                reason=reason_text(ex["reason"]),
            ),
            style="dim",
            markup=False,
        )
    if s.unmapped:
        console.print(t("store.summary.unmapped", lang) + ":", markup=False)
        for name, n in s.unmapped.items():
            console.print(f"  {name}: {format_number(n, lang)}", markup=False)
    if s.dry_run:
        console.print(t("store.summary.dry_run", lang), style="bold", markup=False)


@app.command()
def forget(
    customer_id: Annotated[
        str, typer.Argument(help="The customer id to erase (as in your source data).")
    ],
    workspace_dir: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Erase every row of one customer (all tables, identities included)."""

    ws = workspace(workspace_dir)
    _print_removed(ws.forget(customer_id), fmt, "store.forget.done", ws.settings.language)


@app.command()
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age like 24m (months), 2y, 8w or 90d.")
    ],
    workspace_dir: WorkspaceOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Delete events and feedback older than a retention period."""

    ws = workspace(workspace_dir)
    counts = ws.prune(older_than)
    _print_removed(counts, fmt, "store.prune.done", ws.settings.language, age=older_than)


def _print_removed(
    counts: dict[str, int], fmt: OutputFormat, message: str, lang: str, **params: str
) -> None:
    """Rows removed per table: as JSON, or one line in the workspace's language."""
    from klantreis.cli._common import print_json
    from klantreis.i18n import t

    total = sum(counts.values())
    if fmt == OutputFormat.json:
        print_json({"removed": counts, "total": total})
        return
    detail = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "-"
    console.print(t(message, lang, total=total, detail=detail, **params))


@app.command()
def rejects(
    workspace_dir: WorkspaceOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many rows to show.")] = 50,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List rejected rows: file, line, reason and the raw row."""
    ws = workspace(workspace_dir)
    table = ws.rejects.order_by(["file", "line"]).limit(limit)
    df = table.select("file", "line", "kind", "reason", "raw").execute()
    print_frame(df, fmt, title="rejects")
