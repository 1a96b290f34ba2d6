"""Ingest: one file -> canonical rows, in one transaction, nothing lost.

The file is opened by :mod:`klantreis.store.readers` as a DuckDB relation; every
conversion (ids, timestamps to UTC, numbers with a decimal comma, touchpoint rules,
score scales) is one SQL expression over it with bound parameters, so the data never
passes through Python. Steps, inside ``BEGIN ... COMMIT``:

1. stage: convert every row and give it a reject reason or none (temp table);
2. rejects: rows with a reason, plus rows DuckDB's CSV reader refused, with file and line;
3. store: rows without a reason whose id is new (first one of the file wins);
4. log: one row in ``ingests`` with the counts: read = stored + duplicates + rejected.

A crash (kill -9 included) before COMMIT leaves the store as it was; the same file
ingested again finds every id already stored and stores nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec, WorkspaceError
from klantreis.store.derived import invalidate
from klantreis.store.mapping import Mapping, load_mapping, resolve_columns
from klantreis.store.readers import ReadOptions, Source, open_source, quote_ident

if TYPE_CHECKING:
    from klantreis.model.journey import Journey
    from klantreis.store.workspace import Workspace

__all__ = ["KINDS", "SCALES", "IngestSummary", "combine", "ingest"]

KINDS = ("events", "feedback", "customers", "identities")
#: Fixed score scales; emotion uses the journey's scale.
SCALES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
EXAMPLES = 5
#: DuckDB's memory budget during an ingest (it spills to DIR/.tmp beyond it).
MEMORY_LIMIT = "1GB"

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


# -- the SQL pieces ----------------------------------------------------------------
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
)
_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
_ISO_ZONED = r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$"
_DAY_FIRST = r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}([T ]+\d{1,2}[:.]\d{2}([:.]\d{2})?)?$"
_EPOCH = r"^-?\d+(\.\d+)?$"
_DUTCH_FORMATS = [
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H.%M",
]


class _Sql:
    """Collects named bound parameters while SQL text is assembled."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = dict(params)
        self._n = 0

    def used(self, sql: str) -> dict[str, Any]:
        """The parameters ``sql`` refers to (DuckDB refuses unused ones)."""
        import re

        names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
        return {k: v for k, v in self.params.items() if k in names}

    def p(self, value: Any) -> str:
        self._n += 1
        name = f"p{self._n}"
        self.params[name] = value
        return f"${name}"


class _Builder:
    def __init__(
        self,
        source: Source,
        roles: dict[str, str],
        q: _Sql,
        tz: str,
        decimal: str,
        date_format: str | None,
    ) -> None:
        self.source = source
        self.roles = roles
        self.q = q
        self.tz = q.p(tz)
        self.decimal = decimal
        self.date_format = date_format

    def col(self, role: str) -> str:
        return "src." + quote_ident(self.roles[role])

    def typ(self, role: str) -> str:
        return self.source.types[self.roles[role]].upper()

    def text(self, role: str) -> str:
        if role not in self.roles:
            return "CAST(NULL AS VARCHAR)"
        if self.typ(role) == "VARCHAR":
            if self.source.format == "parquet":  # typed data: no padding to trim
                return f"nullif({self.col(role)}, '')"
            return f"nullif(trim({self.col(role)}), '')"
        return f"nullif(CAST({self.col(role)} AS VARCHAR), '')"

    def raw(self, role: str) -> str:
        """Something that is NULL exactly when the source has no value (for checks)."""
        if role not in self.roles:
            return "CAST(NULL AS VARCHAR)"
        if self.typ(role) == "VARCHAR":
            return self.text(role)
        return self.col(role)

    def number(self, role: str) -> str:
        if role not in self.roles:
            return "CAST(NULL AS DOUBLE)"
        typ = self.typ(role)
        if typ.startswith("DECIMAL") or typ in _NUMERIC:
            return f"CAST({self.col(role)} AS DOUBLE)"
        text = self.text(role)
        if self.decimal == ",":
            return f"try_cast(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE)"
        return f"try_cast({text} AS DOUBLE)"

    def timestamp(self, role: str) -> str:
        typ = self.typ(role)
        c = self.col(role)
        if typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ":
            return c
        if typ.startswith("TIMESTAMP") or typ == "DATE":
            return f"timezone({self.tz}, CAST({c} AS TIMESTAMP))"
        if typ in _NUMERIC or typ.startswith("DECIMAL"):
            return self._epoch(f"CAST({c} AS DOUBLE)")
        x = self.text(role)
        if self.date_format:
            return f"timezone({self.tz}, try_strptime({x}, {self.q.p(self.date_format)}))"
        general = (
            f"CASE WHEN regexp_full_match({x}, {self.q.p(_ISO_NAIVE)}) "
            f"THEN timezone({self.tz}, try_cast({x} AS TIMESTAMP)) "
            f"WHEN regexp_full_match({x}, {self.q.p(_ISO_ZONED)}) "
            f"THEN try_cast({x} AS TIMESTAMPTZ) "
            f"WHEN regexp_full_match({x}, {self.q.p(_DAY_FIRST)}) "
            f"THEN timezone({self.tz}, try_strptime(replace({x}, 'T', ' '), "
            f"{self.q.p(_DUTCH_FORMATS)})) "
            f"WHEN regexp_full_match({x}, {self.q.p(_EPOCH)}) "
            f"THEN {self._epoch(f'CAST({x} AS DOUBLE)')} "
            f"END"
        )
        kind = _sample_kind([r.get(self.roles[role]) for r in self.source.sample])
        if kind == "iso_naive":
            # the common case first; anything else falls through to the general rules
            return f"coalesce(timezone({self.tz}, try_cast({x} AS TIMESTAMP)), {general})"
        if kind == "iso_zoned":
            return f"coalesce(try_cast({x} AS TIMESTAMPTZ), {general})"
        return general

    @staticmethod
    def _epoch(x: str) -> str:
        # milliseconds when too large to be seconds (after 5138 AD)
        return (
            f"CASE WHEN abs({x}) >= 1e11 THEN to_timestamp({x} / 1000.0) ELSE to_timestamp({x}) END"
        )


def _sample_kind(values: list[Any]) -> str:
    import re

    vals = [str(v).strip() for v in values if v not in (None, "")]
    for kind, pattern in (("iso_naive", _ISO_NAIVE), ("iso_zoned", _ISO_ZONED)):
        if vals and all(re.match(pattern, v) for v in vals):
            return kind
    return "other"


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
    from klantreis.store.lock import writer_lock

    mp: Mapping = load_mapping(mapping)
    kind = mp.kind if (mp.kind and kind is None) else (kind or "events")
    if kind not in KINDS:
        raise InvalidSpec("kind", "unknown kind of data", value=kind, allowed=KINDS)
    path = Path(path).expanduser()
    opts = mp.read_options().merged(options or ReadOptions())
    tz = timezone or mp.timezone or ws.settings.timezone
    if timezone or mp.timezone:
        from klantreis.settings import _timezone

        tz = _timezone(tz)
    j = _journey(ws, journey) if kind in ("events", "feedback") else None
    with writer_lock(ws.path, command):
        con = ws.writer()
        return _run(ws, con, path, kind, mp, opts, tz, dry_run, pseudonymise, j, progress)


def _run(
    ws: Workspace,
    con: Any,
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
    tmp_dir = ws.path / ".tmp"
    tmp_dir.mkdir(exist_ok=True)
    if progress:
        progress("checksum", 0.0)
    checksum = _checksum(path) if path.exists() else ""
    source = open_source(con, path, opts, tmp_dir)
    summary.detected = {
        "format": source.format,
        "encoding": source.encoding,
        "delimiter": source.delimiter,
        "decimal": source.decimal,
        "columns": source.columns,
    }
    key = None
    if privacy.enabled(ws.path, mp.pseudonymise if pseudonymise is None else pseudonymise):
        key = privacy.key(ws.path, create=True)
    poller = _Poller(con, progress) if progress else None
    # bounded memory: DuckDB spills to the workspace's temp folder beyond this
    con.execute("SET memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("SET temp_directory = $d", {"d": str(tmp_dir)})
    con.execute("BEGIN TRANSACTION")
    try:
        if not source.empty:
            roles = resolve_columns(kind, source.columns, mp, path, ws.settings.language)
            conv, q = _stage(con, source, roles, kind, mp, journey, tz, key, opts, poller)
            _finish(con, summary, source, kind, checksum, conv, q, poller)
        _log(con, summary, checksum, started)
        if dry_run:
            con.execute("ROLLBACK")
        else:
            invalidate(con)  # derived tables (the timeline...) are rebuilt on next use
            con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):  # the connection may already be gone
            con.execute("ROLLBACK")
        raise
    finally:
        if poller:
            poller.stop()
        with contextlib.suppress(Exception):
            con.execute("RESET memory_limit")
        source.cleanup()
        for table in (
            "_bad",
            "_csvrej",
            source.rejects_table,
            (source.rejects_table or "") + "_scan",
        ):
            if table:
                with contextlib.suppress(Exception):
                    con.execute(f"DROP TABLE IF EXISTS temp.{quote_ident(table)}")
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

    def set(self, stage: str) -> None:
        self.stage = stage
        self.callback(stage, 0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.callback("done", 100.0)


def _pseudo(expr: str, key: str | None, q: _Sql) -> str:
    if key is None:
        return expr
    return f"('p' || substr(sha256({q.p(key)} || {expr}), 1, 32))"


def _extras(source: Source, roles: dict[str, str], q: _Sql, role: str) -> str:
    """The JSON text of the columns no role uses (or the role's own column)."""
    if role in roles:
        return f"nullif(trim(CAST(src.{quote_ident(roles[role])} AS VARCHAR)), '')"
    used = set(roles.values())
    if source.format == "jsonl":
        remove = json.dumps({c: None for c in used})
        patched = f"json_merge_patch(src._json, {q.p(remove)})"
        return f"CASE WHEN src._ok THEN nullif(CAST({patched} AS VARCHAR), '{{}}') END"
    extra = [c for c in source.columns if c not in used]
    if not extra:
        return "CAST(NULL AS VARCHAR)"
    pairs = ", ".join(f"{q.p(c)}, src.{quote_ident(c)}" for c in extra)
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def _stage(
    con: Any,
    source: Source,
    roles: dict[str, str],
    kind: str,
    mp: Mapping,
    journey: Journey | None,
    tz: str,
    key: str | None,
    opts: ReadOptions,
    poller: _Poller | None,
) -> tuple[str, _Sql]:
    """The conversion query. Layer 1 converts source columns (and keeps the raw texts
    checks need); layer 2 adds what depends on converted values (journey channel,
    mapped) and the reason."""
    q = _Sql(source.params)
    b = _Builder(source, roles, q, tz, source.decimal or ".", opts.date_format)
    cid = b.text("customer_id")
    l1: dict[str, str] = {}
    l2: dict[str, str] = {}
    checks: list[tuple[str, str]] = []  # (condition on layer-1 columns, reason), in order
    if source.format in ("csv", "tsv") and len(source.columns) > 1:
        l1["_short"] = f"src.{quote_ident(source.columns[-1])} IS NULL"
        checks.append(("_short", "row.too_few_fields"))
    if source.format == "jsonl":
        l1["_badjson"] = "NOT src._ok"
        checks.append(("_badjson", "json.invalid"))
    content = (
        "src._json"
        if source.format == "jsonl"
        else " || chr(31) || ".join(
            f"coalesce(CAST(src.{quote_ident(c)} AS VARCHAR), '')" for c in source.columns
        )
    )
    if kind in ("events", "feedback", "customers"):
        l1["customer_id"] = _pseudo(cid, key, q)
        checks.append(("customer_id IS NULL", "customer_id.missing"))
    if kind in ("events", "feedback"):
        l1["_raw_ts"] = b.raw("timestamp")
        l1["timestamp"] = b.timestamp("timestamp")
        checks.append(("_raw_ts IS NULL", "timestamp.missing"))
        checks.append(("timestamp IS NULL", "timestamp.unparseable"))
    if kind == "events":
        props = _extras(source, roles, q, "properties")
        raw_name = b.text("event") if "event" in roles else b.text("touchpoint")
        tp_expr, ch_expr = _rules(b, q, roles, mp, journey, raw_name, props)
        l1["touchpoint"] = tp_expr
        l1["channel"] = ch_expr
        l1["_raw_value"] = b.raw("value")
        l1["value"] = b.number("value")
        l1["properties"] = props
        l1["raw_name"] = raw_name
        l1["event_id"] = f"coalesce({b.text('event_id')}, 'h' || substr(md5({content}), 1, 24))"
        pairs = [(t.key, t.channel) for t in journey.touchpoints if t.channel] if journey else []
        if pairs:
            default = " ".join(f"WHEN touchpoint = {q.p(k)} THEN {q.p(c)}" for k, c in pairs)
            l2["channel"] = f"coalesce(channel, CASE {default} END)"
        keys = [tp.key for tp in journey.touchpoints] if journey else []
        l2["mapped"] = f"coalesce(list_contains({q.p(keys)}, touchpoint), false)"
        checks.append(("touchpoint IS NULL", "touchpoint.missing"))
        checks.append(("_raw_value IS NOT NULL AND value IS NULL", "value.not_a_number"))
    elif kind == "feedback":
        l1["touchpoint"] = b.text("touchpoint")
        l1["metric"] = f"lower({b.text('metric')})"
        l1["_raw_score"] = b.raw("score")
        l1["score"] = b.number("score")
        l1["comment"] = b.text("comment")
        l1["feedback_id"] = (
            f"coalesce({b.text('feedback_id')}, 'h' || substr(md5({content}), 1, 24))"
        )
        lo, hi = (journey.scale.min, journey.scale.max) if journey else (1, 5)
        scales = {**SCALES, "emotion": (lo, hi)}
        checks.append(("metric IS NULL", "metric.missing"))
        checks.append((f"NOT list_contains({q.p(list(scales))}, metric)", "metric.unknown"))
        checks.append(("_raw_score IS NULL", "score.missing"))
        checks.append(("score IS NULL", "score.not_a_number"))
        ranges = " ".join(
            f"WHEN metric = {q.p(m)} THEN score BETWEEN {q.p(float(a))} AND {q.p(float(z))}"
            for m, (a, z) in scales.items()
        )
        checks.append((f"NOT (CASE {ranges} ELSE false END)", "score.out_of_range"))
    elif kind == "customers":
        l1["segment"] = b.text("segment")
        l1["persona"] = b.text("persona")
        l1["attributes"] = _extras(source, roles, q, "attributes")
    else:
        alias = b.text("alias_id")
        l1["alias_id"] = _pseudo(alias, key, q)
        l1["customer_id"] = _pseudo(cid, key, q)
        l1["kind"] = b.text("kind")
        checks.append(("alias_id IS NULL", "alias_id.missing"))
        checks.append(("customer_id IS NULL", "customer_id.missing"))
    raw = "_src._json" if source.format == "jsonl" else "CAST(to_json(_src) AS VARCHAR)"
    layer1 = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in l1.items())
    reason = " ".join(f"WHEN {cond} THEN {q.p(code)}" for cond, code in checks)
    replace = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr in l2.items() if name in l1)
    added = ", ".join(
        f"{expr} AS {quote_ident(name)}" for name, expr in l2.items() if name not in l1
    )
    drop = [n for n in l1 if n.startswith("_")] + ["_src"]
    # The raw row travels as a struct (no copy) and becomes JSON text only when rejected.
    sql = (
        f"SELECT * EXCLUDE ({', '.join(drop)}), "
        f"CASE WHEN _reason IS NOT NULL THEN {raw} END AS _raw FROM ("
        f"SELECT *{' REPLACE (' + replace + ')' if replace else ''}"
        f"{', ' + added if added else ''}, CASE {reason} END AS _reason FROM ("
        f"SELECT {layer1}, src._idx AS _idx, src._file AS _file, src AS _src "
        f"FROM ({source.sql}) AS src))"
    )
    return sql, q


def _rules(
    b: _Builder,
    q: _Sql,
    roles: dict[str, str],
    mp: Mapping,
    journey: Journey | None,
    raw_name: str,
    props: str,
) -> tuple[str, str]:
    """SQL for the touchpoint and channel of an event: mapping rules, then the journey's."""
    rules: list[tuple[str, str, str, dict[str, Any], str | None]] = []
    for r in mp.events:
        k, pat = r.pattern()
        rules.append((k, pat, r.touchpoint, dict(r.where), r.channel))
    if journey is not None and mp.journey_rules and "event" in roles:
        for tp_key, m in journey.event_rules():
            k = m.pattern_kind()
            rules.append((k, getattr(m, k), tp_key, dict(m.where), None))
    whens_tp: list[str] = []
    whens_ch: list[str] = []
    for k, pat, tp_key, where, channel in rules:
        if k == "name":
            cond = f"{raw_name} = {q.p(pat)}"
        elif k == "glob":
            cond = f"{raw_name} GLOB {q.p(pat)}"
        else:
            cond = f"regexp_full_match({raw_name}, {q.p(pat)})"
        for prop, value in where.items():
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            path = q.p("$." + json.dumps(prop))
            cond += f" AND json_extract_string({props}, {path}) = {q.p(text)}"
        whens_tp.append(f"WHEN {cond} THEN {q.p(tp_key)}")
        if channel:
            whens_ch.append(f"WHEN {cond} THEN {q.p(channel)}")
    matched = f"CASE {' '.join(whens_tp)} END" if whens_tp else None
    own_tp = b.text("touchpoint") if "touchpoint" in roles else None
    fallback = raw_name if "event" in roles else None
    parts = [p for p in (matched, own_tp, fallback) if p]
    tp = f"coalesce({', '.join(parts)})" if len(parts) > 1 else (parts[0] if parts else "NULL")
    ch_parts = []
    if whens_ch:
        ch_parts.append(f"CASE {' '.join(whens_ch)} END")
    if "channel" in roles:
        ch_parts.append(b.text("channel"))
    if len(ch_parts) > 1:
        ch = f"coalesce({', '.join(ch_parts)})"
    else:
        ch = ch_parts[0] if ch_parts else "CAST(NULL AS VARCHAR)"
    return f"CAST({tp} AS VARCHAR)", ch


_KEYS = {"events": "event_id", "feedback": "feedback_id", "customers": "customer_id"}


def _exec(
    con: Any,
    sql: str,
    q: _Sql,
    extra: dict[str, Any] | None = None,
    *,
    source: Source | None = None,
) -> Any:
    params = q.used(sql) | {k: v for k, v in (extra or {}).items() if f"${k}" in sql}
    try:
        return con.execute(sql, params)
    except Exception as exc:
        from klantreis.errors import ReadError

        if source is not None and type(exc).__module__.startswith(("duckdb", "_duckdb")):
            first = str(exc).splitlines()[0]
            raise ReadError(f"cannot read the file: {first}", file=source.path) from None
        raise


def _counts(con: Any, conv: str, q: _Sql, k: str, unmapped: str, source: Source) -> tuple[Any, ...]:
    """(rows, valid rows, distinct id hashes among valid, reasons, top unmapped, unmapped)."""
    return _exec(
        con,
        "SELECT n, valid, dist, r, list_slice(list_sort(list_transform(map_entries(u), "
        "e -> {'n': -CAST(e.value AS BIGINT), 'k': e.key})), 1, 10), "
        "coalesce(list_sum(map_values(u)), 0) FROM (SELECT count(*) AS n, "
        "count(*) FILTER (WHERE _reason IS NULL) AS valid, "
        f"count(DISTINCT hash({k})) FILTER (WHERE _reason IS NULL) AS dist, "
        f"map_entries(histogram(_reason)) AS r, {unmapped} AS u FROM ({conv}))",
        q,
        source=source,
    ).fetchone()


def _finish(
    con: Any,
    summary: IngestSummary,
    source: Source,
    kind: str,
    checksum: str,
    conv: str,
    q: _Sql,
    poller: _Poller | None,
) -> None:
    """Count (one scan), keep rejects (a scan only when there are any), store (one scan)."""
    from klantreis.store.schema import TABLES

    if poller:
        poller.set("checking")
    key = "alias_id" if kind == "identities" else _KEYS[kind]
    k = quote_ident(key)
    unmapped = (
        "histogram(touchpoint) FILTER (WHERE _reason IS NULL AND NOT mapped)"
        if kind == "events"
        else "CAST(NULL AS MAP(VARCHAR, UBIGINT))"
    )
    # One scan counts everything; a 64-bit hash per id proves (when all differ) that the
    # file holds no duplicate ids, so the store step can skip its window.
    total, valid, distinct, reason_map, top, total_un = _counts(con, conv, q, k, unmapped, source)
    summary.unmapped_total = int(total_un or 0)
    reasons: dict[str, int] = {str(e["key"]): int(e["value"]) for e in (reason_map or [])}
    unmapped_top = {str(e["k"]): int(-e["n"]) for e in (top or [])}
    total = int(total)
    in_file_dups = int(valid) - int(distinct)
    n_bad = sum(reasons.values())
    params: dict[str, Any] = {
        "ingest": summary.ingest_id,
        "kind": kind,
        "checksum": checksum,
        "file": str(source.path),
    }
    csv_bad = 0
    line = f"_idx + {source.header_lines}"
    if source.rejects_table:
        # rows DuckDB's reader refused (too many fields, bad quoting, bad UTF-8)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _csvrej AS SELECT line, error_type, csv_line, "
            "line - 1 - row_number() OVER (ORDER BY line) AS s FROM (SELECT line, "
            "'row.' || lower(replace(any_value(error_type), ' ', '_')) AS error_type, "
            f"any_value(csv_line) AS csv_line FROM temp.{quote_ident(source.rejects_table)} "
            "GROUP BY line)"
        )
        for reason, n in con.execute(
            "SELECT error_type, count(*) FROM _csvrej GROUP BY 1"
        ).fetchall():
            reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
            csv_bad += int(n)
        if csv_bad:
            line = "_idx + 1 + (SELECT count(*) FROM _csvrej c WHERE c.s < _idx)"
            _exec(
                con,
                "INSERT INTO rejects SELECT $ingest, $file, line, $kind, NULL, error_type, "
                "csv_line "
                "FROM _csvrej n WHERE NOT EXISTS (SELECT 1 FROM rejects r JOIN ingests i "
                "USING (ingest_id) WHERE i.checksum = $checksum AND i.kind = $kind "
                "AND r.line = n.line)",
                q,
                params,
            )
    examples: list[tuple[Any, ...]] = []
    if n_bad:
        _exec(
            con,
            f"CREATE OR REPLACE TEMP TABLE _bad AS SELECT _file, {line} AS line, _reason, _raw "
            f"FROM ({conv}) WHERE _reason IS NOT NULL",
            q,
            source=source,
        )
        _exec(
            con,
            "INSERT INTO rejects SELECT $ingest, _file, line, $kind, split_part(_reason, '.', 1), "
            "_reason, _raw FROM _bad n WHERE NOT EXISTS (SELECT 1 FROM rejects r JOIN ingests i "
            "USING (ingest_id) WHERE i.checksum = $checksum AND i.kind = $kind "
            "AND r.line = n.line AND r.reason = n._reason)",
            q,
            params,
        )
        examples = con.execute(
            f"SELECT _file, line, _reason FROM _bad ORDER BY line LIMIT {EXAMPLES}"
        ).fetchall()
    if csv_bad:
        examples += [
            (str(source.path), ln, r)
            for ln, r in con.execute(
                f"SELECT line, error_type FROM _csvrej ORDER BY line LIMIT {EXAMPLES}"
            ).fetchall()
        ]
        examples.sort(key=lambda e: int(e[1]))
    if poller:
        poller.set("storing")
    cols = list(TABLES[kind].names)
    select = ", ".join("$ingest AS source" if c == "source" else quote_ident(c) for c in cols)
    names = ", ".join(quote_ident(c) for c in cols)
    existing = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {kind} LIMIT 1)").fetchone()[0]
    anti = f" AND NOT EXISTS (SELECT 1 FROM {kind} e WHERE e.{k} = s.{k})" if existing else ""
    stored = _exec(
        con,
        f"INSERT INTO {kind} ({names}) SELECT {select} FROM ({conv}) s "
        f"WHERE _reason IS NULL{anti}"
        + (
            f" QUALIFY row_number() OVER (PARTITION BY {k} ORDER BY _idx) = 1"
            if in_file_dups
            else ""
        ),
        q,
        {"ingest": summary.ingest_id},
        source=source,
    ).fetchone()[0]
    summary.read = total + csv_bad
    summary.rejected = n_bad + csv_bad
    summary.stored = int(stored)
    summary.duplicates = summary.read - summary.stored - summary.rejected
    summary.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    summary.examples = [
        {"file": f, "line": int(ln), "reason": r} for f, ln, r in examples[:EXAMPLES]
    ]
    summary.unmapped = unmapped_top


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
