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
collects the events as a list of small ``{p, t, c}`` structs (position, epoch
microseconds, key character) and sorts it by ``p``; the first conversion's time and
value come from the same aggregate (``min``/``arg_min`` filtered on conversions).
Every key is encoded as one character (``c``; ``|`` marks a conversion, ``.`` a touch
outside the window), so a path is a short string: cheap to build, to cut at the
conversion and to group by. The aggregate (distinct path string -> conversions, nulls,
value) is the only thing that comes back to Python, where it is decoded into flat
integer arrays. (Measured on 10M events: numbering events per customer with a window,
or joining each event to its customer's conversion and summing positional integer
codes, were both slower than this one aggregate.)

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

#: Characters that mark a conversion and a touch left out of a path.
CONV_MARK = "|"
SKIP_MARK = "."
_CHAR_BASE = 0x100  # keys are encoded as code points from here on (no ASCII clash)
_SURROGATES = (0xD800, 0xE000)


def key_char(code: int) -> str:
    """The one-character code of key number ``code`` (skips the surrogate range)."""
    point = _CHAR_BASE + code
    if point >= _SURROGATES[0]:
        point += _SURROGATES[1] - _SURROGATES[0]
    return chr(point)


def char_code(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`key_char` on an array of code points."""
    points = points.astype(np.int64)
    points = np.where(points >= _SURROGATES[1], points - (_SURROGATES[1] - _SURROGATES[0]), points)
    return points - _CHAR_BASE


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


def _char_column(events: ibis.Table, column: str, keys: list[str]) -> ibis.Value:
    """The one-character code of each event's key (SKIP_MARK when null or unknown)."""
    mapping = {k: key_char(i) for i, k in enumerate(keys)}
    return events[column].substitute(mapping, else_=SKIP_MARK)


def customer_lists(
    tl: ibis.Table,
    *,
    column: str,
    keys: list[str],
    conversion: list[str],
    with_value: bool = False,
) -> ibis.Table:
    """Per customer, from the timeline: ``evs`` (structs p, t, c[, v] in path order),
    ``ct`` (first conversion, epoch microseconds), ``cv`` (its value), ``last``."""
    import ibis

    is_conv = tl.touchpoint.isin(conversion).fill_null(False)
    char = ibis.ifelse(is_conv, CONV_MARK, _char_column(tl, column, keys))
    fields = {"p": tl.pos, "t": tl.us, "c": char}
    if with_value:
        fields["v"] = tl.value
    item = ibis.struct(fields)
    return tl.group_by("customer_id").aggregate(
        evs=item.collect().sort(),  # structs are never null (PySpark has no include_null)
        ct=tl.us.min(where=is_conv),
        cv=tl.value.argmin(tl.pos, where=is_conv),
        last=tl.us.max(),
    )


def segments_first(cu: ibis.Table, lookback_us: int | None) -> ibis.Table:
    """One segment per customer (first conversion, or the non-converting whole).

    Columns: ``pstr`` (encoded path), ``converted``, ``value``, ``evs``, ``ref``, ``hi``.
    """
    import ibis

    ref = cu.ct.fill_null(cu.last)
    if lookback_us is None:
        marks = cu.evs.map(lambda x_fs: x_fs.c)
    else:
        start = ref - lookback_us
        marks = cu.evs.map(lambda x_fs: ibis.ifelse(x_fs.t >= start, x_fs.c, SKIP_MARK))
    full = marks.join("")
    cu = cu.select("evs", "ct", "cv", ref=ref, full=full)
    pos = cu.full.find(CONV_MARK)  # 0-based position of the first conversion, -1 if none
    converted = cu.ct.notnull()
    return cu.select(
        "evs",
        "ref",
        # the part before the first conversion mark (find/substr: PySpark's split() reads
        # its separator as a regular expression)
        pstr=ibis.ifelse(pos >= 0, cu.full.substr(0, pos), cu.full).replace(SKIP_MARK, ""),
        converted=converted,
        value=ibis.ifelse(converted, cu.cv.fill_null(0.0), 0.0),
        hi=ibis.ifelse(converted, pos, cu.evs.length()),
    )


def segments_repeat(cu: ibis.Table, lookback_us: int | None) -> ibis.Table:
    """Every conversion closes a segment; the events after the last one form a null segment."""
    import ibis

    n = cu.evs.length()
    convpos = cu.evs.map(lambda x_rp, i_rp: ibis.ifelse(x_rp.c == CONV_MARK, i_rp, -1)).filter(
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
    tail_lo = ibis.ifelse(cu.convpos.length() == 0, 0, cu.convpos[-1] + 1)
    tail = ibis.array([ibis.struct({"lo": tail_lo, "hi": cu.n, "conv": False})])
    segs = ibis.ifelse(tail_lo < cu.n, closing.concat(tail), closing)
    sg = cu.select("evs", seg=segs.unnest())
    sg = sg.select("evs", lo=sg.seg.lo, hi=sg.seg.hi, converted=sg.seg.conv)
    ref = ibis.ifelse(sg.converted, sg.evs[sg.hi].t, sg.evs[sg.hi - 1].t)
    sg = sg.mutate(ref=ref)
    part = sg.evs[sg.lo : sg.hi]
    if lookback_us is None:
        marks = part.map(lambda x_rs: x_rs.c)
    else:
        start = sg.ref - lookback_us
        marks = part.map(lambda x_rs: ibis.ifelse(x_rs.t >= start, x_rs.c, SKIP_MARK))
    value = ibis.ifelse(sg.converted, sg.evs[sg.hi].v.fill_null(0.0), 0.0)
    return sg.select(
        "evs",
        "ref",
        "hi",
        pstr=marks.join("").replace(SKIP_MARK, ""),
        converted=sg.converted,
        value=value,
        lo=sg.lo,
    )


def path_counts(sg: ibis.Table) -> ibis.Table:
    """Distinct encoded paths with conversions, nulls and value."""
    return sg.group_by("pstr").aggregate(
        conversions=sg.converted.cast("int64").sum(),
        nulls=(~sg.converted).cast("int64").sum(),
        value=sg.value.sum(),
    )


def decay_credit(sg: ibis.Table, lookback_us: int | None, half_life_s: float, repeat: bool):
    """Per key code char: sum of normalised time-decay weights (and times value)."""
    import ibis

    conv = sg.filter(sg.converted)
    lo = conv.lo if repeat else 0
    part = conv.evs[lo : conv.hi]
    start = conv.ref - lookback_us if lookback_us is not None else None

    def keep(x_kp: Any) -> Any:
        ok = (x_kp.c != SKIP_MARK) & (x_kp.c != CONV_MARK)
        return ok & (x_kp.t >= start) if start is not None else ok

    scale = -1.0 / (half_life_s * 1_000_000.0)
    two = ibis.literal(2.0)
    touches = part.filter(keep).map(
        lambda x_dc: ibis.struct({"c": x_dc.c, "w": two ** ((conv.ref - x_dc.t) * scale)})
    )
    conv = conv.select("value", touches=touches)
    conv = conv.mutate(total=conv.touches.map(lambda y_dc: y_dc.w).sums())
    conv = conv.filter(conv.touches.length() > 0)
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
    cu = customer_lists(events, column=column, keys=keys, conversion=conversion, with_value=repeat)
    sg = segments_repeat(cu, lookback_us) if repeat else segments_first(cu, lookback_us)
    counts_expr = path_counts(sg)
    decay = None
    if half_life_s is None:
        counts, sql = _execute(counts_expr.order_by("pstr"), con)
    else:
        # one query: the decay credit reads the same segments (a shared CTE), so the
        # customers' events are collected and sorted once
        paths = counts_expr.select(
            "pstr",
            kind=ibis.literal(0),
            conversions=counts_expr.conversions.cast("float64"),
            nulls=counts_expr.nulls.cast("float64"),
            value=counts_expr.value.cast("float64"),
        )
        dc = decay_credit(sg, lookback_us, half_life_s, repeat)
        credit = dc.select(
            pstr=dc.c,
            kind=ibis.literal(1),
            conversions=dc.conversions.cast("float64"),
            nulls=ibis.literal(0.0),
            value=dc.value.cast("float64"),
        )
        both, sql = _execute(paths.union(credit).order_by(["kind", "pstr"]), con)
        kind = both["kind"].to_numpy()
        counts = both.filter(pa.array(kind == 0))
        dframe = both.filter(pa.array(kind == 1)).to_pandas()
        conv_credit = np.zeros(len(keys))
        value_credit = np.zeros(len(keys))
        if len(dframe):
            codes = char_code(
                np.frombuffer("".join(dframe["pstr"]).encode("utf-32-le"), dtype=np.uint32)
            )
            np.add.at(conv_credit, codes, dframe["conversions"].to_numpy(float))
            np.add.at(value_credit, codes, dframe["value"].fillna(0).to_numpy(float))
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
    """Decode the engine's (pstr, conversions, nulls, value) rows, sorted by pstr, into a
    PathAggregate (vectorised on the Arrow buffers: no Python string per path)."""
    import pyarrow.compute as pc

    conversions = counts["conversions"].to_numpy().astype(float)
    nulls = counts["nulls"].to_numpy().astype(float)
    value = np.nan_to_num(counts["value"].to_numpy().astype(float))
    pstr = pc.fill_null(counts["pstr"], "").combine_chunks().cast("large_string")
    lengths = pc.utf8_length(pstr).to_numpy().astype(np.int64)
    empty = lengths == 0
    unattributed = (float(conversions[empty].sum()), float(value[empty].sum()))
    keep = ((conversions > 0) | (nulls > 0)) & ~empty
    tokens, offsets = _decode_arrow(pstr, lengths, keep, len(keys))
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


def _decode_arrow(
    pstr: pa.LargeStringArray, lengths: np.ndarray, keep: np.ndarray, n_keys: int
) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, offsets) of the kept path strings: one UTF-8 decode of the whole buffer."""
    _, offset_buf, data_buf = pstr.buffers()
    byte_offsets = np.frombuffer(offset_buf, dtype=np.int64)[
        pstr.offset : pstr.offset + len(pstr) + 1
    ]
    data = memoryview(data_buf)[byte_offsets[0] : byte_offsets[-1]] if len(pstr) else b""
    points = np.frombuffer(bytes(data).decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
    codes = char_code(points)
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    mask = np.repeat(keep, lengths)
    tokens = codes[mask].astype(np.int32)
    kept = lengths[keep]
    offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(kept, out=offsets[1:])
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= n_keys):
        raise AssertionError("path decoding found a character that is not a key code")
    return tokens, offsets


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
