"""Conversion: the one SQL query that turns a source relation into canonical rows.

Every conversion (ids, timestamps to UTC, numbers with a decimal comma, touchpoint
rules, score scales) is an SQL expression over the relation opened by
:mod:`klantreis.store.readers`, with bound parameters, so the data never passes
through Python. The query yields the canonical columns plus ``_idx`` (record number, when the
source numbers its rows),
``_file``, ``_reason`` (the reject reason code, NULL for a good row) and ``_raw`` (the
raw row as JSON text, only for rejected rows).

    >>> q = _Sql({})
    >>> q.p("x"), q.params
    ('$p1', {'p1': 'x'})
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from klantreis.store.readers import Source, quote_ident

if TYPE_CHECKING:
    from klantreis.model.journey import Journey
    from klantreis.store.mapping import Mapping
    from klantreis.store.readers import ReadOptions

__all__ = ["SCALES", "convert_sql"]

#: Fixed score scales; emotion uses the journey's scale.
SCALES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

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
            return f"nullif({_trim(self.col(role))}, '')"
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


def _trim(x: str) -> str:
    """``trim(x)``, called only when it can change something: DuckDB's trim removes
    Unicode space characters, and the only one in ASCII is ' '. Checking the ends and
    whether the text is pure ASCII is several times faster than trimming every value."""
    return (
        f"CASE WHEN starts_with({x}, ' ') OR ends_with({x}, ' ') "
        f"OR strlen({x}) <> length({x}) THEN trim({x}) ELSE {x} END"
    )


def _sample_kind(values: list[Any]) -> str:
    import re

    vals = [str(v).strip() for v in values if v not in (None, "")]
    for kind, pattern in (("iso_naive", _ISO_NAIVE), ("iso_zoned", _ISO_ZONED)):
        if vals and all(re.match(pattern, v) for v in vals):
            return kind
    return "other"


def _pseudo(expr: str, key: str | None, q: _Sql) -> str:
    if key is None:
        return expr
    return f"('p' || substr(sha256({q.p(key)} || {expr}), 1, 32))"


def _extras(source: Source, roles: dict[str, str], q: _Sql, role: str) -> str:
    """The JSON text of the columns no role uses (or the role's own column)."""
    if role in roles:
        return f"nullif({_trim(f'CAST(src.{quote_ident(roles[role])} AS VARCHAR)')}, '')"
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


def convert_sql(
    source: Source,
    roles: dict[str, str],
    kind: str,
    mp: Mapping,
    journey: Journey | None,
    tz: str,
    key: str | None,
    opts: ReadOptions,
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
        f"SELECT {layer1}, {'src._idx AS _idx, ' if source.numbered else ''}"
        "src._file AS _file, src AS _src "
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
