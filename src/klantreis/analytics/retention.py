"""Cohort retention: of the customers who started in a period, how many came back.

    retention(ws, period="month", start=None, returning=None, mode="on")

- **cohort**: a customer's first event (or, with ``start``, the first time of that
  touchpoint), by its calendar period (day, week — Monday to Sunday — or month)
  counted in the workspace time zone.
- **period**: the number of periods after the cohort's own, which is period 0.
- **return**: any event (or, with ``returning``, an event at that touchpoint) in a
  later period.
- **mode 'on'**: retained in period k = returned *in* period k; **'on or after'**
  (unbounded): returned in period k or any later one.
- period 0 is the cohort itself (retained = customers, share 1).

The table has one row per cohort and period from 0 up to the last period the data
reaches (or ``periods``), zeros included: cohort, period, customers, retained, share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from klantreis.analytics._timeline import timeline
from klantreis.analytics.scope import (
    check_period,
    date_period,
    day_period,
    events_of,
    local_clock,
    period_number,
    period_start,
)
from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.result import Result, execute

__all__ = ["RetentionSpec", "retention", "retention_expr"]

MODES = ("on", "on or after")


@dataclass(frozen=True)
class RetentionSpec:
    period: str = "month"
    start: str | None = None
    returning: str | None = None
    mode: str = "on"
    periods: int | None = None

    def __post_init__(self) -> None:
        check_period(self.period)
        mode = self.mode.replace("_", " ").replace("-", " ")
        if mode not in MODES:
            raise InvalidSpec("mode", "unknown retention mode", value=self.mode, allowed=MODES)
        object.__setattr__(self, "mode", mode)
        if self.periods is not None and self.periods < 0:
            raise InvalidSpec("periods", "must be 0 or more", value=self.periods)


def _check_touchpoint(ws: Any, events: Any, keys: list[str]) -> None:
    """Raise UnknownKey for a touchpoint neither the journey nor the data knows."""
    from klantreis.analytics.scope import journey_of

    journey = journey_of(ws)
    known = {tp.key for tp in journey.touchpoints} if journey is not None else set()
    missing = [k for k in keys if k not in known]
    if not missing:
        return
    seen, _, _ = execute(events.select("touchpoint").distinct(), ws.con)
    known |= {str(v) for v in seen["touchpoint"].dropna()}
    for key in missing:
        if key not in known:
            raise UnknownKey("touchpoint", key, known)


def retention_expr(events: Any, spec: RetentionSpec, clock: Any = None) -> tuple[Any, Any]:
    """Ibis expressions: cohort sizes (with the data's last period) and retained counts.

    ``events`` is the events table or the timeline (:mod:`._timeline`); with the
    timeline and a local clock (DuckDB) the active (customer, period) pairs come without
    a DISTINCT over all events: the last event of a customer in a period is the one
    whose next event falls in another period (or that has none).
    """
    if clock is not None and "next_us" in events.columns and spec.returning is None:
        return _timeline_expr(events, spec, clock)
    ev = events.mutate(pn=period_number(events.timestamp, spec.period, clock))
    starts = ev if spec.start is None else ev.filter(ev.touchpoint == spec.start)
    first = starts.group_by("customer_id").agg(first_ts=starts.timestamp.min())
    first = first.mutate(cohort=period_number(first.first_ts, spec.period, clock))
    sizes = first.group_by("cohort").agg(customers=first.customer_id.count())
    back = ev if spec.returning is None else ev.filter(ev.touchpoint == spec.returning)
    back = back.select("customer_id", "pn").distinct()
    joined = back.join(first.select("customer_id", "cohort"), "customer_id")
    joined = joined.mutate(period=joined.pn - joined.cohort).filter(lambda t: t.period >= 1)
    return _counted(
        joined,
        spec,
        sizes,
        events.aggregate(last=period_number(events.timestamp.max(), spec.period, clock)),
    )


def _counted(joined: Any, spec: RetentionSpec, sizes: Any, last: Any) -> tuple[Any, Any]:
    """Retained counts per (cohort, period) from the (customer, cohort, period) returns."""
    if spec.mode == "on":  # (customer, period) pairs are distinct: a count is enough
        if spec.periods is not None:
            joined = joined.filter(joined.period <= spec.periods)
        counts = joined.group_by(["cohort", "period"]).agg(retained=joined.customer_id.count())
    else:  # count each customer at their last return period; cumulated from the end later
        last_back = joined.group_by(["customer_id", "cohort"]).agg(period=joined.period.max())
        counts = last_back.group_by(["cohort", "period"]).agg(
            retained=last_back.customer_id.count()
        )
    return sizes.cross_join(last), counts


def _timeline_expr(tl: Any, spec: RetentionSpec, clock: Any) -> tuple[Any, Any]:
    pn = clock.period(tl.day, spec.period)
    if spec.start is None:
        first = tl.filter(tl.pos == 0).select("customer_id", cohort=pn)
    else:
        starts = tl.filter(tl.touchpoint == spec.start)
        first = starts.group_by("customer_id").agg(first_us=starts.us.min())
        first = first.select(
            "customer_id", cohort=clock.period(clock.micros(first.first_us), spec.period)
        )
    sizes = first.group_by("cohort").agg(customers=first.customer_id.count())
    next_pn = clock.period(tl.next_day, spec.period)
    back = tl.filter(tl.next_us.isnull() | (next_pn != pn)).select("customer_id", pn=pn)
    joined = back.join(first, "customer_id")
    joined = joined.mutate(period=joined.pn - joined.cohort).filter(lambda t: t.period >= 1)
    last = tl.aggregate(last=day_period(tl.day.max(), spec.period))
    return _counted(joined, spec, sizes, last)


#: Periods a bit mask of active periods holds (int64, sign bit left alone).
MASK_PERIODS = 62


def mask_base(clock: Any, period: str) -> int | None:
    """The first period the data's active-period masks start at, or None when the data
    spans more than :data:`MASK_PERIODS` periods (see :func:`masks_expr`)."""
    first, last = date_period(clock.first, period), date_period(clock.last, period)
    return first if last - first < MASK_PERIODS else None


def masks_expr(tl: Any, period: str, clock: Any, base: int, bitwise: bool = True) -> Any:
    """Customers per bit mask of their active periods (bit ``i``: period ``base + i``).

    ``bitwise``: a BIT_OR of ``2 ** i`` over all the customer's events (one period
    lookup per event); else (backends without BIT_OR, e.g. PySpark) a sum over the
    customer's last event in each active period (its next event falls in another
    period, or there is none), one row per active (customer, period). The few distinct
    masks say everything retention asks: the lowest bit is the cohort, the others the
    periods the customer came back in.
    """
    import ibis

    bits = ibis.literal([1 << i for i in range(MASK_PERIODS)], type="array<int64>")
    pn = clock.period(tl.day, period)
    if bitwise:
        per = tl.group_by("customer_id").agg(mask=bits[(pn - base).cast("int32")].bit_or())
    else:
        ends = tl.filter(tl.next_day.isnull() | (clock.period(tl.next_day, period) != pn))
        per = ends.group_by("customer_id").agg(mask=bits[(pn - base).cast("int32")].sum())
    return per.group_by("mask").agg(customers=per.count())


def _mask_counts(masks: Any, spec: RetentionSpec, base: int) -> tuple[Any, Any]:
    """(sizes, counts) frames as :func:`_counted` gives them, from :func:`masks_expr`."""
    import pandas as pd

    sizes: dict[int, int] = {}
    counts: dict[tuple[int, int], int] = {}
    top = -1
    for mask, n in masks[["mask", "customers"]].itertuples(index=False):
        mask, n = int(mask), int(n)
        bits = [i for i in range(MASK_PERIODS) if mask >> i & 1]
        cohort = bits[0]
        top = max(top, bits[-1])
        sizes[base + cohort] = sizes.get(base + cohort, 0) + n
        back = [b - cohort for b in bits[1:]]
        if spec.mode == "on or after":  # counted at the last return period
            back = back[-1:]
        elif spec.periods is not None:
            back = [k for k in back if k <= spec.periods]
        for k in back:
            counts[(base + cohort, k)] = counts.get((base + cohort, k), 0) + n
    size_rows = [(c, n, base + top) for c, n in sizes.items()]
    count_rows = [(c, k, n) for (c, k), n in counts.items()]
    return (
        pd.DataFrame(size_rows, columns=["cohort", "customers", "last"]),
        pd.DataFrame(count_rows, columns=["cohort", "period", "retained"]),
    )


def retention(
    ws: Any,
    period: str = "month",
    start: str | None = None,
    returning: str | None = None,
    mode: str = "on",
    *,
    periods: int | None = None,
) -> Result:
    """Cohort retention table (see the module docstring)."""
    import pandas as pd

    spec = RetentionSpec(
        period=period, start=start, returning=returning, mode=mode, periods=periods
    )
    events = events_of(ws)
    _check_touchpoint(ws, events, [k for k in (spec.start, spec.returning) if k is not None])
    clock = local_clock(ws, events)
    base = mask_base(clock, spec.period) if clock is not None else None
    if base is not None and spec.start is None and spec.returning is None:
        import ibis.expr.operations as ops

        bitwise = ws.con.has_operation(ops.BitOr)
        expr = masks_expr(timeline(ws), spec.period, clock, base, bitwise)
        masks, sql, s1 = execute(expr, ws.con)
        (sizes, counts), s2 = _mask_counts(masks, spec, base), 0.0
    else:
        source = timeline(ws) if clock is not None and spec.returning is None else events
        sizes_e, counts_e = retention_expr(source, spec, clock)
        sizes, sql, s1 = execute(sizes_e, ws.con)
        counts, _, s2 = execute(counts_e, ws.con)
    last = sizes["last"].iloc[0] if len(sizes) else None
    rows = []
    lookup = {
        (int(c), int(p)): int(r)
        for c, p, r in counts[["cohort", "period", "retained"]].itertuples(index=False)
    }
    for cohort, customers in sorted(
        (int(c), int(n)) for c, n in sizes[["cohort", "customers"]].itertuples(index=False)
    ):
        horizon = int(last) - cohort if last is not None and last == last else 0
        if spec.periods is not None:
            horizon = min(horizon, spec.periods)
        values = [lookup.get((cohort, k), 0) for k in range(horizon + 1)]
        if spec.mode == "on or after":
            beyond = sum(r for (c, k), r in lookup.items() if c == cohort and k > horizon)
            running = beyond
            for k in range(horizon, 0, -1):
                running += values[k]
                values[k] = running
        values[0] = customers
        for k, retained in enumerate(values):
            rows.append(
                (period_start(cohort, spec.period), k, customers, retained, retained / customers)
            )
    table = pd.DataFrame(rows, columns=["cohort", "period", "customers", "retained", "share"])
    table = table.astype(
        {"period": "int64", "customers": "int64", "retained": "int64", "share": "float64"}
    )
    return Result(
        name="retention",
        table=table,
        definition=_definition(spec, ws.settings.language),
        params={
            "period": spec.period,
            "start": spec.start,
            "returning": spec.returning,
            "mode": spec.mode,
            "periods": spec.periods,
        },
        sql=sql,
        seconds=s1 + s2,
    )


def _definition(spec: RetentionSpec, lang: str | None) -> str:
    from klantreis.i18n import t

    key = "loyalty.definition.retention"
    start = (
        t(f"{key}.first_at", lang, touchpoint=spec.start)
        if spec.start
        else t(f"{key}.first_event", lang)
    )
    back = (
        t(f"{key}.event_at", lang, touchpoint=spec.returning)
        if spec.returning
        else t(f"{key}.any_event", lang)
    )
    when = t(f"{key}.on" if spec.mode == "on" else f"{key}.on_or_after", lang)
    period = t(f"loyalty.period.{spec.period}", lang)
    return t(key, lang, period=period, start=start, back=back, when=when)
