"""Fit a journey behaviour model from the events a workspace holds.

The heavy part runs in the engine, through Ibis: each customer's events are ordered
(timestamp, then event_id), the next touchpoint and the gap to it are looked up with
window functions, and only small aggregates come back to Python:

* transitions: per group, (previous touchpoint,) touchpoint and next touchpoint: the
  number of steps, and the mean and standard deviation of the log gap in seconds
  (a step's gap is at least 1 second); a customer's last event counts as leaving;
* entries: per group, the first touchpoint;
* channels: per group and state, the number of events per channel;
* values: per group and touchpoint, the mean value of events that carry one;
* starts: per group, first events per weekday and per month (workspace time zone)
  and the number of days they span.

From those, ``moves[s, t] = steps(s -> t) / events(s)``, the delay median is
``exp(mean log gap)`` and its spread the standard deviation of the log gap (0 with a
single step). A last event in the data counts as leaving even if the customer would
come back after the data ends (right-censoring); fit on a period that has ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from klantreis.errors import InvalidSpec
from klantreis.simulate.model import (
    DEFAULT_FEEDBACK_RATE,
    GroupModel,
    JourneyModel,
    WalkModel,
    journey_model,
)

if TYPE_CHECKING:
    import ibis
    import pandas as pd

    from klantreis.model.journey import Journey

__all__ = ["aggregates", "fit_model"]

_START = "(start)"


def aggregates(
    events: ibis.Table,
    *,
    customers: ibis.Table | None = None,
    by: str | None = None,
    order: int = 1,
) -> dict[str, pd.DataFrame]:
    """The small tables a fit needs, computed in the engine (see the module doc)."""
    import ibis

    if order not in (1, 2):
        raise InvalidSpec("order", "a journey model has order 1 or 2", value=order, allowed=[1, 2])
    if by not in (None, "persona", "segment"):
        raise InvalidSpec(
            "by", "fit per persona or per segment", value=by, allowed=["persona", "segment"]
        )
    e = events.filter(events.touchpoint.notnull())
    if by is not None:
        if customers is None:
            raise InvalidSpec("by", f"fitting per {by} needs the customers table")
        c = customers.select(customers.customer_id.name("cid"), customers[by].name("grp"))
        e = e.left_join(c, e.customer_id == c.cid).drop("cid")
        e = e.mutate(grp=e.grp.fill_null(""))
    else:
        e = e.mutate(grp=ibis.literal(""))
    from klantreis.analytics._time import seconds_between  # exact UTC seconds on any backend

    w = ibis.window(group_by=e.customer_id, order_by=[e.timestamp, e.event_id])
    e = e.mutate(
        nxt=e.touchpoint.lead().over(w),
        gap=seconds_between(e.timestamp.lead().over(w), e.timestamp),
        prev=e.touchpoint.lag().over(w).fill_null(_START),
        rn=ibis.row_number().over(w),
    )
    keys = ["grp", "prev", "touchpoint"] if order == 2 else ["grp", "touchpoint"]
    lg = e.gap.cast("float64").clip(lower=1.0).ln()
    steps = e.mutate(lg=ibis.ifelse(e.nxt.notnull(), lg, ibis.null("float64")))
    transitions = steps.group_by([*keys, steps.nxt]).aggregate(
        n=steps.count(), mean_log=steps.lg.mean(), sd_log=steps.lg.std(how="sample")
    )
    first = e.filter(e.rn == 0)
    entries = first.group_by(keys).aggregate(n=first.count())
    chan = e.filter(e.channel.notnull())
    channels = chan.group_by([*keys, chan.channel]).aggregate(n=chan.count())
    val = e.filter(e.value.notnull())
    values = val.group_by(["grp", "touchpoint"]).aggregate(mean=val.value.mean())
    weekly = first.group_by(["grp", first.timestamp.day_of_week.index().name("dow")]).aggregate(
        n=first.count()
    )
    monthly = first.group_by(["grp", (first.timestamp.month() - 1).name("month")]).aggregate(
        n=first.count()
    )
    span = first.group_by("grp").aggregate(
        customers=first.count(),
        first_day=first.timestamp.date().min(),
        last_day=first.timestamp.date().max(),
    )
    out = {
        "transitions": transitions,
        "entries": entries,
        "channels": channels,
        "values": values,
        "weekly": weekly,
        "monthly": monthly,
        "span": span,
    }
    # through Arrow: ibis 12 execute() trips a pandas 3 deprecation warning on strings
    return {name: expr.to_pyarrow().to_pandas() for name, expr in out.items()}


def fit_model(
    events: ibis.Table,
    *,
    journey: Journey | None = None,
    customers: ibis.Table | None = None,
    by: str | None = None,
    order: int = 1,
    feedback_rate: float = DEFAULT_FEEDBACK_RATE,
) -> JourneyModel:
    """A :class:`JourneyModel` fitted on ``events`` (an Ibis table in the canonical schema).

    ``by`` 'persona' or 'segment' fits one group per value of that column of
    ``customers``; ``order`` 2 makes the next step depend on the previous touchpoint
    too. The journey, when given, supplies the touchpoint order, conversions,
    experience scores and triggers; without it, touchpoints are sorted by name and
    those carrying a value count as conversions.
    """
    agg = aggregates(events, customers=customers, by=by, order=order)
    tr = agg["transitions"]
    seen = set(tr["touchpoint"].dropna()) | set(tr["nxt"].dropna())
    if not seen:
        raise InvalidSpec("events", "there are no events with a touchpoint to fit a model on")
    if journey is not None:
        base = journey_model(journey, feedback_rate=feedback_rate)
        keys = list(base.touchpoints) + sorted(seen - set(base.touchpoints))
    else:
        base = None
        keys = sorted(seen)
    T = len(keys)
    index = {k: i for i, k in enumerate(keys)}
    chan_keys = list(base.channels) if base is not None else []
    chan_keys += sorted(set(agg["channels"]["channel"]) - set(chan_keys))
    cindex = {c: i for i, c in enumerate(chan_keys)}
    has_value = set(agg["values"]["touchpoint"])
    if base is not None:
        conversion = np.array(
            [base.conversion[i] if i < len(base.touchpoints) else False for i in range(T)]
        )
        experience = np.concatenate([base.experience, np.full(T - len(base.touchpoints), np.nan)])
        triggers = base.triggers + ((),) * (T - len(base.touchpoints))
        scale = base.scale
    else:
        conversion = np.array([k in has_value for k in keys])
        experience = np.full(T, np.nan)
        triggers = ((),) * T
        scale = (1.0, 5.0)

    groups = []
    span = agg["span"].sort_values("grp", kind="stable")
    total = float(span["customers"].sum())
    for row in span.itertuples(index=False):
        g = row.grp
        sel = {name: df[df["grp"] == g] for name, df in agg.items()}
        walk = _walk(sel, keys, index, cindex, order)
        days = max((row.last_day - row.first_day).days + 1, 1) if row.customers else 1
        weekly = np.zeros(7)
        for r in sel["weekly"].itertuples(index=False):
            weekly[int(r.dow)] += r.n
        monthly = np.zeros(12)
        for r in sel["monthly"].itertuples(index=False):
            monthly[int(r.month)] += r.n
        key = g or None
        groups.append(
            GroupModel(
                key=key if by == "persona" else None,
                segment=key if by == "segment" else None,
                share=float(row.customers) / total if total else 1.0,
                starts_per_day=float(row.customers) / days,
                weekly=weekly / weekly.mean() if weekly.sum() else np.ones(7),
                seasonal=_seasonal(monthly),
                walk=walk,
            )
        )
    return JourneyModel(
        journey=journey.key if journey is not None else "fitted",
        touchpoints=tuple(keys),
        channels=tuple(chan_keys),
        conversion=conversion,
        experience=experience,
        scale=scale,
        groups=tuple(groups),
        triggers=triggers,
        feedback_rate=feedback_rate,
        source="fitted",
        notes=(f"order {order}", f"by {by or 'all'}"),
    )


def _seasonal(monthly: np.ndarray) -> np.ndarray:
    """Monthly pattern (mean 1) over the months that have data; months without data get 1."""
    present = monthly > 0
    if present.sum() < 12:
        # a partial year says nothing about the missing months: keep them neutral
        out = np.ones(12)
        if present.any():
            out[present] = monthly[present] / monthly[present].mean()
        return out
    return monthly / monthly.mean()


def _walk(
    sel: dict[str, Any], keys: list[str], index: dict[str, int], cindex: dict[str, int], order: int
) -> WalkModel:
    T, C = len(keys), len(cindex)
    tr = sel["transitions"]
    if order == 1:
        states = [(-1, i) for i in range(T)]
    else:
        pairs = set()
        for df in (tr, sel["entries"]):
            for p, t in zip(df["prev"], df["touchpoint"], strict=True):
                pairs.add((-1 if p == _START else index[p], index[t]))
        states = sorted(pairs)
    sindex = {s: i for i, s in enumerate(states)}
    S = len(states)

    def state_of(prev: Any, tp: str) -> int:
        if order == 1:
            return index[tp]
        return sindex[(-1 if prev == _START else index[prev], index[tp])]

    counts = np.zeros((S, T))
    totals = np.zeros(S)
    median = np.full((S, T), 86400.0)
    sigma = np.ones((S, T))
    prevs = tr["prev"] if order == 2 else [None] * len(tr)
    for prev, tp, nxt, n, mean_log, sd_log in zip(
        prevs, tr["touchpoint"], tr["nxt"], tr["n"], tr["mean_log"], tr["sd_log"], strict=True
    ):
        s = state_of(prev, tp)
        totals[s] += n
        if nxt is None or nxt != nxt:
            continue
        t = index[nxt]
        counts[s, t] += n
        median[s, t] = float(np.exp(mean_log))
        sigma[s, t] = float(sd_log) if sd_log == sd_log and sd_log is not None else 0.0
    moves = np.divide(counts, totals[:, None], out=np.zeros_like(counts), where=totals[:, None] > 0)

    entry = np.zeros(S)
    eprev = sel["entries"]["prev"] if order == 2 else [None] * len(sel["entries"])
    for prev, tp, n in zip(eprev, sel["entries"]["touchpoint"], sel["entries"]["n"], strict=True):
        entry[state_of(prev, tp)] += n
    entry = entry / entry.sum() if entry.sum() else np.full(S, 1.0 / S)

    mix = np.zeros((S, C))
    ch = sel["channels"]
    cprev = ch["prev"] if order == 2 else [None] * len(ch)
    for prev, tp, c, n in zip(cprev, ch["touchpoint"], ch["channel"], ch["n"], strict=True):
        mix[state_of(prev, tp), cindex[c]] += n
    sums = mix.sum(axis=1, keepdims=True)
    mix = np.divide(mix, sums, out=np.zeros_like(mix), where=sums > 0)

    value = np.full(T, np.nan)
    for tp, mean in zip(sel["values"]["touchpoint"], sel["values"]["mean"], strict=True):
        value[index[tp]] = float(mean)

    state_tp = np.array([t for _, t in states], dtype=np.int64)
    if order == 1:
        nxt_state = np.tile(np.arange(T, dtype=np.int64), (S, 1))
    else:
        pair = np.full((T, T), -1, dtype=np.int64)  # (current, next) -> state
        for (p, t), i in sindex.items():
            if p >= 0:
                pair[p, t] = i
        nxt_state = pair[state_tp]
        moves = np.where(nxt_state >= 0, moves, 0.0)
    return WalkModel(
        order=order,
        state_touchpoint=state_tp,
        entry=entry,
        moves=moves,
        next_state=nxt_state,
        delay_median_s=median,
        delay_sigma=sigma,
        channel_mix=mix,
        value=value,
        state_previous=np.array([p for p, _ in states], dtype=np.int64) if order == 2 else None,
    )
