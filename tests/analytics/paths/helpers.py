"""A small journey and workspace builders shared by the path tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support import insert, make_workspace

JOURNEY = """\
key: shop
name: Shop
touchpoints:
  - {key: ad, phase: awareness, successors: [site]}
  - {key: site, phase: awareness, successors: [compare, buy]}
  - {key: compare, phase: consideration, successors: [buy]}
  - {key: buy, phase: purchase, conversion: true, successors: [use]}
  - {key: use, phase: service, successors: [review]}
  - {key: review, phase: loyalty, predecessors: [use]}
"""
TOUCHPOINTS = ("ad", "site", "compare", "buy", "use", "review")
PHASE_OF = {
    "ad": "awareness",
    "site": "awareness",
    "compare": "consideration",
    "buy": "purchase",
    "use": "service",
    "review": "loyalty",
}
PHASES = ("awareness", "consideration", "purchase", "service", "loyalty")


def shop_workspace(folder: Path, events: Any = None, customers: Any = None) -> Any:
    """A workspace whose only journey is JOURNEY, holding ``events`` and ``customers``."""
    ws = make_workspace(folder, events=events, customers=customers)
    for file in ws.journey_files():
        file.unlink()
    (ws.journeys_dir / "shop.yaml").write_text(JOURNEY, encoding="utf-8")
    ws.reload()
    return ws


def replace_rows(ws: Any, table: str, rows: Any) -> None:
    """Empty ``table`` and insert ``rows`` (hypothesis examples reuse one workspace)."""
    ws.table(table)
    ws.con.con.execute(f"DELETE FROM {table}")  # fixed table names only (test helper)
    insert(ws, table, rows or [])  # also drops the derived tables (see support.insert)
