"""Privacy for EU users: pseudonymised ids, the right to erasure, retention periods.

* Pseudonymisation: customer ids (and identity aliases) are replaced at ingest by
  ``'p' + the first 32 hex digits of SHA-256(key || id)``. The key is 32 random bytes
  in ``DIR/.klantreis-key`` (mode 600), never in the store. Once the key file exists,
  every later ingest pseudonymises too, so ids stay comparable.
* ``forget(ws, id)`` deletes every row of that customer (events, feedback, customers,
  identities, and the events and rejects of linked aliases) and records in ``erasures``
  that an erasure happened and how many rows went, without the id.
* ``prune(ws, "24m")`` deletes events and feedback older than the retention period,
  and rejects of ingests that old.

    >>> parse_age("24m"), parse_age("2y"), parse_age("90d")
    ((24, 'month'), (24, 'month'), (90, 'day'))
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec
from klantreis.store.derived import invalidate

if TYPE_CHECKING:
    from klantreis.store.workspace import Workspace

__all__ = ["KEY_FILE", "enabled", "forget", "key", "parse_age", "prune", "pseudonym"]

KEY_FILE = ".klantreis-key"


def enabled(folder: Path, wanted: bool | None) -> bool:
    """Pseudonymise when asked, or when the workspace already has a key."""
    if wanted is not None:
        if wanted is False and (folder / KEY_FILE).exists():
            raise InvalidSpec(
                "pseudonymise",
                "this workspace pseudonymises ids (it has a key); clear ids cannot be mixed in",
            )
        return wanted
    return (folder / KEY_FILE).exists()


def key(folder: Path, *, create: bool = False) -> str | None:
    """The workspace's pseudonymisation key (hex), created on first use if ``create``."""
    path = folder / KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        return None
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def pseudonym(folder: Path, customer_id: str) -> str | None:
    """The stored id of ``customer_id`` (None when the workspace does not pseudonymise)."""
    k = key(folder)
    if k is None:
        return None
    return "p" + hashlib.sha256((k + customer_id).encode("utf-8")).hexdigest()[:32]


def parse_age(value: str) -> tuple[int, str]:
    """'24m' (months), '2y', '8w', '90d' -> (amount, 'month' | 'day')."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwmy])\s*", str(value))
    if not match:
        raise InvalidSpec(
            "older_than", "is not an age like 24m (months), 2y, 8w or 90d", value=value
        )
    n, unit = int(match.group(1)), match.group(2)
    if unit == "y":
        return n * 12, "month"
    if unit == "m":
        return n, "month"
    if unit == "w":
        return n * 7, "day"
    return n, "day"


def _record(con: Any, action: str, rows: dict[str, int]) -> None:
    import json

    con.execute(
        "INSERT INTO erasures VALUES ($id, $action, $at, $rows, $total)",
        {
            "id": f"x{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
            "action": action,
            "at": datetime.now(UTC),
            "rows": json.dumps(rows, sort_keys=True),
            "total": sum(rows.values()),
        },
    )


def forget(ws: Workspace, customer_id: str, *, command: str | None = None) -> dict[str, int]:
    """Remove every row of one customer; returns rows removed per table."""
    from klantreis.store.lock import writer_lock

    ids = [customer_id]
    stored = pseudonym(ws.path, customer_id)
    if stored:
        ids.append(stored)
    with writer_lock(ws.path, command or f"forget {len(ids)} id(s)"):
        con = ws.writer()
        con.execute("BEGIN TRANSACTION")
        try:
            params = {"ids": ids}
            # the customer's aliases and the ids they are an alias of, both ways
            aliases = [
                r[0]
                for r in con.execute(
                    "SELECT alias_id FROM identities WHERE list_contains($ids, customer_id) "
                    "UNION SELECT customer_id FROM identities WHERE list_contains($ids, alias_id)",
                    params,
                ).fetchall()
            ]
            every = {"ids": ids + aliases}
            counts: dict[str, int] = {}
            for table, column in (
                ("events", "customer_id"),
                ("feedback", "customer_id"),
                ("customers", "customer_id"),
            ):
                counts[table] = con.execute(
                    f"DELETE FROM {table} WHERE list_contains($ids, {column})", every
                ).fetchone()[0]
            counts["identities"] = con.execute(
                "DELETE FROM identities WHERE list_contains($ids, customer_id) "
                "OR list_contains($ids, alias_id)",
                every,
            ).fetchone()[0]
            # rejected raw rows that mention the id (rejects keep the raw text)
            counts["rejects"] = con.execute(
                "DELETE FROM rejects WHERE len(list_filter($ids, x -> contains(raw, x))) > 0",
                every,
            ).fetchone()[0]
            invalidate(con)  # derived tables hold copies of the erased rows
            _record(con, "forget", counts)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return counts


def prune(
    ws: Workspace, older_than: str, *, now: datetime | None = None, command: str | None = None
) -> dict[str, int]:
    """Delete events and feedback older than ``older_than`` ('24m' = 24 months)."""
    from klantreis.store.lock import writer_lock

    amount, unit = parse_age(older_than)
    now = now or datetime.now(UTC)
    with writer_lock(ws.path, command or f"prune --older-than {older_than}"):
        con = ws.writer()
        con.execute("BEGIN TRANSACTION")
        try:
            cutoff = con.execute(
                f"SELECT CAST($now AS TIMESTAMPTZ) - to_{unit}s(CAST($n AS INTEGER))",
                {"now": now, "n": amount},
            ).fetchone()[0]
            counts = {}
            for table in ("events", "feedback"):
                counts[table] = con.execute(
                    f"DELETE FROM {table} WHERE timestamp < $cutoff", {"cutoff": cutoff}
                ).fetchone()[0]
            counts["rejects"] = con.execute(
                "DELETE FROM rejects WHERE ingest_id IN "
                "(SELECT ingest_id FROM ingests WHERE started_at < $cutoff)",
                {"cutoff": cutoff},
            ).fetchone()[0]
            invalidate(con)
            _record(con, "prune", counts)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return counts
