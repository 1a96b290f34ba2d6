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


def timeline_loops_expr(tl: Any, frame: Any, keys: list[str]) -> Any:
    """One row: buyers, then entered_<loop> and cycles_<loop> for each of :data:`LOOPS`.

    From the timeline, without joining every event to its loop or its customer's first
    purchase. A touchpoint's loop is read from its place in a list of the loops'
    touchpoints, ordered by loop, so each loop is a range of places. Per customer one
    aggregate gives the first purchase time ``fb``, the purchase-loop entries (a buyer
    entry), the last time in the service and loyalty loops (entered when it is at or
    after ``fb``) and the times of the entries into those loops (usually few), of which
    those at or after ``fb`` are cycles. A buyer is a customer with an ``fb``.
    """
    import ibis

    places: list[str] = []
    ranges: dict[str, tuple[int, int]] = {}
    for loop in LOOPS:
        members = [str(tp) for tp in frame.loc[frame["loop"] == loop, "touchpoint"]]
        ranges[loop] = (len(places), len(places) + len(members))
        places += members
    listed = ibis.literal(places or [""], type="array<string>")
    ev = tl.select(
        "customer_id",
        "us",
        buy=tl.touchpoint.isin(keys),
        at=listed.index(tl.touchpoint),
        came=listed.index(tl.prev_touchpoint).fill_null(-1),
    )

    def inside(place: Any, loop: str) -> Any:
        lo, hi = ranges[loop]
        return (place >= lo) & (place < hi)

    def entry(loop: str) -> Any:
        return inside(ev.at, loop) & ~inside(ev.came, loop)

    per = ev.group_by("customer_id").agg(
        fb=ev.us.min(where=ev.buy),
        p_cycles=entry("purchase").cast("int64").sum(),
        service_last=ev.us.max(where=inside(ev.at, "service")),
        loyalty_last=ev.us.max(where=inside(ev.at, "loyalty")),
        service_entries=ev.us.collect(where=entry("service")),
        loyalty_entries=ev.us.collect(where=entry("loyalty")),
    )
    per = per.filter(per.fb.notnull())

    def later(times: Any) -> Any:  # entries at or after the first purchase
        return times.filter(lambda us: us >= per.fb).length().fill_null(0)

    return per.aggregate(
        buyers=per.count(),
        entered_purchase=(per.p_cycles > 0).cast("int64").sum(),
        cycles_purchase=per.p_cycles.sum(),
        entered_service=(per.service_last >= per.fb).cast("int64").sum(),
        cycles_service=later(per.service_entries).sum(),
        entered_loyalty=(per.loyalty_last >= per.fb).cast("int64").sum(),
        cycles_loyalty=later(per.loyalty_entries).sum(),
    )


def loops(ws: Any, touchpoints: list[str] | None = None, *, journey: str | None = None) -> Result:
    """Buyers entering the purchase, service and loyalty loops, and their cycles."""
    import pandas as pd

    frame, keys = _conversions(ws, journey, touchpoints)
    one, sql, seconds = execute(timeline_loops_expr(timeline(ws), frame, keys), ws.con)
    row = one.iloc[0] if len(one) else None

    def number(col: str) -> int:
        value = None if row is None else row[col]
        return 0 if value is None or value != value else int(value)

    buyers = number("buyers")
    rows = []
    for loop in LOOPS:
        entered, cycles = number(f"entered_{loop}"), number(f"cycles_{loop}")
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
        seconds=seconds,
    )
