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
            starts = cache(starts)
            moves = {-1: starts}  # pass k -> the moves it made (-1: the starts)
            if strict:
                step_pass = _strict_pass
            else:
                chosen = strategy or choose_strategy(spec)
                step_pass = _ordered_join_pass if chosen == "join" else _ordered_window_pass
            for k in range(spec.n - 1):
                sources = [
                    m for p, m in moves.items() if k in ([0] if p < 0 else spec.candidates(p))
                ]
                waiting = ibis.union(*[m.filter(m.step == k) for m in sources], distinct=False)
                moves[k] = cache(step_pass(waiting, tl, spec, k))
            cols = ["customer_id", "a_pos", "t0", "step", "pos", "us", "sp"]
            chains = [m.select(*cols) for m in moves.values()]
            if spec.exclusions:  # they need every attempt's whole chain
                att = _exclude(cache(_pivot(chains, spec)), tl, spec)
                out = _with_extra(_finish(att, spec, ()), tl, spec, extra)
                matched = _from_wide(out, spec, cache)
            else:
                matched = _from_moves(chains, tl, spec, extra, cache)
        yield matched
    finally:
        cache.release()


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
