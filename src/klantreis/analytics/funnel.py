"""Funnels and drop-off moments (afhaakmomenten): one exact matcher for every funnel question.

The definitions are in docs/funnel.md and in every result's ``definition``. In short:
every step-1 event starts an attempt; each next step is the earliest valid occurrence
after the previous matched step; the window W runs from the attempt's step-1 time and
is inclusive; a customer's furthest step is the maximum over their attempts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ibis

from klantreis.analytics._funnel_engine import Matched, attempts
from klantreis.analytics._funnel_spec import FunnelSpec, build_spec
from klantreis.analytics._timeline import timeline
from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.result import Result, execute

if TYPE_CHECKING:
    import pandas as pd

    from klantreis.store import Workspace

__all__ = [
    "COLUMNS",
    "dropoff",
    "funnel",
    "funnel_and_dropoff",
    "funnel_definition",
    "phase_funnel",
]

#: The columns of every funnel table (after the group column when ``by=`` is used).
COLUMNS = [
    "step",
    "name",
    "customers",
    "conversion_from_start",
    "conversion_from_previous",
    "dropped",
    "median_seconds_from_previous",
    "p90_seconds_from_previous",
    "median_seconds_from_start",
    "p90_seconds_from_start",
]


def funnel(
    ws: Workspace,
    steps: Sequence[Any] | str,
    window: Any = "30d",
    mode: str = "ordered",
    *,
    unit: str = "customers",
    exclude: Sequence[Any] = (),
    step_windows: Mapping[int, Any] | Sequence[Any] | None = None,
    min_gaps: Mapping[int, Any] | Sequence[Any] | None = None,
    optional: Sequence[int] = (),
    by: str | None = None,
    skew: Any = 0,
    lang: str | None = None,
) -> Result:
    """The funnel of ``steps`` (touchpoints, ``"a|b"`` OR-groups, ``"b?"`` optional).

    ``mode``: ordered, strict or any-order; ``unit``: customers or attempts; ``exclude``:
    ``"tp:after:before"`` strings; ``step_windows`` / ``min_gaps``: per step number
    (1-based) the maximum / minimum time from the previous matched step; ``by``: segment,
    persona, channel (of step 1), week or month (of the attempt start), ``property.NAME``
    (of the step-1 event) or ``attribute.NAME`` (of the customer).
    """
    spec = build_spec(
        steps,
        window=window,
        mode=mode,
        unit=unit,
        exclude=exclude,
        step_windows=step_windows,
        min_gaps=min_gaps,
        optional=optional,
        by=by,
        skew=skew,
    )
    return run(ws, spec, lang=lang)


def run(
    ws: Workspace,
    spec: FunnelSpec,
    *,
    lang: str | None = None,
    extra_params: dict[str, Any] | None = None,
    check: bool = True,
) -> Result:
    """Run a validated spec on the workspace (see :func:`funnel`).

    ``check`` first makes sure every named touchpoint is in a journey or in the data.
    """
    lang = lang or ws.settings.language
    if check:
        _check_touchpoints(ws, spec)
    with attempts(timeline(ws), spec, extra=_extra_columns(spec.by)) as matched:
        return _funnel_result(ws, spec, matched, lang, extra_params)


def _funnel_result(
    ws: Workspace,
    spec: FunnelSpec,
    matched: Matched,
    lang: str,
    extra_params: dict[str, Any] | None = None,
) -> Result:
    """The funnel table from the matched units: counts from each unit's furthest step,
    times from the steps it matched (two small aggregates)."""
    units, group = _group(ws, matched.units, spec)
    keys = ["_g"] if group else []
    if group:
        units = units.mutate(_g=units._g.cast("string"))
    counts = units.group_by(*keys, "furthest").aggregate(n=units.count())
    n_df, sql, seconds = execute(counts, ws.con)
    t_df = None
    steps = matched.steps
    if steps is not None:  # plain any-order funnels define no times
        if spec.mode != "any-order":
            # step 1 of an ordered or strict unit is its start: no time from a previous
            # step, 0 s from the start (filled in by _records), so no need to sort them
            steps = steps.filter(steps.step > 0)
        if group:
            g = units.select(g_customer=units.customer_id, g_a_pos=units.a_pos, _g=units._g)
            steps = steps.join(g, [steps.customer_id == g.g_customer, steps.a_pos == g.g_a_pos])
        times = steps.group_by(*keys, "step").aggregate(
            # the median and p90 from one sort per column (a list of two quantiles)
            qp=steps.sp.quantile([0.5, 0.9]),
            qs=steps.ss.quantile([0.5, 0.9]),
        )
        t_df, t_sql, t_sec = execute(times, ws.con)
        sql, seconds = f"{sql};\n{t_sql}", seconds + t_sec
    table = _table(_records(n_df, t_df, spec, group), spec, group)
    params = spec.params() | (extra_params or {})
    return Result(
        name="funnel",
        table=table,
        definition=funnel_definition(spec, lang),
        params=params,
        sql=sql,
        seconds=seconds,
    )


def phase_funnel(
    ws: Workspace,
    window: Any = "30d",
    mode: str = "ordered",
    *,
    journey: str | None = None,
    unit: str = "customers",
    by: str | None = None,
    lang: str | None = None,
) -> Result:
    """The funnel over the journey's phases (a phase is reached at its first touchpoint).

    Phases without touchpoints are left out (``params['phases_left_out']``).
    """
    lang = lang or ws.settings.language
    j = ws.journey(journey)
    steps, left_out = [], []
    for phase in j.ordered_phases():
        tps = [tp.key for tp in j.touchpoints if tp.phase == phase.key]
        if tps:
            steps.append({"touchpoints": tps, "name": phase.label(lang)})
        else:
            left_out.append(phase.key)
    if not steps:
        raise InvalidSpec("journey", f"journey '{j.key}' has no touchpoints in any phase")
    spec = build_spec(steps, window=window, mode=mode, unit=unit, by=by)
    return run(ws, spec, lang=lang, extra_params={"phases": True, "phases_left_out": left_out})


def dropoff(
    ws: Workspace,
    steps: Sequence[Any] | str,
    at: int,
    window: Any = "30d",
    mode: str = "ordered",
    *,
    top: int = 10,
    exclude: Sequence[Any] = (),
    step_windows: Mapping[int, Any] | Sequence[Any] | None = None,
    min_gaps: Mapping[int, Any] | Sequence[Any] | None = None,
    optional: Sequence[int] = (),
    lang: str | None = None,
) -> Result:
    """Drop-off moments after step ``at`` (1-based): customers who reached it but not the next.

    ``table``: kind ('last' = their last touchpoint within the window, 'instead' = the
    first touchpoint after step ``at`` that is not the next step), touchpoint, customers,
    share (top ``top`` of each). ``extras['customers']``: customer_id, last_touchpoint,
    next_touchpoint for every such customer (for follow-up).
    """
    lang = lang or ws.settings.language
    spec = build_spec(
        steps,
        window=window,
        mode=mode,
        exclude=exclude,
        step_windows=step_windows,
        min_gaps=min_gaps,
        optional=optional,
    )
    if spec.mode == "any-order":
        raise InvalidSpec("mode", "drop-off moments need an ordered or strict funnel", value=mode)
    if not (isinstance(at, int) and 1 <= at < spec.n):
        raise InvalidSpec("at", f"must be a step number from 1 to {spec.n - 1}", value=at)
    if top < 1:
        raise InvalidSpec("top", "must be at least 1", value=top)
    _check_touchpoints(ws, spec)
    tl = timeline(ws)
    with attempts(tl, spec) as matched:
        return _dropoff_result(ws, spec, matched, tl, at, top, lang)


def funnel_and_dropoff(
    ws: Workspace, steps: Sequence[Any] | str, window: Any = "30d", *, top: int = 10
) -> tuple[Result, Result | None]:
    """The funnel of ``steps`` and the drop-off moments after its biggest drop, matched once.

    The biggest drop is the step (not the last) with the most ``dropped`` customers after
    it; there is none (``None``) when the funnel has one step. Same results as
    :func:`funnel` and :func:`dropoff` with those arguments, at the cost of one of them.
    """
    lang = ws.settings.language
    spec = build_spec(steps, window=window)
    _check_touchpoints(ws, spec)
    tl = timeline(ws)
    with attempts(tl, spec) as matched:
        result = _funnel_result(ws, spec, matched, lang)
        if spec.n < 2:
            return result, None
        dropped = result.table["dropped"].to_numpy()[1:]
        at = int(dropped.argmax()) + 1
        return result, _dropoff_result(ws, spec, matched, tl, at, top, lang)


def _dropoff_result(
    ws: Workspace,
    spec: FunnelSpec,
    matched: Matched,
    base: ibis.Table,
    at: int,
    top: int,
    lang: str,
) -> Result:
    k = at - 1
    nxt = list(spec.steps[at].touchpoints)
    units, steps = matched.units, matched.steps
    units = units.filter(units.furthest == k)
    steps = steps.filter(steps.step == k)
    s = steps.select(
        s_customer=steps.customer_id, s_a_pos=steps.a_pos, kpos=steps.pos, t0=steps.sec - steps.ss
    )
    d = units.join(s, [units.customer_id == s.s_customer, units.a_pos == s.s_a_pos])
    d = d.select(
        d_customer=d.customer_id, kpos=d.kpos, deadline=d.t0 + min(spec.window_seconds, 1e15)
    )
    e = base.join(d, [base.customer_id == d.d_customer, base.pos >= d.kpos, base.sec <= d.deadline])
    # per customer, one aggregate: the touchpoint of their last event, and of their first
    # event after step `at` that is not the next step (None when there is none)
    instead = (e.pos > e.kpos) & ~e.touchpoint.isin(nxt).fill_null(False)
    g = e.group_by(customer_id=e.customer_id).aggregate(
        last_touchpoint=e.touchpoint.argmax(e.pos),
        next_touchpoint=ibis.ifelse(instead, e.touchpoint, ibis.null("string")).argmin(
            ibis.ifelse(instead, e.pos, ibis.null("int64"))
        ),
    )
    expr = g.order_by("customer_id")
    df, sql, seconds = execute(expr, ws.con)
    table = _dropoff_table(df, top)
    params = spec.params() | {"at": at, "top": top}
    params.pop("by", None)
    from klantreis.i18n import t

    definition = (
        t(
            "funnel.dropoff.definition",
            lang,
            at=at,
            step=spec.steps[k].name,
            next=spec.steps[at].name,
        )
        + " "
        + funnel_definition(spec, lang)
    )
    return Result(
        name="dropoff",
        table=table,
        definition=definition,
        params=params,
        sql=sql,
        seconds=seconds,
        extras={"customers": df.reset_index(drop=True)},
    )


# -- helpers ---------------------------------------------------------------------


def _check_touchpoints(ws: Workspace, spec: FunnelSpec) -> None:
    """Every named touchpoint must be in a journey or in the data."""
    known: set[str] = set()
    try:
        for j in ws.journeys():
            known |= {tp.key for tp in j.touchpoints}
    except Exception:
        known = set()
    unknown = sorted(spec.touchpoints() - known)
    if not unknown:
        return
    from klantreis.analytics.scope import Scoped

    # a touchpoint of the data is known even when a scoped group never did it
    ev = (ws.base if isinstance(ws, Scoped) else ws).events
    hit = ev.filter(ev.touchpoint.isin(unknown)).select("touchpoint").distinct()
    seen = set(ws.con.to_pyarrow(hit)["touchpoint"].to_pylist())
    missing = [tp for tp in unknown if tp not in seen]
    if missing and ws.con.to_pyarrow(ev.limit(1)).num_rows:  # an empty store has no typos
        data = ws.con.to_pyarrow(ev.select("touchpoint").distinct().limit(10_000))[
            "touchpoint"
        ].to_pylist()
        raise UnknownKey("touchpoint", missing[0], known | {x for x in data if x})


def _extra_columns(by: str | None) -> tuple[str, ...]:
    """Timeline columns of the step-1 event a breakdown needs (event_id: to find its
    properties, which the timeline does not carry)."""
    if by == "channel":
        return ("channel",)
    if by in ("week", "month"):
        return ("timestamp",)
    if by is not None and by.startswith("property."):
        return ("event_id",)
    return ()


def _group(ws: Workspace, units: ibis.Table, spec: FunnelSpec) -> tuple[ibis.Table, str | None]:
    by = spec.by
    if by is None:
        return units, None
    if by == "channel":
        return units.mutate(_g=units.x_channel), by
    if by in ("week", "month"):
        start = units.x_timestamp.truncate("W" if by == "week" else "M").date().cast("string")
        return units.mutate(_g=start), by
    if by.startswith("property."):
        # only the counted attempts fetch their step-1 event's properties
        ev = ws.events
        props = ev.select(p_event_id=ev.event_id, p_properties=ev.properties)
        j = units.left_join(props, units.x_event_id == props.p_event_id)
        value = j.p_properties.cast("json")[by.removeprefix("property.")]
        j = j.mutate(_g=ibis.coalesce(value.str, value.cast("string")))
        return j.drop("p_event_id", "p_properties"), by
    cust = ws.customers
    if by.startswith("attribute."):
        key = by.removeprefix("attribute.")
        value = cust.attributes.cast("json")[key]
        col = ibis.coalesce(value.str, value.cast("string"))
    else:
        col = cust[by]
    c = cust.select(g_customer=cust.customer_id, _g=col).distinct(on="g_customer", keep="first")
    j = units.left_join(c, units.customer_id == c.g_customer)
    return j.drop("g_customer"), by


def _records(
    n_df: pd.DataFrame, t_df: pd.DataFrame | None, spec: FunnelSpec, group: str | None
) -> list[dict[str, Any]]:
    """One record per group: n_c (units whose furthest step is c or later) and the time
    quantiles qp_c / qs_c of the units that matched step c."""
    recs: dict[Any, dict[str, Any]] = {}

    def rec(row: dict[str, Any]) -> dict[str, Any]:
        g = row["_g"] if group else None
        key = "\0none" if g is None or g != g else g
        return recs.setdefault(key, {"_g": g} if group else {})

    for row in n_df.to_dict("records"):
        r = rec(row)
        for c in range(min(int(row["furthest"]), spec.n - 1) + 1):
            r[f"n_{c}"] = r.get(f"n_{c}", 0) + int(row["n"])
    for row in [] if t_df is None else t_df.to_dict("records"):
        r = rec(row)
        r[f"qp_{int(row['step'])}"], r[f"qs_{int(row['step'])}"] = row["qp"], row["qs"]
    if t_df is not None and spec.mode != "any-order":
        for r in recs.values():
            if r.get("n_0"):  # the starts: 0 s from the start (see _funnel_result)
                r["qs_0"] = [0.0, 0.0]
    return list(recs.values())


def _quantile(rec: dict[str, Any], key: str, i: int) -> float:
    """Quantile ``i`` of the list ``rec[key]`` (NaN when there were no values)."""
    values = rec.get(key)
    if values is None or isinstance(values, float) or len(values) <= i:
        return math.nan
    return _num(values[i])


def _num(value: Any) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return math.nan
    return f


def _table(records: list[dict[str, Any]], spec: FunnelSpec, group: str | None) -> pd.DataFrame:
    import pandas as pd

    rows = []
    if group is not None:
        records.sort(key=lambda r: (r["_g"] is None or r["_g"] != r["_g"], str(r["_g"])))
    if not records and group is None:
        records = [{}]
    for rec in records:
        counts = [
            int(_num(rec.get(f"n_{c}")) or 0) if not math.isnan(_num(rec.get(f"n_{c}"))) else 0
            for c in range(spec.n)
        ]
        for c, step in enumerate(spec.steps):
            n = counts[c]
            first, prev = counts[0], counts[c - 1] if c else counts[0]
            row: dict[str, Any] = {}
            if group is not None:
                g = rec["_g"]
                row[group] = "(none)" if g is None or g != g else g
            row |= {
                "step": c + 1,
                "name": step.name,
                "customers": n,
                "conversion_from_start": n / first if first else math.nan,
                "conversion_from_previous": n / prev if prev else math.nan,
                "dropped": prev - n,
                "median_seconds_from_previous": _quantile(rec, f"qp_{c}", 0),
                "p90_seconds_from_previous": _quantile(rec, f"qp_{c}", 1),
                "median_seconds_from_start": _quantile(rec, f"qs_{c}", 0),
                "p90_seconds_from_start": _quantile(rec, f"qs_{c}", 1),
            }
            rows.append(row)
    columns = ([group] if group else []) + COLUMNS
    out = pd.DataFrame(rows, columns=columns)
    out["customers"] = out["customers"].astype("int64")
    out["dropped"] = out["dropped"].astype("int64")
    out["step"] = out["step"].astype("int64")
    for col in COLUMNS[3:5] + COLUMNS[6:]:
        out[col] = out[col].astype("float64")
    return out


def _dropoff_table(df: pd.DataFrame, top: int) -> pd.DataFrame:
    import pandas as pd

    total = len(df)
    rows = []
    for kind, col in (("last", "last_touchpoint"), ("instead", "next_touchpoint")):
        counts = df[col].dropna().value_counts()
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top]
        for tp, count in ordered:
            rows.append(
                {
                    "kind": kind,
                    "touchpoint": str(tp),
                    "customers": int(count),
                    "share": count / total if total else math.nan,
                }
            )
    out = pd.DataFrame(rows, columns=["kind", "touchpoint", "customers", "share"])
    out["customers"] = out["customers"].astype("int64")
    out["share"] = out["share"].astype("float64")
    return out


def funnel_definition(spec: FunnelSpec, lang: str | None = None) -> str:
    """The plain-words definition attached to every funnel result."""
    from klantreis.i18n import t
    from klantreis.units import format_duration

    parts = [
        t(
            "funnel.definition.walk" if spec.walks else f"funnel.definition.{spec.mode}",
            lang,
            window=t("funnel.window.none", lang)
            if math.isinf(spec.window_seconds)
            else format_duration(spec.window_seconds),
        ),
        t(
            "funnel.definition.spans" if spec.mode == "any-order" else "funnel.definition.attempts",
            lang,
        ),
        t(f"funnel.definition.unit.{spec.unit}", lang),
        t("funnel.definition.ties", lang),
    ]
    if spec.skew_seconds:
        parts.append(t("funnel.definition.skew", lang, skew=format_duration(spec.skew_seconds)))
    optional = [str(i) for i, s in enumerate(spec.steps, start=1) if s.optional]
    if optional:
        parts.append(t("funnel.definition.optional", lang, steps=", ".join(optional)))
    for i, s in enumerate(spec.steps, start=1):
        if s.window_seconds is not None:
            parts.append(
                t(
                    "funnel.definition.step_window",
                    lang,
                    step=i,
                    window=format_duration(s.window_seconds),
                )
            )
        if s.gap_seconds:
            parts.append(
                t("funnel.definition.min_gap", lang, step=i, gap=format_duration(s.gap_seconds))
            )
    excluded = "funnel.definition." + ("exclusion_levels" if spec.walks else "exclusion")
    for x in spec.exclusions:
        parts.append(
            t(
                excluded,
                lang,
                touchpoints="|".join(x.touchpoints),
                after=x.after,
                before=x.before,
            )
        )
    if spec.by:
        parts.append(t("funnel.definition.by", lang, by=spec.by))
    return " ".join(parts)
