"""The timeline: every customer's placed events in path order, numbered, next event beside.

Funnels, transitions, paths and attribution all walk a customer's events in the order
``(timestamp, event_id)``. Numbering 10M events per customer is a sort that costs
seconds; the timeline does it once per change of the data and the workspace keeps the
result (a derived table, see :mod:`klantreis.store.derived`). Columns:

- the event: customer_id (identities applied), event_id, timestamp, touchpoint,
  channel, value;
- ``pos``: the event's place in the customer's path (0, 1, 2...);
- ``us``: microseconds since 1970-01-01 UTC (int64), and ``sec``, the same in seconds
  (float64, as :func:`klantreis.analytics._time.epoch_seconds` gives);
- ``next_touchpoint``, ``next_us``, ``next_sec``: the customer's next event (null after
  the last). Exact gaps: ``(next_us - us) / 1e6``;
- ``prev_touchpoint``: the touchpoint of the customer's previous event (null at the
  first);
- ``first_pair``: true at the customer's first move from ``touchpoint`` to
  ``next_touchpoint`` (null after the last event), so transitions count unique
  customers without a distinct over millions of (customer, pair) rows;
- ``day``, ``next_day``: the local calendar day (days since 1970-01-01 in the
  workspace's time zone, which is part of the timeline's signature) of the event and
  of the next one, for calendar periods without converting every time again.

Only *placed* events are in it (timestamp and touchpoint present), as in every path
analytic. Restricting the timeline to some customers (a persona, a segment) keeps it
valid; restricting it to some events (a phase's touchpoints) does not keep the
``next_*`` columns or the gaps in ``pos`` meaningful: number those events again.
"""

from __future__ import annotations

from typing import Any

import ibis

from klantreis.analytics._time import epoch_micros

__all__ = ["COLUMNS", "VERSION", "build_timeline", "timeline"]

#: Bump when the definition changes: stored timelines of older versions are rebuilt.
VERSION = 6
COLUMNS = (
    "customer_id",
    "event_id",
    "timestamp",
    "touchpoint",
    "channel",
    "value",
    "pos",
    "us",
    "sec",
    "next_touchpoint",
    "next_us",
    "next_sec",
    "prev_touchpoint",
    "first_pair",
    "day",
    "next_day",
)


def build_timeline(events: ibis.Table, clock: Any = None) -> ibis.Table:
    """The stored part of the timeline of ``events`` (one window, one sort).

    ``clock`` (:func:`klantreis.analytics.scope.local_clock`) gives the local days.
    """
    ev = events.filter(events.timestamp.notnull(), events.touchpoint.notnull())
    w = ibis.window(group_by=ev.customer_id, order_by=[ev.timestamp, ev.event_id])
    us = epoch_micros(ev.timestamp)
    ordered = ev.select(
        "customer_id",
        "event_id",
        "timestamp",
        "touchpoint",
        "channel",
        "value",
        pos=ibis.row_number().over(w),
        us=us,
        next_touchpoint=ev.touchpoint.lead().over(w),
        next_us=us.lead().over(w),
        prev_touchpoint=ev.touchpoint.lag().over(w),
    )
    # one more sort, paid once per change of the data (measured: about 3.5 s on 10M events)
    pair = ibis.window(
        group_by=[ordered.customer_id, ordered.touchpoint, ordered.next_touchpoint],
        order_by=ordered.pos,
    )
    first = ibis.row_number().over(pair) == 0
    ordered = ordered.mutate(
        first_pair=ibis.ifelse(ordered.next_touchpoint.notnull(), first, ibis.null("boolean"))
    )
    if clock is None:
        none = ibis.null("int64")
        ordered = ordered.mutate(day=none, next_day=none)
    else:
        ordered = ordered.mutate(
            day=clock.micros(ordered.us).cast("int64"),
            next_day=clock.micros(ordered.next_us).cast("int64"),
        )
    # stored in path order: the first_pair window leaves rows grouped by pair, and the
    # analytics that aggregate per customer ran up to twice as slow on that layout
    return ordered.order_by("customer_id", "pos")


def _with_seconds(stored: ibis.Table) -> ibis.Table:
    """The stored timeline with ``sec`` and ``next_sec`` (computed, cheaper than stored)."""
    t = stored.view()
    return t.select(
        *[c for c in COLUMNS if c not in ("sec", "next_sec")],
        sec=t.us / 1_000_000,
        next_sec=t.next_us / 1_000_000,
    ).select(*COLUMNS)


def timeline(ws: Any) -> ibis.Table:
    """The workspace's timeline (built on first use after the data changed).

    A scoped workspace (:func:`klantreis.analytics.scoped`) gives its customers' part.
    """
    from klantreis.analytics.scope import Scoped

    if isinstance(ws, Scoped):
        return ws.restrict(timeline(ws.base))
    from klantreis.analytics.scope import local_clock

    def build() -> ibis.Table:
        events = ws.events
        return build_timeline(events, local_clock(ws, events))

    stored = ws.derived("timeline", build, version=VERSION, extra=ws.settings.timezone)
    return _with_seconds(stored)
