"""Lifecycle per period and churn.

**Lifecycle** (``lifecycle(ws, period="month")``): in every calendar period (workspace
time zone) each customer active in it (any event) is

- *new*: the period is their first active one;
- *returning*: they were also active in the period before;
- *resurrecting*: active again after one or more inactive periods;

and each customer active in the period before but not in this one is *dormant* in it.
Periods run from the first to the last period in the data. Table: period, status,
customers (long form, one row per period and status, zeros included).

**Churn** (``churn(ws, inactive="90d", as_of=None)``): a customer has churned when
their last event at an end-of-relationship touchpoint (``ends_relationship: true``)
is their last event of all (*ended*), or else when their last event is more than
``inactive`` before ``as_of`` (default: the last event in the data) (*inactive*);
the others are *active*. Table: status, customers, share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from klantreis.analytics._timeline import timeline
from klantreis.analytics.scope import (
    check_period,
    day_period,
    events_of,
    journey_of,
    keys_with,
    local_clock,
    period_number,
    period_start,
    touchpoint_frame,
)
from klantreis.errors import InvalidSpec
from klantreis.result import Result, execute
from klantreis.units import parse_duration

__all__ = ["STATUSES", "churn", "lifecycle"]

STATUSES = ("new", "returning", "resurrecting", "dormant")


@dataclass(frozen=True)
class LifecycleSpec:
    period: str = "month"

    def __post_init__(self) -> None:
        check_period(self.period)


def lifecycle_expr(events: Any, spec: LifecycleSpec, clock: Any = None) -> tuple[Any, Any]:
    """Ibis expressions (active statuses, dormant): period number, status, customers.

    ``events`` is the events table or the timeline (:mod:`._timeline`); with the
    timeline and a local clock (DuckDB), no window and no DISTINCT over all events is
    needed (see :func:`_timeline_lifecycle`).
    """
    import ibis

    if clock is not None and "next_us" in events.columns:
        return _timeline_lifecycle(events, spec, clock)
    act = events.select(
        customer_id=events.customer_id, pn=period_number(events.timestamp, spec.period, clock)
    )
    act = act.distinct()
    w = ibis.window(group_by="customer_id", order_by="pn")
    act = act.mutate(
        prev=act.pn.lag().over(w),
        nxt=act.pn.lead().over(w),
        first=act.pn.min().over(ibis.window(group_by="customer_id")),
    )
    status = ibis.cases(
        (act.pn == act.first, "new"),
        (act.prev == act.pn - 1, "returning"),
        else_="resurrecting",
    )
    active = act.select(pn=act.pn, status=status, customer_id=act.customer_id)
    last = events.aggregate(last=period_number(events.timestamp.max(), spec.period, clock))
    gone = act.filter(act.nxt.isnull() | (act.nxt != act.pn + 1)).cross_join(last)
    gone = gone.filter(gone.pn + 1 <= gone.last)
    dormant = gone.select(
        pn=gone.pn + 1, status=ibis.literal("dormant"), customer_id=gone.customer_id
    )
    return _counted(active, dormant)


def _counted(active: Any, dormant: Any) -> tuple[Any, Any]:
    return tuple(
        part.group_by(["pn", "status"]).agg(customers=part.customer_id.count())
        for part in (active, dormant)
    )


def _timeline_lifecycle(tl: Any, spec: LifecycleSpec, clock: Any) -> tuple[Any, Any]:
    """The statuses from the last event of each active (customer, period).

    That event's next event opens the customer's next active period ``nxt``: the customer
    is *returning* there when ``nxt`` is the next period, else *resurrecting*, and
    *dormant* in the period after this one unless ``nxt`` is that period. *New* is the
    period of the customer's first event (``pos`` 0). Each (customer, period) has one
    such last event, so counting rows counts customers.
    """
    import ibis

    pn = clock.period(tl.day, spec.period)
    nxt = clock.period(tl.next_day, spec.period)
    ends = tl.filter(tl.next_us.isnull() | (nxt != pn)).select("customer_id", pn=pn, nxt=nxt)
    new = tl.filter(tl.pos == 0).select(
        pn=pn, status=ibis.literal("new"), customer_id=tl.customer_id
    )
    back = ends.filter(ends.nxt.notnull())
    back = back.select(
        pn=back.nxt,
        status=ibis.ifelse(back.nxt == back.pn + 1, "returning", "resurrecting"),
        customer_id=back.customer_id,
    )
    last = tl.aggregate(last=day_period(tl.day.max(), spec.period))
    gone = ends.filter(ends.nxt.isnull() | (ends.nxt != ends.pn + 1)).cross_join(last)
    gone = gone.filter(gone.pn + 1 <= gone.last)
    dormant = gone.select(
        pn=gone.pn + 1, status=ibis.literal("dormant"), customer_id=gone.customer_id
    )
    return _counted(ibis.union(new, back, distinct=False), dormant)


def lifecycle(ws: Any, period: str = "month") -> Result:
    """Customers per period by lifecycle status (see the module docstring)."""
    import pandas as pd

    from klantreis.i18n import t

    spec = LifecycleSpec(period=period)
    events = events_of(ws)
    clock = local_clock(ws, events)
    source = timeline(ws) if clock is not None else events
    active, dormant = lifecycle_expr(source, spec, clock)
    df, sql, seconds = execute(active, ws.con)
    df2, _, seconds2 = execute(dormant, ws.con)
    df = pd.concat([df, df2], ignore_index=True) if len(df2) else df
    seconds += seconds2
    rows = []
    if len(df):
        counts = {
            (int(p), s): int(n)
            for p, s, n in df[["pn", "status"]].assign(n=df.customers).itertuples(index=False)
        }
        low, high = int(df.pn.min()), int(df.pn.max())
        for pn in range(low, high + 1):
            for status in STATUSES:
                rows.append((period_start(pn, spec.period), status, counts.get((pn, status), 0)))
    table = pd.DataFrame(rows, columns=["period", "status", "customers"]).astype(
        {"customers": "int64"}
    )
    return Result(
        name="lifecycle",
        table=table,
        definition=t(
            "loyalty.definition.lifecycle",
            ws.settings.language,
            period=t(f"loyalty.period.{spec.period}", ws.settings.language),
        ),
        params={"period": spec.period},
        sql=sql,
        seconds=seconds,
    )


def churn(
    ws: Any,
    inactive: str = "90d",
    as_of: datetime | str | None = None,
    *,
    journey: str | None = None,
) -> Result:
    """Active and churned customers (see the module docstring)."""
    import ibis
    import pandas as pd

    from klantreis.i18n import t

    gap = parse_duration(inactive, field="inactive")
    if gap.total_seconds() <= 0:
        raise InvalidSpec("inactive", "must be longer than 0", value=inactive)
    frame = touchpoint_frame(ws, journey_of(ws, journey))
    ends = keys_with(frame, "ends")
    tl = timeline(ws)
    if as_of is None:  # the last event in the data
        ref_us = tl.us.max().execute()
        ref_us = None if ref_us is None or pd.isna(ref_us) else int(ref_us)
    else:
        try:
            stamp = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise InvalidSpec(
                "as_of", "is not a date or time like 2026-03-01", value=as_of
            ) from None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        ref_us = (stamp - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)
    # each customer's last event (up to as_of): the one whose next event is later, or none
    last = tl.filter(tl.next_us.isnull())
    if as_of is not None:
        last = tl.filter(tl.us <= ref_us, tl.next_us.isnull() | (tl.next_us > ref_us))
    limit_us = (ref_us or 0) - gap // timedelta(microseconds=1)
    status = ibis.cases(
        (last.touchpoint.isin(ends) if ends else ibis.literal(False), "ended"),
        (last.us < limit_us, "inactive"),
        else_="active",
    )
    expr = last.mutate(status=status).group_by("status").agg(customers=ibis._.count())
    df, sql, seconds = execute(expr, ws.con)
    counts = {s: int(n) for s, n in zip(df["status"], df["customers"], strict=True)}
    total = sum(counts.values())
    rows = [
        (s, counts.get(s, 0), counts.get(s, 0) / total if total else float("nan"))
        for s in ("active", "inactive", "ended")
    ]
    table = pd.DataFrame(rows, columns=["status", "customers", "share"]).astype(
        {"customers": "int64"}
    )
    lang = ws.settings.language
    return Result(
        name="churn",
        table=table,
        definition=t(
            "loyalty.definition.churn",
            lang,
            ends=", ".join(ends) or t("loyalty.definition.none", lang),
            inactive=inactive,
            reference=t("loyalty.definition.last_event", lang) if as_of is None else str(as_of),
        ),
        params={"inactive": inactive, "as_of": None if as_of is None else str(as_of), "ends": ends},
        sql=sql,
        seconds=seconds,
    )
