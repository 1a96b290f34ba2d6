"""Scratch space of one ingest: a folder in the workspace and a DuckDB of its own.

An ingest reads, converts and checks a file without opening the store: it works in an
in-memory DuckDB that spills to ``DIR/.tmp/ingest-<pid>-<token>/`` and stages its
results as Parquet files in that folder. Only the commit opens the store. So readers
keep working while a file is read, and a killed ingest (kill -9 included) leaves
nothing in the store; its folder is removed by the next writer (who holds the writer
lock, so no other ingest can be using one).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with Scratch(folder, "UTC") as s:
    ...     s.con.execute("SELECT 42").fetchone()[0], s.dir.parent.name
    (42, '.tmp')
    >>> list((folder / ".tmp").iterdir())
    []
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

__all__ = ["MEMORY_LIMIT", "PREFIX", "Scratch", "remove_stale"]

#: DuckDB's memory budget while a file is read (it spills to the scratch folder beyond it).
MEMORY_LIMIT = "1GB"
PREFIX = "ingest-"
TMP_DIR = ".tmp"


def remove_stale(tmp_dir: Path) -> None:
    """Remove scratch folders of ingests that died (call while holding the writer lock)."""
    if not tmp_dir.is_dir():
        return
    for path in tmp_dir.glob(PREFIX + "*"):
        shutil.rmtree(path, ignore_errors=True)
    for path in tmp_dir.glob(".transcoded-*"):  # older versions kept these loose
        path.unlink(missing_ok=True)


class Scratch:
    """A scratch folder plus an in-memory DuckDB connection spilling into it."""

    def __init__(self, workspace: Path, timezone: str) -> None:
        tmp_dir = workspace / TMP_DIR
        tmp_dir.mkdir(exist_ok=True)
        remove_stale(tmp_dir)
        self.dir = tmp_dir / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.dir.mkdir()
        import duckdb

        self.con: Any = duckdb.connect(
            ":memory:",
            config={
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": str(self.dir / "spill"),
                # rows carry their record number (_idx); their order on disk is free
                "preserve_insertion_order": False,
            },
        )
        self.con.execute("SET enable_progress_bar = false")
        # text without an offset is read in the ingest's time zone (a bound parameter)
        self.con.execute("SET TimeZone = ?", [timezone])

    def file(self, name: str) -> Path:
        return self.dir / name

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
