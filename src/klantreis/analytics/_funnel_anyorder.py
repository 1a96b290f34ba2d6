"""The any-order walk: any-order funnels with step windows, min gaps, optional steps, exclusions.

Definition (docs/funnel.md, "Any-order with options"): every event of a funnel step starts
a *span* (time t0, window W from it, inclusive). From the last reached event (position
p, time t, set R of the steps reached) the next reached step is the earliest event after
p whose step c is not in R and that is valid for c: within W of t0, within c's own step
window of t, at least c's min gap after t. The span's level is |R|, or n once R holds
every required step. An excluded event strictly between the events that reached levels
a and b (or the last reached event, where the span has no event at that level) cuts the
span to level a. Without options the walk gives the plain any-order levels (a test
checks), which one window computes faster (:func:`._funnel_engine._any_order`).

Engine, one pass per level (linear in steps): the spans that reached level k carry the
steps they reached as bits of an int64 (``mask``, hence at most 62 steps) and move to the
earliest event after their position whose bit is not set and that meets its step's
bounds. Two strategies, one definition (tests prove them equal):

- ``join``: join the spans to the customer's funnel events within the bounds (the step's
  window and gap are columns of the event), keep the minimum of ``pos * 64 + step`` per
  span. A customer with f funnel events makes about f * (f - 1) / 2 pairs per pass (the
  hash join on the customer pairs them before the bounds filter, window or not);
- ``window``: one window over the funnel events gives, per event and step, the first
  event of that step after it (a span always stands at a funnel event); each pass is
  then an equality join on (customer, position) and the earliest valid step whose bit
  is not set. No row multiplies, but the window costs about as much as the passes.

:func:`_choose_strategy` counts the join's pairs first (one small aggregate) and joins
unless they exceed 4 per funnel event. For unit customers without exclusions only each
customer's representative span (highest level, then earliest) is pivoted; otherwise
every span is, and the ordered engine's exclusion pass cuts them.
"""

from __future__ import annotations

import math
from typing import Any

import ibis

from klantreis.analytics._funnel_engine import (
    _I64,
    _Cache,
    _deadline_ok,
    _events,
    _exclude,
    _finish,
    _micros,
    _null,
    _pivot,
)
from klantreis.analytics._funnel_spec import FunnelSpec

__all__ = ["walk", "walk_moves"]

_KEY = 64  # packs (position, step) into one integer: pos * 64 + step (steps < 62)
_PACK = 1 << 32  # packs (level, position) into one integer
_MOVE = ("customer_id", "a_pos", "t0", "step", "pos", "us", "sp")


def _bit(c: Any) -> Any:
    return ibis.literal(1, _I64) << c


def walk_moves(
    tl: ibis.Table, spec: FunnelSpec, cache: _Cache, strategy: str | None = None
) -> list[ibis.Table]:
    """The walk's moves: customer_id, a_pos, t0, step (the level reached, 0-based), pos,
    us, sp (µs from the previous level's event), one table per pass.

    A span that holds every required step before it reached n different steps gets a
    marker move to level n - 1 without an event (pos, us and sp null), so a span's level
    is the highest step of its moves. ``strategy`` forces "join" or "window" (tests prove
    both equal); by default :func:`_choose_strategy` picks by the data.
    """
    n = spec.n
    fe = _funnel_events(tl, spec, cache)
    # every funnel event starts a span at level 0 (its own step reached)
    starts = _level_move(
        fe.mutate(customer_id=fe.e_customer, a_pos=fe.e_pos, t0=fe.e_us, us=_null(_I64), mask=0),
        -1,
        fe.e_c,
        fe.e_pos,
        fe.e_us,
    )
    chosen = strategy or _choose_strategy(fe)
    moves = [starts]
    nxt = _next_events(fe, spec, cache) if chosen == "window" and n > 1 else None
    for k in range(n - 1):
        if nxt is None:
            moves.append(cache(_join_pass(moves[-1], fe, spec, k)))
        else:
            moves.append(cache(_window_pass(moves[-1], nxt, spec, k)))
    chains = [m.select(*_MOVE) for m in moves]
    required = sum(1 << c for c, s in enumerate(spec.steps) if not s.optional)
    if required != (1 << n) - 1:
        # the marker comes from the move that reached the last required step
        for m in moves:
            done = m.filter(((m.mask & required) == required) & (m.step < n - 1))
            if m is not starts:
                done = done.filter((_bit(done.c) & required) != 0)
            chains.append(
                done.select(
                    customer_id=done.customer_id,
                    a_pos=done.a_pos,
                    t0=done.t0,
                    step=ibis.literal(n - 1, _I64),
                    pos=_null(_I64),
                    us=_null(_I64),
                    sp=_null(_I64),
                )
            )
    return chains


def walk(
    tl: ibis.Table,
    spec: FunnelSpec,
    extra: tuple[str, ...],
    cache: _Cache,
    strategy: str | None = None,
) -> ibis.Table:
    """Per span the ordered engine's columns: customer_id, a_pos, t0, furthest, pos_c,
    sec_c, sp_c, ss_c (c: the level, 0-based), x_* (of the span's first event).

    For unit customers without exclusions only each customer's representative span.
    """
    n = spec.n
    chains = walk_moves(tl, spec, cache, strategy)
    if spec.unit == "customers" and not spec.exclusions:
        # the level of a span is its highest move: pivot only each customer's
        # representative (3 to 4 times fewer rows than every span)
        chains = [_representatives(chains, cache)]
    att = _pivot(chains, spec)
    # cur_step: the level with optional steps counted; levels with an event: `reached`
    reached = sum((att[f"pos_{c}"].notnull().cast(_I64) for c in range(n)), ibis.literal(-1))
    if spec.exclusions:
        att = att.mutate(level=att.cur_step, cur_step=reached)
        att = _exclude(cache(att), tl, spec)
        # a cut lies below the levels with an event; no cut keeps the level
        att = att.mutate(furthest=ibis.ifelse(att.furthest < att.cur_step, att.furthest, att.level))
    else:
        att = att.mutate(furthest=att.cur_step)
    if extra:
        xs = _events(tl, _step_touchpoints(spec), *extra)
        xs = xs.select(
            x_customer=xs.customer_id, x_a_pos=xs.pos, **{f"x_{e}": xs[e] for e in extra}
        )
        att = att.join(xs, [att.customer_id == xs.x_customer, att.a_pos == xs.x_a_pos])
    return _finish(att, spec, extra)


def _representatives(chains: list[ibis.Table], cache: _Cache) -> ibis.Table:
    """The moves of each customer's earliest span that reaches their highest level.

    One integer maximum per customer: level * 2**32 + 2**32 - 1 - a_pos (positions stay
    below 2**32).
    """
    m = ibis.union(*chains, distinct=False)
    g = m.group_by("customer_id").aggregate(k=(m.step * _PACK + (_PACK - 1 - m.a_pos)).max())
    u = cache(g.select(r_customer=g.customer_id, r_a_pos=(_PACK - 1) - g.k % _PACK))
    j = m.join(u, [m.customer_id == u.r_customer, m.a_pos == u.r_a_pos])
    return j.select(*_MOVE)


def _choose_strategy(fe: ibis.Table) -> str:
    """``join`` unless it would pair more than 4 events per funnel event (a customer
    with f funnel events makes about f * (f - 1) / 2 pairs per pass), else ``window``.

    One small aggregate decides by the data: both strategies give the same answer.
    """
    f = fe.group_by("e_customer").aggregate(f=fe.count())
    counts = f.aggregate(pairs=(f.f * (f.f - 1) // 2).sum(), rows=f.f.sum()).to_pyarrow()
    pairs, rows = counts["pairs"][0].as_py() or 0, counts["rows"][0].as_py() or 0
    return "join" if pairs <= 4 * rows else "window"


def _step_touchpoints(spec: FunnelSpec) -> list[str]:
    return sorted({tp for s in spec.steps for tp in s.touchpoints})


def _funnel_events(tl: ibis.Table, spec: FunnelSpec, cache: _Cache) -> ibis.Table:
    """Every event of a funnel step, with its step, bit and the step's bounds (µs)."""
    ev = _events(tl, _step_touchpoints(spec))

    def per_step(values: list[Any]) -> Any:
        cases = [
            (ev.touchpoint.isin(list(s.touchpoints)), v)
            for s, v in zip(spec.steps, values, strict=True)
        ]
        return ibis.cases(*cases, else_=_null(_I64))

    n = spec.n
    big = 1 << 62  # no step window: any later time (t + 2**62 µs stays within int64)
    return cache(
        ev.select(
            e_customer=ev.customer_id,
            e_pos=ev.pos,
            e_us=ev.us,
            e_c=per_step(list(range(n))),
            e_bit=per_step([1 << c for c in range(n)]),
            e_gap=per_step([_micros(s.gap_seconds) for s in spec.steps]),
            e_win=per_step(
                [big if s.window_seconds is None else _micros(s.window_seconds) for s in spec.steps]
            ),
        )
    )


def _join_pass(waiting: ibis.Table, fe: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """The spans at level k moved to their next reached event, by a join."""
    w = waiting
    conds = [
        w.customer_id == fe.e_customer,
        fe.e_pos > w.pos,
        (w.mask & fe.e_bit) == 0,
    ]
    if not math.isinf(spec.window_seconds):
        conds.append(fe.e_us <= w.t0 + _micros(spec.window_seconds))
    if any(s.gap_seconds for s in spec.steps):
        conds.append(fe.e_us >= w.us + fe.e_gap)
    if any(s.window_seconds is not None for s in spec.steps):
        conds.append(fe.e_us <= w.us + fe.e_win)
    j = w.join(fe, conds)
    # the earliest event: minimum position (its step rides along in the low bits); within
    # a customer time never decreases with position, so the minimum time is its time
    g = j.group_by("customer_id", "a_pos").aggregate(
        t0=j.t0.max(),
        us=j.us.max(),
        mask=j.mask.max(),
        key=(j.e_pos * _KEY + j.e_c).min(),
        nus=j.e_us.min(),
    )
    c = g.key % _KEY
    return _level_move(g, k, c, (g.key - c) // _KEY, g.nus)


def _next_events(fe: ibis.Table, spec: FunnelSpec, cache: _Cache) -> ibis.Table:
    """Per funnel event, per step c: the first event of step c after it (nx_c, ns_c).

    With a min gap g, the first at time >= its time + g. A span always stands at a funnel
    event, so one window over the funnel events serves every pass.
    """
    after = ibis.window(group_by=fe.e_customer, order_by=fe.e_pos, rows=(1, None))
    cols: dict[str, Any] = {}
    for c, s in enumerate(spec.steps):
        w = after
        if s.gap_seconds:  # at least `gap` later (which is also later in position)
            gap = _micros(s.gap_seconds)
            w = ibis.window(group_by=fe.e_customer, order_by=fe.e_us, range=(gap, None))
        is_c = fe.e_c == c
        cols[f"nx_{c}"] = ibis.ifelse(is_c, fe.e_pos, _null(_I64)).min().over(w)
        cols[f"ns_{c}"] = ibis.ifelse(is_c, fe.e_us, _null(_I64)).min().over(w)
    return cache(fe.select(n_customer=fe.e_customer, n_pos=fe.e_pos, **cols))


def _window_pass(waiting: ibis.Table, nxt: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """The spans at level k moved to their next reached event: one equality join to the
    first event of every step after their event, the earliest valid one not reached."""
    j = waiting.join(nxt, [waiting.customer_id == nxt.n_customer, waiting.pos == nxt.n_pos])
    valid = {}
    for c in range(spec.n):
        ok = j[f"nx_{c}"].notnull() & ((j.mask & (1 << c)) == 0)
        ok = ok & _deadline_ok(spec, c, j[f"ns_{c}"], j.us, j.t0)
        valid[f"v_{c}"] = ibis.ifelse(ok, j[f"nx_{c}"], _null(_I64))
    p = j.mutate(**valid)
    v = [p[f"v_{c}"] for c in range(spec.n)]
    p = p.mutate(npos=v[0] if spec.n == 1 else ibis.least(*v))
    p = p.filter(p.npos.notnull())
    mine = [(p[f"v_{c}"] == p.npos, c) for c in range(spec.n)]
    nstep = ibis.cases(*mine, else_=_null(_I64))
    nus = ibis.cases(*[(m, p[f"ns_{c}"]) for m, c in mine], else_=_null(_I64))
    return _level_move(p, k, nstep, p.npos, nus)


def _level_move(p: ibis.Table, k: int, c: Any, pos: Any, us: Any) -> ibis.Table:
    """The spans of ``p`` (customer_id, a_pos, t0, us, mask) moved to level k + 1 at the
    step-c event at ``pos``, ``us``."""
    return p.select(
        customer_id=p.customer_id,
        a_pos=p.a_pos,
        t0=p.t0,
        step=ibis.literal(k + 1, _I64),
        pos=pos,
        us=us,
        sp=us - p.us,
        c=c,
        mask=p.mask + _bit(c),
    )
