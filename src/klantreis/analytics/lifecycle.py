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

    From the events table, with a window over the distinct active (customer, period)
    pairs; :func:`day_pairs_expr` gives the same counts from the timeline without them.
    """
    import ibis

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


def day_pairs_expr(tl: Any, spec: LifecycleSpec, clock: Any) -> Any:
    """Timeline rows counted by (period ``pn``, period of the next event ``nxt``).

    Columns pn, nxt, rows, new (rows at ``pos`` 0). The timeline's rows are first counted
    by (day, next day), a few thousand pairs, so the periods are computed for those
    pairs only and no row is matched with another (see :func:`_pair_statuses`).
    """
    days = tl.group_by(["day", "next_day"]).agg(
        rows=tl.count(), new=(tl.pos == 0).cast("int64").sum()
    )
    return days.group_by(
        pn=clock.period(days.day, spec.period), nxt=clock.period(days.next_day, spec.period)
    ).agg(rows=days.rows.sum(), new=days.new.sum())


def _pair_statuses(pairs: Any) -> dict[tuple[int, str], int]:
    """Customers per (period, status) from :func:`day_pairs_expr`.

    A row whose next event falls in another period (or that has none) is the customer's
    last in its period ``pn``, one per active (customer, period); its ``nxt`` opens the
    customer's next active period: *returning* there when it is ``pn + 1``, else
    *resurrecting*; and the customer is *dormant* in ``pn + 1`` unless ``nxt`` is that
    period (up to the data's last period). *New* is the period of ``pos`` 0.
    """
    import pandas as pd

    counts: dict[tuple[int, str], int] = {}

    def add(key: tuple[int, str], n: int) -> None:
        if n:
            counts[key] = counts.get(key, 0) + n

    if not len(pairs):
        return counts
    last = int(pairs["pn"].max())
    for pn, nxt, rows, new in pairs[["pn", "nxt", "rows", "new"]].itertuples(index=False):
        pn, rows = int(pn), int(rows)
        add((pn, "new"), int(new))
        gone = pd.isna(nxt)  # the last event of all
        if not gone and int(nxt) == pn:
            continue
        if not gone:
            add((int(nxt), "returning" if int(nxt) == pn + 1 else "resurrecting"), rows)
        if (gone or int(nxt) != pn + 1) and pn + 1 <= last:
            add((pn + 1, "dormant"), rows)
    return counts


def lifecycle(ws: Any, period: str = "month") -> Result:
    """Customers per period by lifecycle status (see the module docstring)."""
    import pandas as pd

    from klantreis.i18n import t

    spec = LifecycleSpec(period=period)
    events = events_of(ws)
    clock = local_clock(ws, events)
    if clock is not None:
        pairs, sql, seconds = execute(day_pairs_expr(timeline(ws), spec, clock), ws.con)
        counts = _pair_statuses(pairs)
    else:
        active, dormant = lifecycle_expr(events, spec, clock)
        df, sql, seconds = execute(active, ws.con)
        df2, _, seconds2 = execute(dormant, ws.con)
        df = pd.concat([df, df2], ignore_index=True) if len(df2) else df
        seconds += seconds2
        counts = {
            (int(p), s): int(n)
            for p, s, n in df[["pn", "status"]].assign(n=df.customers).itertuples(index=False)
        }
    rows = []
    if counts:
        low, high = min(p for p, _ in counts), max(p for p, _ in counts)
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
