"""Journey paths for attribution, built in the engine and aggregated to distinct paths.

Paths are read from the timeline (:mod:`klantreis.analytics._timeline`): the customers'
*placed* events (timestamp and touchpoint present), numbered in path order ``(timestamp,
event_id)`` once per change of the data. A conversion event (its touchpoint is one of the
conversion touchpoints) closes a path: the path is the keys (touchpoints or channels) of
the customer's events before it, within the lookback window before the conversion. A
customer who never converts gives one non-converting path: the keys within the lookback
window before their last event. With ``repeat=True`` every conversion closes a path (the
events after the previous conversion), and events after the last conversion give a
non-converting path; with ``repeat=False`` only the first conversion counts and later
events are ignored. Conversion events are never touches of a path; events whose key is
null are skipped.

How it runs in the engine (no window function, no ordered aggregate, no join: the
timeline's ``pos`` already numbers the events): one hash aggregate per customer
collects the events as a list of small integer ``{p, t, c}`` structs (position, epoch
microseconds, key code: the key's index, found by a lookup in the constant list of
keys); the first conversion's time, position and value come from the same aggregate
(``min``/``arg_min`` filtered on conversions). One list filter keeps the path's touches
(a key, before the first conversion, in the window) and only they are sorted by ``p``
(integer-only structs sort several times faster than structs with a string). A path is
the list of its touches' codes, grouped by as it is; the aggregate (distinct path ->
conversions, nulls, value) is the only thing that comes back to Python, where the
Arrow list column already is the flat integer arrays. (Measured on 10M events:
numbering events per customer with a window, or joining each event to its customer's
conversion, were both slower than this one aggregate; a path string built character
by character in the engine cost a quarter more than the list of codes.)

Time decay needs each touch's time before its conversion, which an aggregate over
distinct paths cannot keep exactly for every half-life. So the same query also returns,
per key, the sum over conversions of the touch's normalised decay weight
``2**(-dt/h) / sum(2**(-dt'/h))`` (and the same times the conversion's value): exact
for the definition; the segments are a shared subquery, collected once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import ibis
    import pandas as pd
    import pyarrow as pa

__all__ = ["PathAggregate", "build_paths"]


@dataclass
class PathAggregate:
    """Distinct paths with their counts, as flat arrays (the models' only input).

    ``tokens[offsets[i]:offsets[i+1]]`` are the key codes of path ``i`` (index into
    ``keys``); ``conversions``, ``nulls`` and ``value`` are per path. Conversions with
    no touch in the window are not paths: they are counted in ``unattributed``.
    ``decay`` (when asked for) holds per key the exact time-decay credit
    (conversions, value).
    """

    keys: list[str]
    tokens: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray
    unattributed: tuple[float, float] = (0.0, 0.0)
    decay: tuple[np.ndarray, np.ndarray] | None = None
    sql: str = ""
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_paths(self) -> int:
        return len(self.conversions)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_index(self) -> np.ndarray:
        """For every token, the index of its path (computed once)."""
        cached = self.extra.get("path_index")
        if cached is None or len(cached) != len(self.tokens):
            cached = np.repeat(np.arange(self.n_paths), self.lengths)
            self.extra["path_index"] = cached
        return cached

    @property
    def key_touches(self) -> np.ndarray:
        """Per key, its number of touches over the distinct paths (computed once)."""
        cached = self.extra.get("key_touches")
        if cached is None:
            cached = np.bincount(self.tokens, minlength=len(self.keys))
            self.extra["key_touches"] = cached
        return cached

    @property
    def touch_matrix(self) -> Any:
        """Paths x keys, the number of times each path touches each key (scipy CSR,
        built on ``tokens`` and ``offsets`` as they are: no copy, no sort)."""
        cached = self.extra.get("touch_matrix")
        if cached is None:
            import scipy.sparse as sp

            data = np.ones(len(self.tokens))
            shape = (self.n_paths, len(self.keys))
            cached = sp.csr_matrix((data, self.tokens, self.offsets), shape=shape)
            self.extra["touch_matrix"] = cached
        return cached

    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    def total_value(self) -> float:
        return float(self.value.sum())

    def frame(self, sep: str = " > ") -> pd.DataFrame:
        """The aggregate as a DataFrame: path (keys joined by ``sep``), counts, value."""
        import pandas as pd

        keys = np.array(self.keys, dtype=object)
        paths = [
            sep.join(keys[self.tokens[a:b]])
            for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)
        ]
        return pd.DataFrame(
            {
                "path": paths,
                "conversions": self.conversions,
                "nulls": self.nulls,
                "value": self.value,
            }
        )


def _key_codes(events: ibis.Table, column: str, keys: list[str]) -> ibis.Value:
    """The code of each event's key (``len(keys)`` when null or unknown)."""
    import ibis

    # a lookup in a constant list: much cheaper in DuckDB than a CASE with a branch per key
    index = ibis.literal(keys, type="array<string>").index(events[column]).fill_null(-1)
    return (index + (len(keys) + 1)) % (len(keys) + 1)  # -1 (not a key) -> len(keys)


def customer_lists(
    tl: ibis.Table,
    *,
    column: str,
    keys: list[str],
    conversion: list[str],
    repeat: bool = False,
) -> ibis.Table:
    """Per customer, from the timeline: ``evs`` (structs p, t, c, and v with ``repeat``;
    ``c`` the key's code (index in ``keys``), ``len(keys)`` for no key, ``len(keys) + 1``
    for a conversion; in path order with ``repeat``, in no order without), ``ct`` and
    ``cp`` (first conversion: epoch microseconds, position), ``cv`` (its value),
    ``last`` (time of the last event)."""
    import ibis

    from klantreis.analytics._time import backend_name

    is_conv = tl.touchpoint.isin(conversion).fill_null(False)
    code = ibis.ifelse(is_conv, len(keys) + 1, _key_codes(tl, column, keys)).cast("int16")
    fields = {"p": tl.pos, "t": tl.us, "c": code}
    if repeat:
        fields["v"] = tl.value
    # structs are never null: no need for the filter that drops nulls (PySpark has no
    # include_null, and needs none)
    evs = ibis.struct(fields).collect(include_null=backend_name(tl) != "pyspark")
    return tl.group_by("customer_id").aggregate(
        evs=evs.sort() if repeat else evs,
        ct=tl.us.min(where=is_conv),
        cp=tl.pos.min(where=is_conv),
        cv=tl.value.argmin(tl.pos, where=is_conv),
        last=tl.us.max(),
    )


def segments_first(cu: ibis.Table, lookback_us: int | None, n_keys: int) -> ibis.Table:
    """One segment per customer (first conversion, or the non-converting whole).

    Columns: ``pstr`` (the path: key codes), ``converted``, ``value``, ``ref`` (time of the
    conversion or of the last event), ``touches`` (the path's events, in order).
    """
    import ibis

    ref = cu.ct.fill_null(cu.last)
    # the events before the first conversion (all when none), in the window, with a key
    before = cu.cp.fill_null(ibis.literal(2**62, "int64"))
    cu = cu.select("ct", "cv", ref=ref, before=before, evs=cu.evs)
    start = None if lookback_us is None else cu.ref - lookback_us

    def keep(x_fs: Any) -> Any:
        ok = (x_fs.c < n_keys) & (x_fs.p < cu.before)
        return ok if start is None else ok & (x_fs.t >= start)

    converted = cu.ct.notnull()
    sg = cu.select(
        "ref",
        converted=converted,
        value=ibis.ifelse(converted, cu.cv.fill_null(0.0), 0.0),
        touches=cu.evs.filter(keep).sort(),  # filter first, then sort: fewer to order
    )
    return _with_path(sg)


def _with_path(sg: ibis.Table) -> ibis.Table:
    """Add ``pstr``: the path as the list of its touches' key codes."""
    return sg.mutate(pstr=sg.touches.map(lambda x_ps: x_ps.c))


def segments_repeat(cu: ibis.Table, lookback_us: int | None, n_keys: int) -> ibis.Table:
    """Every conversion closes a segment; the events after the last one form a null segment.

    Columns as :func:`segments_first`.
    """
    import ibis

    n = cu.evs.length()
    convpos = cu.evs.map(lambda x_rp, i_rp: ibis.ifelse(x_rp.c == n_keys + 1, i_rp, -1)).filter(
        lambda p_rp: p_rp >= 0
    )
    cu = cu.select("evs", convpos=convpos, n=n)
    prev = ibis.array([-1]).concat(cu.convpos[:-1])
    # (zip pads the shorter list with nulls: keep the pairs that have a conversion)
    closing = (
        cu.convpos.zip(prev)
        .filter(lambda z_nn: z_nn.f1.notnull())
        .map(lambda z_rp: ibis.struct({"lo": z_rp.f2 + 1, "hi": z_rp.f1, "conv": True}))
    )
    # (the last by its length: PySpark's compiler turns a literal [-1] into position 0)
    last_conv = cu.convpos[ibis.greatest(cu.convpos.length() - 1, 0)]
    tail_lo = ibis.ifelse(cu.convpos.length() == 0, 0, last_conv + 1)
    tail = ibis.array([ibis.struct({"lo": tail_lo, "hi": cu.n, "conv": False})])
    segs = ibis.ifelse(tail_lo < cu.n, closing.concat(tail), closing)
    sg = cu.select("evs", seg=segs.unnest())
    # (int32: PySpark's element_at and slice take an INT position, not a BIGINT)
    sg = sg.select(
        "evs", lo=sg.seg.lo.cast("int32"), hi=sg.seg.hi.cast("int32"), converted=sg.seg.conv
    )
    # (a null segment ends at hi - 1 >= 0; PySpark evaluates both branches and refuses
    # the position 0 that hi - 1 = -1 would give a conversion at the first event)
    last = sg.evs[ibis.greatest(sg.hi - 1, 0)].t
    ref = ibis.ifelse(sg.converted, sg.evs[sg.hi].t, last)
    sg = sg.mutate(ref=ref)
    start = None if lookback_us is None else sg.ref - lookback_us

    def keep(x_rs: Any) -> Any:
        ok = x_rs.c < n_keys
        return ok if start is None else ok & (x_rs.t >= start)

    sg = sg.select(
        "ref",
        "converted",
        value=ibis.ifelse(sg.converted, sg.evs[sg.hi].v.fill_null(0.0), 0.0),
        touches=sg.evs[sg.lo : sg.hi].filter(keep),
    )
    return _with_path(sg)


def path_counts(sg: ibis.Table) -> ibis.Table:
    """Distinct encoded paths with conversions, nulls and value."""
    return sg.group_by("pstr").aggregate(
        conversions=sg.converted.cast("int64").sum(),
        nulls=(~sg.converted).cast("int64").sum(),
        value=sg.value.sum(),
    )


def decay_credit(sg: ibis.Table, half_life_s: float) -> ibis.Table:
    """Per key code ``c``: sum of normalised time-decay weights (and times value)."""
    import ibis

    conv = sg.filter(sg.converted & (sg.touches.length() > 0))
    scale = -1.0 / (half_life_s * 1_000_000.0)
    two = ibis.literal(2.0)
    touches = conv.touches.map(
        lambda x_dc: ibis.struct({"c": x_dc.c, "w": two ** ((conv.ref - x_dc.t) * scale)})
    )
    conv = conv.select("value", touches=touches)
    conv = conv.mutate(total=conv.touches.map(lambda y_dc: y_dc.w).sums())
    flat = conv.select("value", "total", tw=conv.touches.unnest())
    share = flat.tw.w / flat.total
    return flat.group_by(c=flat.tw.c).aggregate(
        conversions=share.sum(), value=(share * flat.value).sum()
    )


def build_paths(
    events: ibis.Table,
    con: Any,
    *,
    column: str,
    keys: list[str],
    conversion: list[str],
    lookback_s: float | None,
    repeat: bool,
    half_life_s: float | None = None,
) -> PathAggregate:
    """Build, aggregate and decode the paths (and the time-decay credit when asked).

    ``events`` is a timeline (:func:`klantreis.analytics._timeline.timeline`, or
    ``build_timeline`` of an events table): placed events with ``pos`` and ``us``.
    """
    import time

    import ibis
    import pyarrow as pa

    started = time.perf_counter()
    lookback_us = None if lookback_s is None else round(lookback_s * 1_000_000)
    cu = customer_lists(events, column=column, keys=keys, conversion=conversion, repeat=repeat)
    segments = segments_repeat if repeat else segments_first
    sg = segments(cu, lookback_us, len(keys))
    counts_expr = path_counts(sg)
    decay = None
    if half_life_s is None:
        counts, sql = _execute(counts_expr.order_by("pstr"), con)
    else:
        # one query: the decay credit reads the same segments (a shared CTE), so the
        # customers' events are collected once
        paths = counts_expr.select(
            "pstr",
            kind=ibis.literal(0),
            conversions=counts_expr.conversions.cast("float64"),
            nulls=counts_expr.nulls.cast("float64"),
            value=counts_expr.value.cast("float64"),
        )
        dc = decay_credit(sg, half_life_s)
        credit = dc.select(
            pstr=ibis.array([dc.c]),
            kind=ibis.literal(1),
            conversions=dc.conversions.cast("float64"),
            nulls=ibis.literal(0.0),
            value=dc.value.cast("float64"),
        )
        both, sql = _execute(paths.union(credit).order_by(["kind", "pstr"]), con)
        kind = both["kind"].to_numpy()
        counts = both.filter(pa.array(kind == 0))
        credit_rows = both.filter(pa.array(kind == 1))
        codes = _flat_codes(credit_rows["pstr"])[0]
        conv_credit = np.bincount(
            codes,
            weights=np.nan_to_num(credit_rows["conversions"].to_numpy(zero_copy_only=False)),
            minlength=len(keys),
        )
        value_credit = np.bincount(
            codes,
            weights=np.nan_to_num(credit_rows["value"].to_numpy(zero_copy_only=False)),
            minlength=len(keys),
        )
        decay = (conv_credit, value_credit)
    return aggregate_from_frame(
        counts, keys, decay=decay, sql=sql, seconds=time.perf_counter() - started
    )


def _execute(expr: Any, con: Any) -> tuple[pa.Table, str]:
    """Run on the backend, to Arrow (Ibis' own pandas conversion warns on pandas 3)."""
    import ibis

    try:
        sql = str(ibis.to_sql(expr))
    except Exception:
        sql = ""
    return con.to_pyarrow(expr), sql


def aggregate_from_frame(
    counts: pa.Table,
    keys: list[str],
    *,
    decay: tuple[np.ndarray, np.ndarray] | None = None,
    sql: str = "",
    seconds: float = 0.0,
) -> PathAggregate:
    """Decode the engine's (pstr, conversions, nulls, value) rows, sorted by pstr (a list
    of key codes), into a PathAggregate (on the Arrow buffers: no Python list per path)."""
    conversions = counts["conversions"].to_numpy().astype(float)
    nulls = counts["nulls"].to_numpy().astype(float)
    value = np.nan_to_num(counts["value"].to_numpy().astype(float))
    codes, lengths = _flat_codes(counts["pstr"])
    empty = lengths == 0
    unattributed = (float(conversions[empty].sum()), float(value[empty].sum()))
    keep = ((conversions > 0) | (nulls > 0)) & ~empty
    tokens = codes[np.repeat(keep, lengths)].astype(np.int32)
    kept = lengths[keep]
    offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(kept, out=offsets[1:])
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= len(keys)):
        raise AssertionError("path decoding found a code that is not a key")
    return PathAggregate(
        keys=list(keys),
        tokens=tokens,
        offsets=offsets,
        conversions=conversions[keep],
        nulls=nulls[keep],
        value=value[keep],
        unattributed=unattributed,
        decay=decay,
        sql=sql,
        seconds=seconds,
    )


def _flat_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(all codes, in order; number of codes per row) of a column of code lists (a null
    list has none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    lists = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    lists = pc.fill_null(lists, pa.scalar([], lists.type)) if lists.null_count else lists
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, lengths


def aggregate_from_paths(
    paths: list[list[str]],
    conversions: list[float],
    nulls: list[float],
    value: list[float] | None = None,
    keys: list[str] | None = None,
) -> PathAggregate:
    """A PathAggregate from plain Python paths (for tests, examples and peers' data)."""
    weight = np.asarray(conversions, dtype=float) + np.asarray(nulls, dtype=float)
    kept = [i for i in range(len(paths)) if weight[i] > 0]  # journeys make a path
    paths = [paths[i] for i in kept]
    conversions = [conversions[i] for i in kept]
    nulls = [nulls[i] for i in kept]
    value = None if value is None else [value[i] for i in kept]
    keys = sorted({k for p in paths for k in p}) if keys is None else list(keys)
    code = {k: i for i, k in enumerate(keys)}
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    if (lengths == 0).any():
        raise ValueError("every path needs at least one touch")
    offsets = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tokens = np.array([code[k] for p in paths for k in p], dtype=np.int32)
    return PathAggregate(
        keys=keys,
        tokens=tokens,
        offsets=offsets,
        conversions=np.asarray(conversions, dtype=float),
        nulls=np.asarray(nulls, dtype=float),
        value=np.zeros(len(paths)) if value is None else np.asarray(value, dtype=float),
    )
