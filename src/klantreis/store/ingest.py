"""Ingest: one file -> canonical rows, in one short transaction, nothing lost.

Two phases, so that readers keep working while a file is read:

1. **work**, without the store: in a scratch DuckDB (in memory, spilling to
   ``DIR/.tmp/ingest-<pid>-<token>/``, see :mod:`klantreis.store.scratch`) the file
   is converted by the query of :mod:`klantreis.store.convert`, which gives every row
   its reject reason (or none). A text file (CSV, JSON Lines) is parsed once, in
   parallel, into a staged Parquet copy in file order (its place numbers the rows);
   Parquet is typed and cheap to read, so it is not copied but read again. From these
   come the counts, the rejects with file and line, and the rows that repeat an id seen
   earlier in the same file (a 64-bit hash of the id finds the candidates; the ids
   themselves decide, so a hash collision never drops a row).
2. **commit**, the store open read-write, inside ``BEGIN ... COMMIT``: the rejects
   (except those an earlier ingest of the same file already kept), the good rows whose
   id is not stored yet, one row in ``ingests`` with the counts
   (read = stored + duplicates + rejected), and the derived tables dropped.

The writer lock (:mod:`klantreis.store.lock`) is held from start to end, so a second
writer fails at once naming this one. A crash (kill -9 included) before COMMIT leaves
the store as it was; the scratch folder of a dead ingest is removed by the next
writer. The same file ingested again finds every id already stored and stores nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec, WorkspaceError
from klantreis.store.convert import SCALES, _Sql, convert_sql
from klantreis.store.derived import invalidate
from klantreis.store.mapping import Mapping, load_mapping, resolve_columns
from klantreis.store.readers import ReadOptions, Source, open_source, quote_ident
from klantreis.store.scratch import MEMORY_LIMIT, Scratch

if TYPE_CHECKING:
    from klantreis.model.journey import Journey
    from klantreis.store.workspace import Workspace

__all__ = ["KINDS", "SCALES", "IngestSummary", "combine", "ingest"]

KINDS = ("events", "feedback", "customers", "identities")
EXAMPLES = 5

Progress = Callable[[str, float], None]


@dataclass
class IngestSummary:
    """What an ingest did. ``read == stored + duplicates + rejected`` always holds."""

    file: str
    kind: str
    ingest_id: str
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    seconds: float = 0.0
    detected: dict[str, Any] = field(default_factory=dict)
    unmapped_total: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``klantreis ingest --format json``."""
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "unmapped": dict(self.unmapped),
            "rejects": {"by_reason": dict(self.reasons), "examples": list(self.examples)},
            "files": [self.file] if self.file else [],
            "kind": self.kind,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
        }


def combine(summaries: list[IngestSummary]) -> IngestSummary:
    """One summary for several files."""
    if len(summaries) == 1:
        return summaries[0]
    out = IngestSummary(file="", kind=summaries[0].kind if summaries else "events", ingest_id="")
    files: list[str] = []
    for s in summaries:
        files.append(s.file)
        out.read += s.read
        out.stored += s.stored
        out.duplicates += s.duplicates
        out.rejected += s.rejected
        out.seconds += s.seconds
        out.dry_run = s.dry_run
        for k, v in s.reasons.items():
            out.reasons[k] = out.reasons.get(k, 0) + v
        for k, v in s.unmapped.items():
            out.unmapped[k] = out.unmapped.get(k, 0) + v
        out.examples.extend(s.examples[: max(0, EXAMPLES - len(out.examples))])
    out.unmapped = dict(sorted(out.unmapped.items(), key=lambda kv: (-kv[1], kv[0]))[:10])
    out.file = ", ".join(files)
    out.detected = {"files": files}
    return out


class _Checksum:
    """SHA-256 of the file, computed in a side thread while DuckDB reads it."""

    def __init__(self, path: Path) -> None:
        self._value = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._value = _checksum(path) if path.exists() else ""
        except BaseException as exc:  # re-raised by result()
            self._error = exc

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def _checksum(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*.parquet")) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    return h.hexdigest()


def _journey(ws: Workspace, key: str | None) -> Journey | None:
    try:
        return ws.journey(key)
    except WorkspaceError:
        return None


# -- the ingest ------------------------------------------------------------------------
def ingest(
    ws: Workspace,
    path: str | Path,
    *,
    kind: str = "events",
    mapping: Any = None,
    options: ReadOptions | None = None,
    dry_run: bool = False,
    timezone: str | None = None,
    pseudonymise: bool | None = None,
    journey: str | None = None,
    progress: Progress | None = None,
    command: str | None = None,
) -> IngestSummary:
    """Ingest one file (or Parquet folder) into the workspace; see the module docstring."""
    from klantreis.i18n import t
    from klantreis.store.lock import writer_lock

    lang = ws.settings.language
    mp: Mapping = load_mapping(mapping, lang)
    kind = mp.kind if (mp.kind and kind is None) else (kind or "events")
    if kind not in KINDS:
        raise InvalidSpec("kind", t("store.kind.unknown", lang), value=kind, allowed=KINDS)
    path = Path(path).expanduser()
    opts = mp.read_options().merged(options or ReadOptions())
    tz = timezone or mp.timezone or ws.settings.timezone
    if timezone or mp.timezone:
        from klantreis.settings import _timezone

        tz = _timezone(tz)
    j = _journey(ws, journey) if kind in ("events", "feedback") else None
    with writer_lock(ws.path, command, lang):
        return _run(ws, path, kind, mp, opts, tz, dry_run, pseudonymise, j, progress)


@dataclass
class _Staged:
    """What the work phase left in the scratch folder for the commit."""

    rows: Path | None  # converted rows in file order (text files); None: read ``conv``
    conv: str  # the conversion query over the file (see klantreis.store.convert)
    q: _Sql  # its parameters
    rejects: Path | None = None  # file, line, reason, raw
    repeats: Path | None = None  # _idx of rows repeating an earlier id of the file

    @property
    def relation(self) -> str:
        """SQL for the rows with their record number ``_idx`` ($rows: the staged file)."""
        if self.rows is None:
            return f"({self.conv})"
        return (
            "(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _idx "
            "FROM read_parquet($rows, file_row_number = true))"
        )


def _run(
    ws: Workspace,
    path: Path,
    kind: str,
    mp: Mapping,
    opts: ReadOptions,
    tz: str,
    dry_run: bool,
    pseudonymise: bool | None,
    journey: Journey | None,
    progress: Progress | None,
) -> IngestSummary:
    from klantreis.store import privacy

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    ingest_id = f"i{started:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    summary = IngestSummary(file=str(path), kind=kind, ingest_id=ingest_id, dry_run=dry_run)
    if progress:
        progress("checksum", 0.0)
    key = None
    if privacy.enabled(ws.path, mp.pseudonymise if pseudonymise is None else pseudonymise):
        key = privacy.key(ws.path, create=True)
    with Scratch(ws.path, tz) as scratch:
        checksum = _Checksum(path)
        source = open_source(scratch.con, path, opts, scratch.dir, ws.settings.language)
        poller = _Poller(scratch.con, progress) if progress else None
        try:
            summary.detected = {
                "format": source.format,
                "encoding": source.encoding,
                "delimiter": source.delimiter,
                "decimal": source.decimal,
                "columns": source.columns,
            }
            staged = None
            if not source.empty:
                roles = resolve_columns(kind, source.columns, mp, path, ws.settings.language)
                conv, q = convert_sql(source, roles, kind, mp, journey, tz, key, opts)
                staged = _work(
                    scratch, summary, source, kind, conv, q, poller, ws.settings.language
                )
            _commit(ws, summary, staged, checksum.result(), started, poller, tz)
        finally:
            if poller:
                poller.stop()
            source.cleanup()
    summary.seconds = time.perf_counter() - t0
    return summary


class _Poller:
    """Reports DuckDB's query progress from a side thread while a statement runs."""

    def __init__(self, con: Any, callback: Progress) -> None:
        self.con = con
        self.callback = callback
        self.stage = "reading"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            try:
                pct = float(self.con.query_progress())
            except Exception:
                continue
            if pct >= 0:
                self.callback(self.stage, pct)

    def set(self, stage: str, con: Any = None) -> None:
        if con is not None:
            self.con = con
        self.stage = stage
        self.callback(stage, 0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.callback("done", 100.0)


_KEYS = {"events": "event_id", "feedback": "feedback_id", "customers": "customer_id"}


def _key(kind: str) -> str:
    return quote_ident("alias_id" if kind == "identities" else _KEYS[kind])


def _exec(
    con: Any,
    sql: str,
    q: _Sql,
    extra: dict[str, Any] | None = None,
    *,
    source: Source | None = None,
    lang: str | None = None,
) -> Any:
    params = q.used(sql) | {k: v for k, v in (extra or {}).items() if f"${k}" in sql}
    try:
        return con.execute(sql, params)
    except Exception as exc:
        if source is not None and type(exc).__module__.startswith(("duckdb", "_duckdb")):
            from klantreis.errors import ReadError
            from klantreis.i18n import t

            first = str(exc).splitlines()[0]
            raise ReadError(t("store.read.failed", lang, error=first), file=source.path) from None
        raise


# -- phase 1: work in the scratch ------------------------------------------------------
def _work(
    scratch: Scratch,
    summary: IngestSummary,
    source: Source,
    kind: str,
    conv: str,
    q: _Sql,
    poller: _Poller | None,
    lang: str | None = None,
) -> _Staged:
    """Count, find rejects and repeated ids; stage the rows when the file is text.

    Text files (CSV, JSON Lines) are parsed once into the staged rows, in file order,
    which numbers them. Parquet (typed, numbered, cheap to read) is not copied: the
    checks read it, and the commit reads it again (a copy costs more than a read)."""
    con = scratch.con
    staged = _Staged(rows=None, conv=conv, q=q)
    files: dict[str, Any] = {"header": source.header_lines, "file": str(source.path)}
    rel = f"({conv})"
    if not source.numbered:
        staged.rows = scratch.file("rows.parquet")
        files["rows"] = str(staged.rows)
        rel = staged.relation
        # The one pass over the text: in parallel, keeping the file's order; the raw
        # row (JSON) and the file name travel only with rejected rows.
        con.execute("SET preserve_insertion_order = true")
        _exec(
            con,
            "COPY (SELECT * REPLACE (CASE WHEN _reason IS NOT NULL THEN _file END AS _file) "
            f"FROM ({conv})) TO $rows (FORMAT parquet, COMPRESSION lz4_raw)",
            q,
            files,
            source=source,
            lang=lang,
        )
        con.execute("SET preserve_insertion_order = false")
    if poller:
        poller.set("checking")

    def run(sql: str, **extra: Any) -> Any:
        return _exec(con, sql, q, files | extra, source=source, lang=lang)

    k = _key(kind)
    unmapped = (
        "CASE WHEN _reason IS NULL AND NOT mapped THEN touchpoint END"
        if kind == "events"
        else "CAST(NULL AS VARCHAR)"
    )
    # One grouped scan counts everything: by reason and unmapped touchpoint, and (a
    # second grouping set) by a 64-bit hash of the id of the good rows, which proves
    # (when all differ) that the file repeats no id.
    total, valid, distinct, reason_list, top, total_un = run(
        "SELECT coalesce(sum(n) FILTER (WHERE g = 1), 0), "
        "coalesce(sum(n) FILTER (WHERE g = 1 AND _reason IS NULL), 0), "
        "count(*) FILTER (WHERE g = 0 AND h IS NOT NULL), "
        "list({'k': _reason, 'n': n}) FILTER (WHERE g = 1 AND _reason IS NOT NULL), "
        "list_slice(list_sort(list({'n': -n, 'k': u}) FILTER (WHERE g = 1 AND u IS NOT NULL)), "
        "1, 10), "
        "coalesce(sum(n) FILTER (WHERE g = 1 AND u IS NOT NULL), 0) "
        "FROM (SELECT _reason, u, h, count(*) AS n, grouping(h) AS g FROM ("
        f"SELECT _reason, {unmapped} AS u, CASE WHEN _reason IS NULL THEN hash({k}) END AS h "
        f"FROM {rel}) GROUP BY GROUPING SETS ((_reason, u), (h)))"
    ).fetchone()
    summary.unmapped_total = int(total_un or 0)
    summary.unmapped = {str(e["k"]): int(-e["n"]) for e in (top or [])}
    reasons: dict[str, int] = {str(e["k"]): int(e["n"]) for e in (reason_list or [])}
    n_bad = sum(reasons.values())
    if int(valid) > int(distinct):
        # the rows whose id an earlier row of the file has (ids decide, not hashes)
        staged.repeats = scratch.file("repeats.parquet")
        run(
            "COPY (SELECT _idx FROM (SELECT _idx, row_number() OVER "
            f"(PARTITION BY {k} ORDER BY _idx) AS n FROM {rel} "
            f"WHERE _reason IS NULL AND hash({k}) IN (SELECT hash({k}) FROM "
            f"{rel} WHERE _reason IS NULL GROUP BY 1 HAVING count(*) > 1)) "
            "WHERE n > 1) TO $out (FORMAT parquet)",
            out=str(staged.repeats),
        )
    csv_bad = _csv_rejects(con, source, reasons)
    if n_bad or csv_bad:
        staged.rejects = scratch.file("rejects.parquet")
        line = "_idx + $header"
        if csv_bad:
            line = "_idx + 1 + (SELECT count(*) FROM _csvrej c WHERE c.s < _idx)"
        parts = [
            f"SELECT _file AS file, {line} AS line, _reason AS reason, _raw AS raw "
            f"FROM {rel} WHERE _reason IS NOT NULL"
        ]
        if csv_bad:
            parts.append("SELECT $file, line, error_type, csv_line FROM _csvrej")
        run(f"COPY ({' UNION ALL '.join(parts)}) TO $out (FORMAT parquet)", out=str(staged.rejects))
        examples = con.execute(
            f"SELECT file, line, reason FROM read_parquet($out) ORDER BY line LIMIT {EXAMPLES}",
            {"out": str(staged.rejects)},
        ).fetchall()
        summary.examples = [{"file": f, "line": int(ln), "reason": r} for f, ln, r in examples]
    summary.read = int(total) + csv_bad
    summary.rejected = n_bad + csv_bad
    summary.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    return staged


def _csv_rejects(con: Any, source: Source, reasons: dict[str, int]) -> int:
    """Rows DuckDB's CSV reader refused (too many fields, bad quoting, bad UTF-8), as
    table ``_csvrej``; adds their reasons to ``reasons`` and returns how many."""
    if not source.rejects_table:
        return 0
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _csvrej AS SELECT line, error_type, csv_line, "
        "line - 1 - row_number() OVER (ORDER BY line) AS s FROM (SELECT line, "
        "'row.' || lower(replace(any_value(error_type), ' ', '_')) AS error_type, "
        f"any_value(csv_line) AS csv_line FROM temp.{quote_ident(source.rejects_table)} "
        "GROUP BY line)"
    )
    bad = 0
    for reason, n in con.execute("SELECT error_type, count(*) FROM _csvrej GROUP BY 1").fetchall():
        reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
        bad += int(n)
    return bad


# -- phase 2: commit to the store --------------------------------------------------------
def _commit(
    ws: Workspace,
    summary: IngestSummary,
    staged: _Staged | None,
    checksum: str,
    started: datetime,
    poller: _Poller | None,
    tz: str,
) -> None:
    """Open the store read-write and write everything in one transaction."""
    from klantreis.store.schema import TABLES

    kind = summary.kind
    was_open = ws._con is not None
    con = ws.writer()
    if poller:
        poller.set("committing", con)
    # bounded memory: DuckDB spills to the workspace's temp folder beyond this
    con.execute("SET memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("SET temp_directory = $d", {"d": str(ws.path / ".tmp")})
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = $tz", {"tz": tz})  # as in the scratch (conv may read text)
    con.execute("BEGIN TRANSACTION")
    try:
        if staged and staged.rejects:
            con.execute(
                "INSERT INTO rejects SELECT $ingest, file, line, $kind, "
                "split_part(reason, '.', 1), reason, raw FROM read_parquet($rejects) n "
                "WHERE NOT EXISTS (SELECT 1 FROM rejects r JOIN ingests i USING (ingest_id) "
                "WHERE i.checksum = $checksum AND i.kind = $kind AND r.line = n.line "
                "AND r.reason = n.reason)",
                {
                    "ingest": summary.ingest_id,
                    "kind": kind,
                    "rejects": str(staged.rejects),
                    "checksum": checksum,
                },
            )
        if poller:
            poller.set("storing")
        stored = 0
        if staged:
            stored = _store(con, staged, kind, summary.ingest_id, list(TABLES[kind].names))
        summary.stored = stored
        summary.duplicates = summary.read - summary.stored - summary.rejected
        _log(con, summary, checksum, started)
        if summary.dry_run:
            con.execute("ROLLBACK")
        else:
            invalidate(con)  # derived tables (the timeline...) are rebuilt on next use
            con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):  # the connection may already be gone
            con.execute("ROLLBACK")
        raise
    finally:
        for setting in ("memory_limit", "preserve_insertion_order"):
            with contextlib.suppress(Exception):
                con.execute(f"RESET {setting}")
        with contextlib.suppress(Exception):
            con.execute("SET TimeZone = $tz", {"tz": ws.settings.timezone})
    if not was_open:
        ws.close()  # let readers of other processes in as soon as possible


def _store(con: Any, staged: _Staged, kind: str, ingest_id: str, cols: list[str]) -> int:
    """Insert the good rows whose id is new; the first one of the file wins."""
    k = _key(kind)
    select = ", ".join("$ingest AS source" if c == "source" else quote_ident(c) for c in cols)
    names = ", ".join(quote_ident(c) for c in cols)
    extra: dict[str, Any] = {"ingest": ingest_id, "rows": str(staged.rows)}
    where = "_reason IS NULL"
    rel = "read_parquet($rows)" if staged.rows else staged.relation
    if staged.repeats:
        rel = staged.relation
        where += " AND NOT EXISTS (SELECT 1 FROM read_parquet($repeats) d WHERE d._idx = s._idx)"
        extra["repeats"] = str(staged.repeats)
    existing = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {kind} LIMIT 1)").fetchone()[0]
    if existing:
        where += f" AND NOT EXISTS (SELECT 1 FROM {kind} e WHERE e.{k} = s.{k})"
    sql = f"INSERT INTO {kind} ({names}) SELECT {select} FROM {rel} s WHERE {where}"
    return int(_exec(con, sql, staged.q, extra).fetchone()[0])


def _log(con: Any, s: IngestSummary, checksum: str, started: datetime) -> None:
    con.execute(
        "INSERT INTO ingests VALUES ($id, $file, $checksum, $kind, $read, $stored, $dup, $rej, "
        "$unmapped, $started, $finished)",
        {
            "id": s.ingest_id,
            "file": s.file,
            "checksum": checksum,
            "kind": s.kind,
            "read": s.read,
            "stored": s.stored,
            "dup": s.duplicates,
            "rej": s.rejected,
            "unmapped": s.unmapped_total,
            "started": started,
            "finished": datetime.now(UTC),
        },
    )


def summary_dict(s: IngestSummary) -> dict[str, Any]:
    return asdict(s)
