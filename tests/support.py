"""Test helpers: small workspaces with canonical rows written straight into the store.

Analytics tests use these so they do not depend on the readers; the store's own tests
go through the real ingest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from klantreis.store import Workspace, init_workspace
from klantreis.store.derived import invalidate
from klantreis.store.schema import TABLES


def canonical_frame(table: str, rows: pd.DataFrame | list[dict[str, Any]]) -> pd.DataFrame:
    """``rows`` with every column of the canonical ``table`` (missing ones null), typed."""
    df = pd.DataFrame(rows).copy()
    schema = TABLES[table]
    if table == "events" and "event_id" not in df:
        df["event_id"] = [f"e{i:09d}" for i in range(len(df))]
    if table == "feedback" and "feedback_id" not in df:
        df["feedback_id"] = [f"f{i:09d}" for i in range(len(df))]
    if "timestamp" in schema and "timestamp" in df:
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    for name in schema.names:
        if name not in df:
            df[name] = None
    if table == "events":
        df["mapped"] = df["mapped"].fillna(True).astype(bool)
    return df[list(schema.names)]


def insert(ws: Workspace, table: str, rows: pd.DataFrame | list[dict[str, Any]]) -> None:
    """Append canonical rows to ``table`` of the workspace's store."""
    import ibis

    df = canonical_frame(table, rows)
    ws.table(table)  # create if missing
    if len(df):
        ws.con.insert(table, ibis.memtable(df, schema=TABLES[table]))
    invalidate(ws.writer())  # like every writer of the store: derived tables go


def make_workspace(
    folder: Path,
    *,
    template: str = "blank",
    lang: str = "en",
    events: Any = None,
    feedback: Any = None,
    customers: Any = None,
    identities: Any = None,
) -> Workspace:
    """A new workspace in ``folder`` holding the given canonical rows."""
    ws = init_workspace(folder, template=template, lang=lang)
    for name, rows in (
        ("events", events),
        ("feedback", feedback),
        ("customers", customers),
        ("identities", identities),
    ):
        if rows is not None:
            insert(ws, name, rows)
    return ws
