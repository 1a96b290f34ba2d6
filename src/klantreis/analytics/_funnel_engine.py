"""The funnel matcher: Ibis expressions over the timeline, one pass per step (linear in steps).

The engine reads the workspace's timeline (:mod:`klantreis.analytics._timeline`): every
event already carries its place in the customer's path (``pos``, by timestamp then
event_id), its time in microseconds (``us``) and the customer's next event. Keeping only
some touchpoints keeps the relative order of ``pos``, so nothing is numbered again.

An attempt starts at every step-1 event; its state is the last matched step, its
position and time. Each pass k moves the attempts that stand at step k to the earliest
valid occurrence of a step that may follow (k+1, or a later one over optional steps):

* ordered, two strategies with one definition (tests prove them equal):

  - ``join``: join the waiting attempts to the step's events of the same customer that
    come later and within the deadlines, keep the minimum position. Fastest when few
    step events fall within an attempt's reach (a window bounds them, or one attempt per
    customer suffices); rows multiply by attempts x events per customer otherwise;
  - ``window``: one window over the union of the waiting attempts and the step's events,
    per customer, ordered by position (an as-of lookup every SQL backend runs), so no
    row multiplies. Used when neither bound holds;

* strict: the next event of the customer (``pos + 1``) must be the step; the attempt
  carries its event's ``next_touchpoint``/``next_us``, so a pass is a filter plus one
  equality join that fetches the new event's own next event;
* any-order: per event, the first time of every step at or after it (one window with a
  column per step); the level of the span starting there is the number of steps within W.
  With options (step windows, gaps, optional steps, exclusions) the greedy walk of
  :mod:`klantreis.analytics._funnel_anyorder`, one pass per level.

Attempts that make the same first move share the rest of their chain (each next step
is the earliest valid event from there); they differ only by their deadline. So an
ordered funnel counted per customer (no exclusions) moves one attempt per group, the
group's latest start, and gives each customer the earliest start of the earliest group
that gets furthest whose deadline still covers its chain (:func:`_from_groups`): 2.7M
attempts become 0.8M in the benchmark's phase funnel. Later passes read only the events
of the customers still waiting once they are few (:class:`_Source`).

Intermediate attempt tables are cached on the backend (temporary tables), so each pass
reads the previous one once. The result (:class:`Matched`) is the counted units and the
steps they matched, taken straight from the passes' moves: no row per attempt with a
column per step is built (that pivot, a hash aggregate over every attempt, was the
largest cost of the phase funnel) except where exclusions or the walk need it. Times
are compared exactly (microseconds since the epoch); outputs are in seconds.
"""

from __future__ import annotations

import contextlib
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt

if TYPE_CHECKING:
    from collections.abc import Iterator

from klantreis.analytics._funnel_spec import FunnelSpec
from klantreis.result import cache_table, release_table

__all__ = ["STRATEGIES", "Matched", "attempts"]

STRATEGIES = ("join", "window")
_I64 = dt.int64
_F64 = dt.float64
_US = 1_000_000


def _micros(seconds: float) -> int:
    return round(seconds * _US)


class _Cache:
    """Temporary backend tables made during one analysis, dropped at the end."""

    def __init__(self) -> None:
        self.tables: list[Any] = []

    def __call__(self, expr: ibis.Table) -> ibis.Table:
        cached = cache_table(expr)
        self.tables.append(cached)
        return cached

    def release(self) -> None:
        for table in reversed(self.tables):
            # a temp table that cannot be dropped disappears with the session anyway
            with contextlib.suppress(Exception):
                release_table(table)
        self.tables.clear()


def _events(tl: ibis.Table, touchpoints: Any, *cols: str) -> ibis.Table:
    """Timeline rows of ``touchpoints`` (all when None) with the engine's columns."""
    ev = tl if touchpoints is None else tl.filter(tl.touchpoint.isin(sorted(touchpoints)))
    # one nullability everywhere, so the passes' unions line up
    cid = ev.customer_id.cast(dt.String(nullable=True))
    return ev.select("touchpoint", "pos", "us", *cols, customer_id=cid)


def choose_strategy(spec: FunnelSpec) -> str:
    """The ordered pass to run: ``join`` when its rows are bounded, else ``window``."""
    if spec.first_attempt_suffices() or not math.isinf(spec.window_seconds):
        return "join"
    return "window"


@contextmanager
def attempts(
    tl: ibis.Table,
    spec: FunnelSpec,
    *,
    extra: tuple[str, ...] = (),
    strategy: str | None = None,
) -> Iterator[Matched]:
    """The counted units of ``spec`` and their matched steps (see :class:`Matched`).

    ``tl`` is a timeline (:func:`klantreis.analytics._timeline.timeline`, possibly of a
    scoped workspace). ``extra`` timeline columns of the step-1 event come along on the
    units as ``x_<name>``. ``strategy`` forces the ordered pass ("join" or "window";
    tests prove both equal); by default :func:`choose_strategy` picks.
    """
    cache = _Cache()
    try:
        if spec.mode == "any-order":
            matched = _from_wide(_any_order(tl, spec, extra, cache, strategy), spec, cache)
        else:
            strict = spec.mode == "strict"
            first = _events(tl, spec.steps[0].touchpoints, "next_touchpoint", "next_us")
            if spec.first_attempt_suffices():
                # one attempt per customer is enough: its earliest step-1 event (the
                # smallest pos also has the smallest time, so no window is needed)
                first = first.group_by("customer_id").aggregate(
                    pos=first.pos.min(), us=first.us.min()
                )
            starts = first.select(
                customer_id=first.customer_id,
                a_pos=first.pos,
                t0=first.us,
                step=ibis.literal(0, _I64),
                pos=first.pos,
                us=first.us,
                sp=_null(_I64),
                **(_next_of(first, spec, 0) if strict else {}),
            )
            if strict:
                step_pass = _strict_pass
            else:
                chosen = strategy or choose_strategy(spec)
                step_pass = _ordered_join_pass if chosen == "join" else _ordered_window_pass
            grouped = _groups_starts(spec)
            first_moves = None
            if grouped and _plain_first_move(spec):
                # one attempt per group of starts that move to the same event (its latest),
                # found by one window; the starts are read again only to pick the units
                moves = {0: cache(_groups_by_window(tl, spec))}
            else:
                starts = cache(starts)
                moves = {-1: starts}  # pass k -> the moves it made (-1: the starts)
                if grouped:  # the same groups from every start's first move
                    first_moves = cache(step_pass(starts, tl, spec, 0))
                    moves = {0: cache(_latest_of_groups(first_moves))}
            source = _Source(tl, None if strict else _count(moves[min(moves)]))
            for k in range(1 if grouped else 0, spec.n - 1):
                sources = [
                    m for p, m in moves.items() if k in ([0] if p < 0 else spec.candidates(p))
                ]
                # (the groups carry more columns: what their recovery needs)
                width = len(starts.columns)
                waiting = [m.filter(m.step == k).select(*m.columns[:width]) for m in sources]
                waiting = ibis.union(*waiting, distinct=False)
                # every attempt still to move (optional steps: also those at later steps)
                pending = [
                    m.filter((m.step >= k) & (m.step < spec.n - 1)).select("customer_id")
                    for p, m in moves.items()
                    if p < k
                ]
                events = source.narrowed(ibis.union(*pending, distinct=False), spec, k, cache)
                moves[k] = cache(step_pass(waiting, events, spec, k))
            cols = ["customer_id", "a_pos", "t0", "step", "pos", "us", "sp"]
            chains = [m.select(*cols) for m in moves.values()]
            if grouped:
                matched = _from_groups(
                    moves[0], chains, starts, first_moves, tl, spec, extra, cache
                )
            elif spec.exclusions:  # they need every attempt's whole chain
                att = _exclude(cache(_pivot(chains, spec)), tl, spec)
                out = _with_extra(_finish(att, spec, ()), tl, spec, extra)
                matched = _from_wide(out, spec, cache)
            else:
                matched = _from_moves(chains, tl, spec, extra, cache)
        yield matched
    finally:
        cache.release()


def _count(table: ibis.Table) -> int:
    return int(table.count().execute())


class _Source:
    """The events the ordered passes read: the timeline, then, as attempts die off, only
    the events of the customers still waiting and of the steps still ahead.

    Every pass reads its step's events from its source, so a source much larger than the
    attempts it serves costs a full scan per step (most of a long funnel's later steps).
    When the waiting attempts have shrunk to a quarter of those at the last narrowing (at
    first: of the first pass), the source is narrowed to their customers and the
    touchpoints of the steps ahead (one scan of the current source); later passes read
    that. Strict passes (``rows`` None) keep the timeline: they fetch next events by
    position.
    """

    def __init__(self, tl: ibis.Table, rows: int | None) -> None:
        self.table, self.rows = tl, rows

    def narrowed(self, pending: ibis.Table, spec: FunnelSpec, k: int, cache: _Cache) -> ibis.Table:
        """The source for pass ``k``; ``pending``: the customer of every attempt that has
        a step ahead (waiting at step k or, over optional steps, later)."""
        if self.rows is None:
            return self.table
        n = _count(pending)
        if 4 * n <= self.rows:
            src = self.table
            ahead = sorted({tp for s in spec.steps[k + 1 :] for tp in s.touchpoints})
            who = pending.select(w_customer=pending.customer_id).distinct()
            src = src.filter(src.touchpoint.isin(ahead))
            src = src.select("customer_id", "touchpoint", "pos", "us")
            self.table = cache(src.semi_join(who, src.customer_id == who.w_customer))
            self.rows = n
        return self.table


@dataclass(frozen=True)
class Matched:
    """What a funnel counts, in two tables.

    ``units``: one row per counted unit (per customer their earliest attempt that gets
    furthest; with ``unit="attempts"`` every attempt): customer_id, a_pos (position of
    its step-1 event), furthest (0-based step), ``x_*``.
    ``steps``: one row per unit and step it matched (skipped optional steps have none;
    ``None`` for plain any-order funnels, which define no times): customer_id, a_pos,
    step, pos, sec (seconds since the epoch), sp and ss (seconds from the previous
    matched step and from the start).
    """

    units: ibis.Table
    steps: ibis.Table | None


_SHIFT = 1 << 32  # packs (step, position) into one integer: positions stay below 2**32


def _from_moves(
    chains: list[ibis.Table],
    tl: ibis.Table,
    spec: FunnelSpec,
    extra: tuple[str, ...],
    cache: _Cache,
) -> Matched:
    """Units and steps straight from the passes' moves, without a row per attempt.

    A customer's unit is the attempt with the highest step, then the lowest start: one
    integer maximum per customer (step * 2**32 + 2**32 - 1 - a_pos), so the hash
    aggregate keeps a single number per group.
    """
    m = ibis.union(*chains, distinct=False) if len(chains) > 1 else chains[0]
    if spec.unit == "attempts":
        units = m.group_by("customer_id", "a_pos").aggregate(furthest=m.step.max())
        chosen = m
    else:
        g = m.group_by("customer_id").aggregate(k=(m.step * _SHIFT + (_SHIFT - 1 - m.a_pos)).max())
        units = g.select(
            customer_id=g.customer_id,
            a_pos=(_SHIFT - 1) - g.k % _SHIFT,
            furthest=g.k // _SHIFT,
        )
        units = cache(units)
        u = units.select(u_customer=units.customer_id, u_a_pos=units.a_pos)
        chosen = m.join(u, [m.customer_id == u.u_customer, m.a_pos == u.u_a_pos])
    steps = chosen.select(
        customer_id=chosen.customer_id,
        a_pos=chosen.a_pos,
        step=chosen.step,
        pos=chosen.pos,
        sec=chosen.us / _US,
        sp=chosen.sp / _US,
        ss=(chosen.us - chosen.t0) / _US,
    )
    return Matched(_with_extra(units, tl, spec, extra), steps)


def _groups_starts(spec: FunnelSpec) -> bool:
    """True when :func:`_from_groups` applies: ordered, one unit per customer, no
    exclusions, more than one attempt per customer, and a first move that is monotone in
    the start (a later start never moves to an earlier event).

    After its first move an attempt's chain depends only on the event it moved to: each
    next step is the earliest valid event from there, and the attempts of one group
    differ only by their deadline (start + W). The earliest candidate event fails the
    deadline only if every later one does, so an attempt's chain is the chain of the
    group's latest start (which reaches furthest) cut at the first step past its own
    deadline. The first move is monotone unless a step window (relative to the start)
    weighs several candidates of it (an optional step 2): then keep every attempt.
    """
    if spec.mode != "ordered" or spec.unit != "customers" or spec.exclusions or spec.n < 2:
        return False
    if spec.first_attempt_suffices():  # one attempt per customer already
        return False
    first = spec.candidates(0)
    return len(first) == 1 or all(spec.steps[c].window_seconds is None for c in first)


def _plain_first_move(spec: FunnelSpec) -> bool:
    """The first move goes to the earliest step-2 event after the start (no optional
    step 2, no gap, no skew): then a group is the starts between two step-2 events."""
    first = spec.candidates(0)
    return len(first) == 1 and not spec.steps[first[0]].gap_seconds and not spec.skew_seconds


def _groups_by_window(tl: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """The groups of :func:`_latest_of_groups` for a plain first move, without moving
    every start: over the customer's step-1 and step-2 events in path order, a step-2
    event right after a step-1 event is the move of that start (the group's latest) and
    of every start since the previous step-2 event (from its position ``lo`` on, -1
    when none), as far as their deadlines reach. A step-2 event at the same position as
    a start (one event in both steps) comes first: no start moves to its own event, so
    that start belongs to the next step-2 event's group.
    """
    c = spec.candidates(0)[0]
    kind = ibis.literal(1, _I64), ibis.literal(0, _I64)  # step 1, step 2
    parts = [
        _events(tl, spec.steps[i].touchpoints).select("customer_id", "pos", "us", kind=k)
        for i, k in zip((0, c), kind, strict=True)
    ]
    u = ibis.union(*parts, distinct=False)
    order = [u.pos, u.kind]
    w = ibis.window(group_by=u.customer_id, order_by=order)
    before = ibis.window(group_by=u.customer_id, order_by=order, rows=(None, -1))
    u = u.mutate(
        p_kind=u.kind.lag().over(w),
        p_pos=u.pos.lag().over(w),
        p_us=u.us.lag().over(w),
        lo=ibis.ifelse(u.kind == 0, u.pos, _null(_I64)).max().over(before),
    )
    g = u.filter((u.kind == 0) & (u.p_kind == 1))
    g = g.filter(_deadline_ok(spec, c, g.us, g.p_us, g.p_us))
    return g.select(
        customer_id=g.customer_id,
        a_pos=g.p_pos,
        t0=g.p_us,
        step=ibis.literal(c, _I64),
        pos=g.pos,
        us=g.us,
        sp=g.us - g.p_us,
        lo=ibis.coalesce(g.lo, ibis.literal(-1, _I64)),
    )


def _latest_of_groups(first_moves: ibis.Table) -> ibis.Table:
    """One attempt per group of starts that moved to the same event: the latest start
    (largest a_pos, hence t0), whose deadline is the latest. Its a_pos names the group."""
    m = first_moves
    g = m.group_by("customer_id", "step", "pos", "us").aggregate(
        a_pos=m.a_pos.max(), t0=m.t0.max(), lo_a_pos=m.a_pos.min(), lo_t0=m.t0.min()
    )
    return g.select(
        customer_id=g.customer_id,
        a_pos=g.a_pos,
        t0=g.t0,
        step=g.step,
        pos=g.pos,
        us=g.us,
        sp=g.us - g.t0,
        lo_a_pos=g.lo_a_pos,  # the group's earliest start
        lo_t0=g.lo_t0,
    )


def _from_groups(
    groups: ibis.Table,
    chains: list[ibis.Table],
    starts: ibis.Table,
    first_moves: ibis.Table | None,
    tl: ibis.Table,
    spec: FunnelSpec,
    extra: tuple[str, ...],
    cache: _Cache,
) -> Matched:
    """Units and steps from the chains of the groups' latest starts (see
    :func:`_groups_starts`); the same units as :func:`_from_moves` over every attempt.

    The starts of a group form an interval of the customer's starts (the first move is
    monotone), and groups follow each other in time. So a customer's unit lies in the
    group that gets furthest (F), the earliest such group (smallest latest start); in it,
    the earliest start whose deadline still covers every matched step: t0 >= max(us) - W
    (the largest time of the chain up to F, which is the time of step F without a skew).
    A customer without any first move keeps the earliest start (furthest 0).
    """
    cols = ["customer_id", "a_pos", "t0", "step", "pos", "us", "sp"]
    own = [c for c in groups.columns if c not in cols]  # the groups' lo / lo_a_pos, lo_t0
    nulls = {c: _null(_I64) for c in own}
    m = ibis.union(groups.select(*cols, *own), *[c.mutate(**nulls) for c in chains[1:]])
    g = m.group_by("customer_id").aggregate(k=(m.step * _SHIFT + (_SHIFT - 1 - m.a_pos)).max())
    best = g.select(b_customer=g.customer_id, b_a_pos=(_SHIFT - 1) - g.k % _SHIFT)
    j = m.join(best, [m.customer_id == best.b_customer, m.a_pos == best.b_a_pos])
    chain = cache(j.select("customer_id", "a_pos", "step", "pos", "us", "sp", *own))
    info = chain.group_by(i_customer=chain.customer_id).aggregate(
        gid=chain.a_pos.max(),
        furthest=chain.step.max(),
        mx=chain.us.max(),
        first=(chain.step * _SHIFT + chain.pos).min(),  # the group's first move
        first_us=chain.us.min(),  # its time (a plain first move has no skew)
        **{c: chain[c].max() for c in own},
    )
    # the earliest start of the group that reaches as far: from max(us) - W on
    reach = [] if math.isinf(spec.window_seconds) else [info.mx - _micros(spec.window_seconds)]
    if first_moves is None:
        # plain first move: the group is the starts after lo up to gid that make the move
        win = spec.steps[spec.candidates(0)[0]].window_seconds
        if win is not None:
            reach.append(info.first_us - _micros(win))
        if reach:
            info = info.mutate(reach=reach[0] if len(reach) == 1 else ibis.greatest(*reach))
        s = starts.select("customer_id", "a_pos", "t0")
        u = s.left_join(info, s.customer_id == info.i_customer)
        member = (u.a_pos >= u.lo) & (u.a_pos <= u.gid)
        if reach:
            member = member & (u.t0 >= u.reach)
        # customers without any group keep their earliest start (furthest 0)
        u = u.filter(u.i_customer.isnull() | member)
        u = u.group_by("customer_id").aggregate(
            a_pos=u.a_pos.min(),
            t0=u.t0.min(),
            furthest=u.furthest.max(),
            first=(u.first // _SHIFT).max(),
        )
        units = cache(u.mutate(furthest=u.furthest.fill_null(0)))
    else:
        # mostly the group's earliest start reaches as far; else find the earliest that does
        if reach:
            info = info.mutate(reach=reach[0])
            short = info.filter(info.lo_t0 < info.reach)
            f = first_moves
            r = f.join(
                short,
                [
                    f.customer_id == short.i_customer,
                    f.step == short.first // _SHIFT,
                    f.pos == short.first % _SHIFT,
                    f.t0 >= short.reach,
                ],
            )
            rec = r.group_by(r_customer=r.customer_id).aggregate(
                r_a_pos=r.a_pos.min(), r_t0=r.t0.min()
            )
            info = info.left_join(rec, info.i_customer == rec.r_customer)
            info = info.mutate(
                lo_a_pos=ibis.coalesce(info.r_a_pos, info.lo_a_pos),
                lo_t0=ibis.coalesce(info.r_t0, info.lo_t0),
            )
        moved_units = info.select(
            customer_id=info.i_customer,
            a_pos=info.lo_a_pos,
            t0=info.lo_t0,
            furthest=info.furthest,
            first=info.first // _SHIFT,
        )
        # customers whose starts all stay at step 1: their earliest start
        rest = starts.anti_join(best, starts.customer_id == best.b_customer)
        rest = rest.group_by("customer_id").aggregate(a_pos=rest.a_pos.min(), t0=rest.t0.min())
        rest = rest.mutate(furthest=ibis.literal(0, _I64), first=_null(_I64))
        units = cache(moved_units.union(rest, distinct=False))
    t = units.select(
        t_customer=units.customer_id, t_a_pos=units.a_pos, t_t0=units.t0, t_first=units.first
    )
    c = chain.join(t, chain.customer_id == t.t_customer)
    moved = c.select(
        customer_id=c.customer_id,
        a_pos=c.t_a_pos,
        step=c.step,
        pos=c.pos,
        sec=c.us / _US,
        # the first move's time from the unit's own start; later moves keep theirs
        sp=ibis.ifelse(c.step == c.t_first, c.us - c.t_t0, c.sp) / _US,
        ss=(c.us - c.t_t0) / _US,
    )
    start = units.select(
        customer_id=units.customer_id,
        a_pos=units.a_pos,
        step=ibis.literal(0, _I64),
        pos=units.a_pos,
        sec=units.t0 / _US,
        sp=_null(_F64),
        ss=((units.t0 - units.t0) / _US),
    )
    steps = start.union(moved, distinct=False)
    return Matched(_with_extra(units.drop("t0", "first"), tl, spec, extra), steps)


def _from_wide(att: ibis.Table, spec: FunnelSpec, cache: _Cache) -> Matched:
    """Units and steps from one row per attempt (customer_id, a_pos, furthest, pos_c,
    sec_c, sp_c, ss_c, x_*), as the exclusion and any-order paths make them."""
    if spec.unit == "customers" and not spec.first_attempt_suffices():
        w = ibis.window(group_by=att.customer_id, order_by=[ibis.desc(att.furthest), att.a_pos])
        ranked = att.mutate(_r=ibis.row_number().over(w))
        att = ranked.filter(ranked._r == 0).drop("_r")
    xs = [c for c in att.columns if c.startswith("x_")]
    if spec.mode == "any-order" and not spec.walks:  # plain any-order: levels, no times
        return Matched(att.select("customer_id", "a_pos", "furthest", *xs), None)
    att = cache(att)
    parts = [
        att.filter(att[f"pos_{c}"].notnull()).select(
            customer_id=att.customer_id,
            a_pos=att.a_pos,
            step=ibis.literal(c, _I64),
            pos=att[f"pos_{c}"],
            sec=att[f"sec_{c}"],
            sp=att[f"sp_{c}"],
            ss=att[f"ss_{c}"],
        )
        for c in range(spec.n)
    ]
    units = att.select("customer_id", "a_pos", "furthest", *xs)
    return Matched(units, ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0])


def _with_extra(
    units: ibis.Table, tl: ibis.Table, spec: FunnelSpec, extra: tuple[str, ...]
) -> ibis.Table:
    """``units`` with the ``extra`` timeline columns of their step-1 event as ``x_*``."""
    if not extra:
        return units
    xs = _events(tl, spec.steps[0].touchpoints, *extra)
    xs = xs.select(x_customer=xs.customer_id, x_a_pos=xs.pos, **{f"x_{e}": xs[e] for e in extra})
    j = units.join(xs, [units.customer_id == xs.x_customer, units.a_pos == xs.x_a_pos])
    return j.drop("x_customer", "x_a_pos")


def _null(t: dt.DataType) -> Any:
    return ibis.null().cast(t)


def _pivot(moves: list[ibis.Table], spec: FunnelSpec) -> ibis.Table:
    """One row per attempt from its moves (positions grow along the chain)."""
    m = ibis.union(*moves, distinct=False) if len(moves) > 1 else moves[0]
    aggs: dict[str, Any] = {"t0": m.t0.max(), "cur_step": m.step.max(), "cur_pos": m.pos.max()}
    for c in range(spec.n):
        here = m.step == c
        aggs[f"pos_{c}"] = ibis.ifelse(here, m.pos, _null(_I64)).max()
        aggs[f"us_{c}"] = ibis.ifelse(here, m.us, _null(_I64)).max()
        aggs[f"sp_{c}"] = ibis.ifelse(here, m.sp, _null(_I64)).max()
    return m.group_by("customer_id", "a_pos").aggregate(**aggs)


def _deadline_ok(spec: FunnelSpec, c: int, nus: Any, cur_us: Any, t0: Any) -> Any:
    """The step-c event at ``nus`` lies within the window and the step's own window."""
    ok = (
        nus.notnull()
        if math.isinf(spec.window_seconds)
        else nus <= t0 + _micros(spec.window_seconds)
    )
    win = spec.steps[c].window_seconds
    if win is not None:
        ok = ok & (nus - cur_us <= _micros(win))
    return ok


def _move(p: ibis.Table, step: Any, pos: Any, us: Any) -> ibis.Table:
    return p.select(
        customer_id=p.customer_id,
        a_pos=p.a_pos,
        t0=p.t0,
        step=step.cast(_I64) if not isinstance(step, int) else ibis.literal(step, _I64),
        pos=pos,
        us=us,
        sp=us - p.us,
    )


def _ordered_window_pass(
    waiting: ibis.Table, tl: ibis.Table, spec: FunnelSpec, k: int
) -> ibis.Table:
    """Moves of the attempts waiting at step k: the earliest valid next step, if any.

    A step-c event qualifies when it comes after the attempt's position; with a min gap
    g, when its time is >= t + g; with a skew S (and no gap), when its time is >= t - S
    (both a range over time).
    """
    cand = spec.candidates(k)
    parts = [
        waiting.select(
            customer_id=waiting.customer_id,
            a_pos=waiting.a_pos,
            t0=waiting.t0,
            cus=waiting.us,
            key=waiting.pos,
            kus=waiting.us,
            kind=ibis.literal(1, _I64),
            c=ibis.literal(-1, _I64),
        )
    ]
    who = waiting.select(w_customer=waiting.customer_id).distinct()
    for c in cand:
        ev = _events(tl, spec.steps[c].touchpoints)
        if k:  # later steps: only the customers still waiting (attempts die off step by step)
            ev = ev.semi_join(who, ev.customer_id == who.w_customer)
        parts.append(
            ev.select(
                customer_id=ev.customer_id,
                a_pos=_null(_I64),
                t0=_null(_I64),
                cus=_null(_I64),
                key=ev.pos,
                kus=ev.us,
                kind=ibis.literal(0, _I64),
                c=ibis.literal(c, _I64),
            )
        )
    u = ibis.union(*parts, distinct=False)
    after = ibis.window(group_by=u.customer_id, order_by=[u.key, u.kind], rows=(0, None))
    found: dict[str, Any] = {}
    for c in cand:
        is_c = (u.kind == 0) & (u.c == c)
        gap = spec.steps[c].gap_seconds
        w = after
        if gap > 0:  # at least `gap` seconds later (which is also later in position)
            w = ibis.window(group_by=u.customer_id, order_by=u.kus, range=(_micros(gap), None))
        elif spec.skew_seconds:  # from `skew` seconds before on (steps share no touchpoint)
            skew = _micros(spec.skew_seconds)
            w = ibis.window(group_by=u.customer_id, order_by=u.kus, range=(-skew, None))
        found[f"nx_{c}"] = ibis.ifelse(is_c, u.key, _null(_I64)).min().over(w)
        found[f"ns_{c}"] = ibis.ifelse(is_c, u.kus, _null(_I64)).min().over(w)
    p = u.mutate(**found)
    p = p.filter(p.kind == 1)
    p = p.mutate(us=p.cus)
    valid = {
        c: ibis.ifelse(
            p[f"nx_{c}"].notnull() & _deadline_ok(spec, c, p[f"ns_{c}"], p.us, p.t0),
            p[f"nx_{c}"],
            _null(_I64),
        )
        for c in cand
    }
    p = p.mutate(**{f"v_{c}": v for c, v in valid.items()})
    best = p[f"v_{cand[0]}"] if len(cand) == 1 else ibis.least(*[p[f"v_{c}"] for c in cand])
    p = p.mutate(npos=best)
    p = p.filter(p.npos.notnull())
    if len(cand) > 1:
        nstep = ibis.cases(*[(p[f"v_{c}"] == p.npos, c) for c in cand], else_=_null(_I64))
        nus = ibis.cases(*[(p[f"v_{c}"] == p.npos, p[f"ns_{c}"]) for c in cand], else_=_null(_I64))
        return _move(p, nstep, p.npos, nus)
    return _move(p, cand[0], p.npos, p[f"ns_{cand[0]}"])


def _ordered_join_pass(waiting: ibis.Table, tl: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """Same moves as :func:`_ordered_window_pass`, by a join and a minimum per attempt.

    The deadlines sit in the join condition, so only events within an attempt's reach
    pair with it. Within a customer ``us`` never decreases with ``pos``, so the minimum
    ``us`` of the qualifying events (after a position, or from a time on) is the time of
    the minimum ``pos``.
    """
    cand = spec.candidates(k)
    found = None
    for c in cand:
        ev = _events(tl, spec.steps[c].touchpoints)
        ev = ev.select(e_customer=ev.customer_id, e_pos=ev.pos, e_us=ev.us)
        gap = spec.steps[c].gap_seconds
        if gap > 0:
            later = ev.e_us >= waiting.us + _micros(gap)
        elif spec.skew_seconds:  # up to `skew` before (the steps share no touchpoint)
            later = ev.e_us >= waiting.us - _micros(spec.skew_seconds)
        else:
            later = ev.e_pos > waiting.pos
        conds = [waiting.customer_id == ev.e_customer, later]
        if not math.isinf(spec.window_seconds):
            conds.append(ev.e_us <= waiting.t0 + _micros(spec.window_seconds))
        if spec.steps[c].window_seconds is not None:
            conds.append(ev.e_us - waiting.us <= _micros(spec.steps[c].window_seconds))
        j = waiting.join(ev, conds)
        g = j.group_by("customer_id", "a_pos", "t0", "us").aggregate(
            nx=j.e_pos.min(), nus=j.e_us.min()
        )
        g = _move(g, c, g.nx, g.nus)
        found = g if found is None else found.union(g, distinct=False)
    if len(cand) == 1:
        return found
    # the earliest valid candidate (ties: the lower step)
    w = ibis.window(group_by=[found.customer_id, found.a_pos], order_by=[found.pos, found.step])
    ranked = found.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).drop("_r")


def _next_of(ev: ibis.Table, spec: FunnelSpec, c: int) -> dict[str, Any]:
    """For an event matched as step c: which candidate step its next event is (nc), and when.

    A small integer instead of the next touchpoint keeps strings out of cached tables.
    """
    cand = spec.candidates(c)
    if not cand:
        return {"nc": _null(_I64), "nus": _null(_I64)}
    cases = [(ev.next_touchpoint.isin(list(spec.steps[d].touchpoints)), d) for d in cand]
    return {"nc": ibis.cases(*cases, else_=_null(_I64)), "nus": ev.next_us}


def _strict_pass(waiting: ibis.Table, tl: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """Moves of the attempts waiting at step k: their very next event, if it is a valid step."""
    cand = spec.candidates(k)
    cases = []
    for c in cand:
        step = spec.steps[c]
        ok = (waiting.nc == c) & _deadline_ok(spec, c, waiting.nus, waiting.us, waiting.t0)
        if step.gap_seconds > 0:
            ok = ok & (waiting.nus - waiting.us >= _micros(step.gap_seconds))
        cases.append((ok, ibis.literal(c, _I64)))
    w = waiting.mutate(nstep=ibis.cases(*cases, else_=_null(_I64)))
    w = w.filter(w.nstep.notnull())
    if cand == [spec.n - 1]:  # the last step: no pass reads the next event
        m = _move(w, w.nstep, w.pos + 1, w.nus)
        return m.mutate(nc=_null(_I64), nus=_null(_I64))
    # fetch the new event's own next event (the next pass needs it); one join per step
    parts = []
    for c in cand:
        nxt = _events(tl, spec.steps[c].touchpoints, "next_touchpoint", "next_us")
        nxt = nxt.select(
            n_customer=nxt.customer_id, n_pos=nxt.pos, **_next_of(nxt, spec, c)
        ).rename(n_nc="nc", n_nus="nus")
        wc = w.filter(w.nstep == c) if len(cand) > 1 else w
        j = wc.join(nxt, [wc.customer_id == nxt.n_customer, nxt.n_pos == wc.pos + 1])
        parts.append(
            j.select(
                customer_id=j.customer_id,
                a_pos=j.a_pos,
                t0=j.t0,
                step=j.nstep,
                pos=j.n_pos,
                us=j.nus,
                sp=j.nus - j.us,
                nc=j.n_nc,
                nus=j.n_nus,
            )
        )
    return ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]


def _coalesce(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else ibis.coalesce(*values)


def _exclude(att: ibis.Table, tl: ibis.Table, spec: FunnelSpec) -> ibis.Table:
    """Truncate attempts at step ``after`` when an excluded touchpoint lies in between."""
    parts = []
    n = spec.n
    for xi, x in enumerate(spec.exclusions):
        i, jx = x.after - 1, x.before - 1
        a = att.filter(att.cur_step > i)
        start = _coalesce([a[f"pos_{c}"] for c in range(i, -1, -1)])
        end_at_j = _coalesce([a[f"pos_{c}"] for c in range(jx, n)])
        end = ibis.ifelse(a.cur_step <= jx, a.cur_pos, end_at_j)
        parts.append(
            a.select(
                customer_id=a.customer_id,
                a_pos=a.a_pos,
                key=start,
                end=end,
                kind=ibis.literal(1, _I64),
                x=ibis.literal(xi, _I64),
            )
        )
        ev = _events(tl, x.touchpoints)
        parts.append(
            ev.select(
                customer_id=ev.customer_id,
                a_pos=_null(_I64),
                key=ev.pos,
                end=_null(_I64),
                kind=ibis.literal(0, _I64),
                x=ibis.literal(xi, _I64),
            )
        )
    u = ibis.union(*parts, distinct=False)
    w = ibis.window(group_by=[u.customer_id, u.x], order_by=[u.key, u.kind], rows=(0, None))
    u = u.mutate(nx=ibis.ifelse(u.kind == 0, u.key, _null(_I64)).min().over(w))
    hits = u.filter((u.kind == 1) & u.nx.notnull() & (u.nx < u.end))
    after = ibis.cases(
        *[(hits.x == xi, x.after - 1) for xi, x in enumerate(spec.exclusions)], else_=_null(_I64)
    )
    cut = hits.group_by(t_customer=hits.customer_id, t_a_pos=hits.a_pos).aggregate(cut=after.min())
    j = att.left_join(cut, [att.customer_id == cut.t_customer, att.a_pos == cut.t_a_pos])
    cols = {name: j[name] for name in att.columns}
    cols["furthest"] = ibis.ifelse(j.cut.notnull() & (j.cut < j.cur_step), j.cut, j.cur_step)
    return j.select(**cols)


def _finish(att: ibis.Table, spec: FunnelSpec, extra: tuple[str, ...]) -> ibis.Table:
    cols: dict[str, Any] = {
        "customer_id": att.customer_id,
        "a_pos": att.a_pos,
        "furthest": att.furthest,
        "t0": att.t0 / _US,
        **{f"x_{e}": att[f"x_{e}"] for e in extra},
    }
    for c in range(spec.n):
        reached = att.furthest >= c
        cols[f"pos_{c}"] = ibis.ifelse(reached, att[f"pos_{c}"], _null(_I64))
        cols[f"sec_{c}"] = ibis.ifelse(reached, att[f"us_{c}"] / _US, _null(_F64))
        cols[f"sp_{c}"] = ibis.ifelse(reached, att[f"sp_{c}"] / _US, _null(_F64))
        cols[f"ss_{c}"] = ibis.ifelse(reached, (att[f"us_{c}"] - att.t0) / _US, _null(_F64))
    return att.select(**cols)


def _any_order(
    tl: ibis.Table,
    spec: FunnelSpec,
    extra: tuple[str, ...],
    cache: _Cache,
    strategy: str | None = None,
) -> ibis.Table:
    """Per span: its level (one window, a column per step); with options, the walk."""
    if spec.walks:
        from klantreis.analytics._funnel_anyorder import walk

        return walk(tl, spec, extra, cache, strategy)
    ev = _events(tl, spec.touchpoints(), *[e for e in extra if e not in ("touchpoint",)])
    w = ibis.window(group_by=ev.customer_id, order_by=ev.pos, rows=(0, None))
    firsts = {
        f"f_{c}": ibis.ifelse(ev.touchpoint.isin(list(s.touchpoints)), ev.us, _null(_I64))
        .min()
        .over(w)
        for c, s in enumerate(spec.steps)
    }
    ev = ev.mutate(**firsts)
    inf = math.isinf(spec.window_seconds)
    wus = 0 if inf else _micros(spec.window_seconds)
    level = sum(
        (
            ibis.ifelse(ev[f"f_{c}"].notnull() if inf else ev[f"f_{c}"] <= ev.us + wus, 1, 0)
            for c in range(spec.n)
        ),
        ibis.literal(0, _I64),
    )
    cols: dict[str, Any] = {
        "customer_id": ev.customer_id,
        "a_pos": ev.pos,
        "furthest": level - 1,
        "t0": ev.us / _US,
        **{f"x_{e}": ev[e] for e in extra},
    }
    for c in range(spec.n):
        for prefix, t in (("pos", _I64), ("sec", _F64), ("sp", _F64), ("ss", _F64)):
            cols[f"{prefix}_{c}"] = _null(t)
    return ev.select(**cols)
