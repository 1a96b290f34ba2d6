"""Derived tables: indexes the analytics build from the canonical tables, cached in the store.

Some answers need every customer's events in order (funnels, transitions, paths,
attribution). Sorting 10M events per customer costs seconds on every question, so the
analytics define a *derived table* (an Ibis expression over the canonical tables, e.g.
the timeline: events numbered per customer with the next event beside each) and ask the
workspace for it with :meth:`Workspace.derived`. The workspace builds it once and keeps
it until the data changes, like a sorted table in a column store:

- on the DuckDB store it is a table ``_derived_<name>_<signature>`` in the store file,
  so the next process finds it too. The signature is a hash of the definition's version
  and of the sizes of the tables it reads, so a table written by another tool is not
  trusted after a change. Every writer of the store (ingest, link, unlink, forget,
  prune) also drops all derived tables inside its own transaction: a derived table is
  never older than the data it was built from;
- when the store is open read-only (another process writes it) the table is a
  temporary one of this connection;
- on other backends (warehouses) it is Ibis's cache of the expression for this session:
  nothing is written into the user's warehouse.

The derived tables are never the truth: dropping them loses nothing.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from klantreis.result import cache_table

if TYPE_CHECKING:
    from collections.abc import Callable

    import ibis

__all__ = ["PREFIX", "derived_table", "invalidate"]

PREFIX = "_derived_"


def invalidate(raw: Any) -> None:
    """Drop every derived table (call inside the writer's transaction; raw DuckDB connection)."""
    for name in _tables(raw, PREFIX, temporary=False):
        # names are ours (PREFIX + key + hex digest), quoted as identifiers
        raw.execute(f'DROP TABLE IF EXISTS "{name}"')


def derived_table(
    ws: Any,
    name: str,
    build: Callable[[], ibis.Table],
    *,
    version: int,
    reads: tuple[str, ...],
    extra: str = "",
) -> ibis.Table:
    """The derived table ``name`` of the workspace (built by ``build()`` when missing).

    ``reads`` are the canonical tables the definition reads (their sizes enter the
    signature); ``version`` changes when the definition changes; ``extra`` is any
    setting the definition depends on (e.g. the time zone).
    """
    con = ws.connect()
    # Within one connection the memo is trusted: this workspace's own writers clear it,
    # and no other process can write the store while this connection holds it.
    memo: dict[str, ibis.Table] = ws._derived
    key = f"{name}|{version}|{extra}"
    if key in memo:
        return memo[key]
    signature = _signature(ws, name, version, reads, extra)
    raw = getattr(con, "con", None)
    if con.name != "duckdb" or raw is None:
        table = cache_table(build())
    else:
        table_name = f"{PREFIX}{name}_{signature}"
        if not ws.read_only:
            if not _exists(raw, table_name, temporary=False):
                _replace(ws, raw, name, table_name, build)
            table = con.table(table_name)
        else:
            if not _exists(raw, table_name, temporary=True):
                con.create_table(table_name, build(), temp=True)
            table = con.table(table_name)
    memo[key] = table
    return table


def _signature(ws: Any, name: str, version: int, reads: tuple[str, ...], extra: str) -> str:
    parts = [name, str(version), extra]
    for table_name in reads:
        table = ws.table(table_name)
        parts.append(f"{table_name}:{int(table.count().execute())}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _tables(raw: Any, prefix: str, *, temporary: bool) -> list[str]:
    """Names of the store's (or this connection's temporary) tables starting with ``prefix``."""
    rows = raw.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, $p) "
        "AND temporary = $t",
        {"p": prefix, "t": temporary},
    ).fetchall()
    return [r[0] for r in rows]


def _exists(raw: Any, table_name: str, *, temporary: bool) -> bool:
    return table_name in _tables(raw, table_name, temporary=temporary)


def _replace(
    ws: Any, raw: Any, name: str, table_name: str, build: Callable[[], ibis.Table]
) -> None:
    """Build ``table_name`` and drop the older versions of ``name``, in one transaction."""
    old = _tables(raw, f"{PREFIX}{name}_", temporary=False)
    raw.execute("BEGIN TRANSACTION")
    try:
        for stale in old:
            raw.execute(f'DROP TABLE IF EXISTS "{stale}"')
        ws.connect().create_table(table_name, build())
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise
