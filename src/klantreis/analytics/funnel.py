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

from klantreis.analytics._funnel_engine import attempts
from klantreis.analytics._funnel_spec import FunnelSpec, build_spec
from klantreis.analytics._timeline import timeline
from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.result import Result, execute

if TYPE_CHECKING:
    import pandas as pd

    from klantreis.store import Workspace

__all__ = ["COLUMNS", "dropoff", "funnel", "funnel_definition", "phase_funnel"]

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
    extra = _extra_columns(spec.by)
    with attempts(timeline(ws), spec, extra=extra) as att:
        units = _units(att, spec)
        units, group = _group(ws, units, spec)
        expr = _aggregate(units, spec, group)
        df, sql, seconds = execute(expr, ws.con)
    table = _table(df, spec, group)
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
    k = at - 1
    nxt = list(spec.steps[at].touchpoints)
    with attempts(timeline(ws), spec, base_out=True) as (att, base):
        units = _units(att, spec)
        d = units.filter(units.furthest == k).select(
            d_customer=units.customer_id,
            kpos=units[f"pos_{k}"],
            deadline=units.t0 + min(spec.window_seconds, 1e15),
        )
        e = base.join(
            d, [base.customer_id == d.d_customer, base.pos >= d.kpos, base.sec <= d.deadline]
        )
        last_w = ibis.window(group_by=e.customer_id, order_by=ibis.desc(e.pos))
        last = e.mutate(r=ibis.row_number().over(last_w))
        last = last.filter(last.r == 0).select(
            l_customer=last.customer_id, last_touchpoint=last.touchpoint
        )
        after = e.filter((e.pos > e.kpos) & ~e.touchpoint.isin(nxt).fill_null(False))
        first_w = ibis.window(group_by=after.customer_id, order_by=after.pos)
        first = after.mutate(r=ibis.row_number().over(first_w))
        first = first.filter(first.r == 0).select(
            f_customer=first.customer_id, next_touchpoint=first.touchpoint
        )
        j = last.left_join(first, last.l_customer == first.f_customer)
        expr = j.select(
            customer_id=j.l_customer,
            last_touchpoint=j.last_touchpoint,
            next_touchpoint=j.next_touchpoint,
        ).order_by("customer_id")
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


def _units(att: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """Attempts, or per customer the earliest attempt that reaches their furthest step."""
    if spec.unit == "attempts" or spec.first_attempt_suffices():
        return att  # every attempt counts, or the engine kept one attempt per customer
    # measured on 10M events: this window beats a hash aggregate with arg_max of a struct
    w = ibis.window(group_by=att.customer_id, order_by=[ibis.desc(att.furthest), att.a_pos])
    ranked = att.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).drop("_r")


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


def _aggregate(units: ibis.Table, spec: FunnelSpec, group: str | None) -> ibis.Table:
    aggs: dict[str, Any] = {}
    for c in range(spec.n):
        aggs[f"n_{c}"] = ibis.ifelse(units.furthest >= c, 1, 0).sum()
        if spec.mode != "any-order":
            # the median and p90 from one sort per column (a list of two quantiles)
            aggs[f"qp_{c}"] = units[f"sp_{c}"].quantile([0.5, 0.9])
            aggs[f"qs_{c}"] = units[f"ss_{c}"].quantile([0.5, 0.9])
    if group is None:
        return units.aggregate(**aggs)
    return units.group_by(_g=units._g.cast("string")).aggregate(**aggs)


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


def _table(df: pd.DataFrame, spec: FunnelSpec, group: str | None) -> pd.DataFrame:
    import pandas as pd

    rows = []
    records = df.to_dict("records")
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
            f"funnel.definition.{spec.mode}",
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
    for x in spec.exclusions:
        parts.append(
            t(
                "funnel.definition.exclusion",
                lang,
                touchpoints="|".join(x.touchpoints),
                after=x.after,
                before=x.before,
            )
        )
    if spec.by:
        parts.append(t("funnel.definition.by", lang, by=spec.by))
    return " ".join(parts)
