"""The three loops and repeat purchases.

**Loops** (``loops(ws)``): touchpoints sit in the purchase process, the service loop
or the loyalty loop (a touchpoint's ``loop``, else its phase: buyer phases ->
purchase, 'service' -> service, 'loyalty' -> loyalty; touchpoints outside the journey
are in no loop). *Buyers* are customers with an event at a conversion touchpoint.
Per loop: how many buyers *enter* it (share with a Wilson 95% interval) and how often
they *cycle*: an entry is an event in the loop whose previous event of the customer
(by time, ties by event_id) is not in that loop. For the service and loyalty loops only
events at or after the buyer's first purchase count; for the purchase loop all of the
buyer's events count (its first entry is the one that led to the purchase).
``cycles`` is the number of entries, ``cycles_per_customer`` the mean over the buyers
who entered.

**Repeat purchase** (``repeat_purchase(ws)``): of the buyers, the share with two or
more conversion events (Wilson 95% interval), and the mean number of purchases.
"""

from __future__ import annotations

from typing import Any

from klantreis.analytics._stats import wilson
from klantreis.analytics._timeline import timeline
from klantreis.analytics.scope import (
    events_of,
    journey_of,
    keys_with,
    touchpoint_frame,
    touchpoint_table,
)
from klantreis.errors import InvalidSpec
from klantreis.i18n import t
from klantreis.result import Result, execute

__all__ = ["LOOPS", "loops", "repeat_purchase"]

LOOPS = ("purchase", "service", "loyalty")


def _conversions(
    ws: Any, journey: str | None, touchpoints: list[str] | None
) -> tuple[Any, list[str]]:
    frame = touchpoint_frame(ws, journey_of(ws, journey))
    keys = list(touchpoints) if touchpoints else keys_with(frame, "conversion")
    if not keys:
        raise InvalidSpec(
            "touchpoints",
            "no conversion touchpoint: mark one with 'conversion: true' in the journey "
            "or pass touchpoints",
        )
    return frame, keys


def repeat_purchase(
    ws: Any, touchpoints: list[str] | None = None, *, journey: str | None = None
) -> Result:
    """Share of buyers who bought again (see the module docstring)."""
    import pandas as pd

    _, keys = _conversions(ws, journey, touchpoints)
    ev = events_of(ws)
    per = ev.filter(ev.touchpoint.isin(keys)).group_by("customer_id").agg(n=ev.event_id.count())
    expr = per.aggregate(
        buyers=per.customer_id.count(),
        repeat_buyers=(per.n >= 2).sum(),
        purchases=per.n.sum(),
    )
    df, sql, seconds = execute(expr, ws.con)
    buyers = int(df.buyers.iloc[0] or 0)
    repeaters = int(df.repeat_buyers.iloc[0] or 0)
    purchases = int(df.purchases.iloc[0] or 0)
    low, high = wilson(repeaters, buyers)
    table = pd.DataFrame(
        [
            {
                "buyers": buyers,
                "repeat_buyers": repeaters,
                "rate": repeaters / buyers if buyers else float("nan"),
                "low": low,
                "high": high,
                "purchases_per_buyer": purchases / buyers if buyers else float("nan"),
            }
        ]
    )
    return Result(
        name="repeat_purchase",
        table=table,
        definition=t(
            "loyalty.definition.repeat_purchase", ws.settings.language, touchpoints=", ".join(keys)
        ),
        params={"touchpoints": keys},
        sql=sql,
        seconds=seconds,
    )


def loops_expr(events: Any, tps: Any, keys: list[str]) -> Any:
    """(entries and cycles per loop, number of buyers) as Ibis expressions.

    ``events`` is the timeline (:mod:`._timeline`: the previous event's touchpoint is
    beside each event, so no window is needed) or the events table.
    """
    import ibis

    loop_of = tps.select("touchpoint", "loop")
    if "prev_touchpoint" in events.columns:
        ev = events.left_join(loop_of, "touchpoint").select(
            "customer_id", "timestamp", "event_id", "touchpoint", "prev_touchpoint", "loop"
        )
        before = loop_of.select(p_touchpoint=loop_of.touchpoint, prev_loop=loop_of.loop)
        ev = ev.left_join(before, ev.prev_touchpoint == before.p_touchpoint).drop(
            "p_touchpoint", "prev_touchpoint"
        )
        buys = ev.filter(ev.touchpoint.isin(keys))
        firsts = buys.group_by(b_customer=buys.customer_id).agg(first_buy=buys.timestamp.min())
        ev = ev.join(firsts, ev.customer_id == firsts.b_customer).drop("b_customer")
        buyers = firsts.aggregate(buyers=firsts.b_customer.count())
    else:
        ev = events.left_join(loop_of, "touchpoint").select(
            "customer_id", "timestamp", "event_id", "touchpoint", "loop"
        )
        w = ibis.window(group_by="customer_id", order_by=["timestamp", "event_id"])
        ev = ev.mutate(
            prev_loop=ev.loop.lag().over(w),
            first_buy=ibis.cases(
                (ev.touchpoint.isin(keys), ev.timestamp), else_=ibis.null("timestamp('UTC')")
            )
            .min()
            .over(ibis.window(group_by="customer_id")),
        )
        ev = ev.filter(ev.first_buy.notnull())
        who = ev.select("customer_id").distinct()
        buyers = who.aggregate(buyers=who.customer_id.count())
    ev = ev.filter(ev.loop.notnull())
    entry = ev.prev_loop.isnull() | (ev.prev_loop != ev.loop)
    after = ev.filter((ev.timestamp >= ev.first_buy) | (ev.loop == "purchase"))
    per = after.group_by(["customer_id", "loop"]).agg(
        cycles=entry.ifelse(1, 0).sum(), events=after.event_id.count()
    )
    return per.group_by("loop").agg(
        entered=per.customer_id.count(), cycles=per.cycles.sum()
    ), buyers


def loops(ws: Any, touchpoints: list[str] | None = None, *, journey: str | None = None) -> Result:
    """Buyers entering the purchase, service and loyalty loops, and their cycles."""
    import pandas as pd

    frame, keys = _conversions(ws, journey, touchpoints)
    per_loop, buyers_e = loops_expr(timeline(ws), touchpoint_table(frame), keys)
    df, sql, s1 = execute(per_loop, ws.con)
    nb, _, s2 = execute(buyers_e, ws.con)
    buyers = int(nb.buyers.iloc[0] or 0)
    got = {str(r.loop): (int(r.entered), int(r.cycles)) for r in df.itertuples(index=False)}
    rows = []
    for loop in LOOPS:
        entered, cycles = got.get(loop, (0, 0))
        low, high = wilson(entered, buyers)
        rows.append(
            {
                "loop": loop,
                "buyers": buyers,
                "entered": entered,
                "share": entered / buyers if buyers else float("nan"),
                "low": low,
                "high": high,
                "cycles": cycles,
                "cycles_per_customer": cycles / entered if entered else float("nan"),
            }
        )
    table = pd.DataFrame(rows).astype({"buyers": "int64", "entered": "int64", "cycles": "int64"})
    return Result(
        name="loops",
        table=table,
        definition=t("loyalty.definition.loops", ws.settings.language),
        params={"touchpoints": keys},
        sql=sql,
        seconds=s1 + s2,
    )
