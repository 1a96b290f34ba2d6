"""The funnel matcher: Ibis expressions, one pass per step (cost linear in the steps).

Events are numbered per customer once, by (timestamp, event_id) (``pos``). An attempt
starts at every step-1 event; its state is the last matched step, its position and
time. Each pass k moves the attempts that stand at step k to the earliest valid
occurrence of a step that may follow (k+1, or a later one over optional steps):

* ordered: the next occurrence of step c after ``pos`` (or at least ``gap`` seconds
  later) is found with one window over the union of the waiting attempts and the step's
  events, per customer, ordered by position (an as-of lookup that every SQL backend can
  run), so no self-join multiplies rows;
* strict: the next event of the customer (``pos + 1``) must be the step;
* any-order: per event, the first time of every step at or after it (one window with a
  column per step); the level of the span starting there is the number of steps within W.

Intermediate attempt tables are cached on the backend (temporary tables), so each pass
reads the previous one once. Times are compared in whole seconds since the epoch.
"""

from __future__ import annotations

import contextlib
import math
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt

if TYPE_CHECKING:
    from collections.abc import Iterator

from klantreis.analytics._funnel_spec import FunnelSpec
from klantreis.analytics._time import epoch_seconds

__all__ = ["attempts", "positioned"]

_I64 = dt.int64
_F64 = dt.float64


def positioned(
    events: ibis.Table, touchpoints: set[str] | None, extra: tuple[str, ...] = ()
) -> ibis.Table:
    """Events (optionally only ``touchpoints``) as customer_id, touchpoint, sec, pos, x_*."""
    ev = events
    if touchpoints is not None:
        ev = ev.filter(ev.touchpoint.isin(sorted(touchpoints)))
    order = [ev.timestamp, ev.event_id]
    return ev.select(
        customer_id=ev.customer_id.cast(dt.String(nullable=True)),
        touchpoint=ev.touchpoint,
        sec=epoch_seconds(ev.timestamp).cast(_F64),
        pos=ibis.row_number().over(group_by=ev.customer_id, order_by=order),
        **{f"x_{e}": ev[e] for e in extra},
    )


class _Cache:
    """Temporary backend tables made during one analysis, dropped at the end."""

    def __init__(self) -> None:
        self.tables: list[Any] = []

    def __call__(self, expr: ibis.Table) -> ibis.Table:
        cached = expr.cache()
        self.tables.append(cached)
        return cached

    def release(self) -> None:
        for table in reversed(self.tables):
            # a temp table that cannot be dropped disappears with the session anyway
            with contextlib.suppress(Exception):
                table.release()
        self.tables.clear()


@contextmanager
def attempts(
    events: ibis.Table,
    spec: FunnelSpec,
    *,
    full: bool = False,
    extra: tuple[str, ...] = (),
    base_out: bool = False,
    strategy: str | None = None,
) -> Iterator[Any]:
    """Per attempt: customer_id, a_pos, t0, furthest (0-based), pos_c, sec_c, sp_c, ss_c, x_*.

    ``full`` numbers all events of a customer (needed by strict mode and drop-off);
    otherwise only the funnel's touchpoints are numbered. ``extra`` event columns of the
    step-1 event come along as ``x_<name>``. ``base_out`` yields ``(attempts, numbered
    events)`` instead. ``strategy`` forces the ordered pass ("window" or "join"; tests
    prove both equal); by default the join pass runs when one attempt per customer
    suffices (no window, plain ordered steps), where it cannot multiply rows.
    """
    cache = _Cache()
    try:
        needed = None if (full or spec.mode == "strict") else spec.touchpoints()
        base = cache(positioned(events, needed, extra))
        if spec.mode == "any-order":
            out = _any_order(base, spec, extra)
        else:
            first = base.filter(base.touchpoint.isin(list(spec.steps[0].touchpoints)))
            one = spec.first_attempt_suffices()  # then one attempt per customer is enough
            if one:
                w = ibis.window(group_by=first.customer_id, order_by=first.pos)
                first = first.mutate(_r=ibis.row_number().over(w))
                first = first.filter(first._r == 0).drop("_r")
            starts = cache(
                first.select(
                    customer_id=first.customer_id,
                    a_pos=first.pos,
                    t0=first.sec,
                    step=ibis.literal(0, _I64),
                    pos=first.pos,
                    sec=first.sec,
                    sp=_null(_F64),
                )
            )
            moves = {-1: starts}  # pass k -> the moves it made (-1: the starts)
            step_pass = _strict_pass if spec.mode == "strict" else _ordered_pass
            if spec.mode == "ordered" and (strategy == "join" or (strategy is None and one)):
                step_pass = _ordered_join_pass
            for k in range(spec.n - 1):
                sources = [
                    m for p, m in moves.items() if k in ([0] if p < 0 else spec.candidates(p))
                ]
                waiting = ibis.union(*[m.filter(m.step == k) for m in sources], distinct=False)
                moves[k] = cache(step_pass(waiting, base, spec, k))
            att = _pivot(list(moves.values()), spec)
            if extra:
                xs = first.select(
                    "customer_id", a_pos=first.pos, **{f"x_{e}": first[f"x_{e}"] for e in extra}
                )
                xs = xs.rename(x_customer="customer_id", x_a_pos="a_pos")
                j = att.join(xs, [att.customer_id == xs.x_customer, att.a_pos == xs.x_a_pos])
                att = j.drop("x_customer", "x_a_pos")
            if spec.exclusions:
                att = _exclude(cache(att), base, spec)
            else:
                att = att.mutate(furthest=att.cur_step)
            out = _finish(att, spec, extra)
        yield (out, base) if base_out else out
    finally:
        cache.release()


def _null(t: dt.DataType) -> Any:
    return ibis.null().cast(t)


def _pivot(moves: list[ibis.Table], spec: FunnelSpec) -> ibis.Table:
    """One row per attempt from its moves (positions grow along the chain)."""
    m = ibis.union(*moves, distinct=False) if len(moves) > 1 else moves[0]
    aggs: dict[str, Any] = {"t0": m.t0.max(), "cur_step": m.step.max(), "cur_pos": m.pos.max()}
    for c in range(spec.n):
        here = m.step == c
        aggs[f"pos_{c}"] = ibis.ifelse(here, m.pos, _null(_I64)).max()
        aggs[f"sec_{c}"] = ibis.ifelse(here, m.sec, _null(_F64)).max()
        aggs[f"sp_{c}"] = ibis.ifelse(here, m.sp, _null(_F64)).max()
    return m.group_by("customer_id", "a_pos").aggregate(**aggs)


def _deadline_ok(spec: FunnelSpec, c: int, nsec: Any, cur_sec: Any, t0: Any) -> Any:
    ok = nsec.notnull() if math.isinf(spec.window_seconds) else nsec <= t0 + spec.window_seconds
    win = spec.steps[c].window_seconds
    if win is not None:
        ok = ok & (nsec - cur_sec <= win)
    return ok


def _ordered_pass(waiting: ibis.Table, base: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """Moves of the attempts waiting at step k: the earliest valid next step, if any."""
    cand = spec.candidates(k)
    parts = [
        waiting.select(
            customer_id=waiting.customer_id,
            a_pos=waiting.a_pos,
            t0=waiting.t0,
            key=waiting.pos,
            ksec=waiting.sec,
            kind=ibis.literal(1, _I64),
            c=ibis.literal(-1, _I64),
        )
    ]
    who = waiting.select(w_customer=waiting.customer_id).distinct()
    for c in cand:
        ev = base.filter(base.touchpoint.isin(list(spec.steps[c].touchpoints)))
        if k:  # later steps: only the customers still waiting (attempts die off step by step)
            ev = ev.semi_join(who, ev.customer_id == who.w_customer)
        parts.append(
            ev.select(
                customer_id=ev.customer_id,
                a_pos=_null(_I64),
                t0=_null(_F64),
                key=ev.pos,
                ksec=ev.sec,
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
            w = ibis.window(group_by=u.customer_id, order_by=u.ksec, range=(gap, None))
        found[f"nx_{c}"] = ibis.ifelse(is_c, u.key, _null(_I64)).min().over(w)
        found[f"ns_{c}"] = ibis.ifelse(is_c, u.ksec, _null(_F64)).min().over(w)
    p = u.mutate(**found)
    p = p.filter(p.kind == 1)
    valid = {
        c: ibis.ifelse(
            p[f"nx_{c}"].notnull() & _deadline_ok(spec, c, p[f"ns_{c}"], p.ksec, p.t0),
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
        nsec = ibis.cases(*[(p[f"v_{c}"] == p.npos, p[f"ns_{c}"]) for c in cand], else_=_null(_F64))
    else:
        nstep, nsec = ibis.literal(cand[0], _I64), p[f"ns_{cand[0]}"]
    return p.select(
        customer_id=p.customer_id,
        a_pos=p.a_pos,
        t0=p.t0,
        step=nstep.cast(_I64),
        pos=p.npos,
        sec=nsec,
        sp=nsec - p.ksec,
    )


def _ordered_join_pass(
    waiting: ibis.Table, base: ibis.Table, spec: FunnelSpec, k: int
) -> ibis.Table:
    """Same moves as :func:`_ordered_pass`, by a join and a minimum per attempt.

    Cheaper when few attempts wait per customer; rows multiply by the attempts waiting
    per customer otherwise. Within a customer ``sec`` never decreases with ``pos``, so
    the minimum ``sec`` after a position is the time of the minimum ``pos``.
    """
    cand = spec.candidates(k)
    found = None
    for c in cand:
        ev = base.filter(base.touchpoint.isin(list(spec.steps[c].touchpoints)))
        ev = ev.select(e_customer=ev.customer_id, e_pos=ev.pos, e_sec=ev.sec)
        gap = spec.steps[c].gap_seconds
        later = ev.e_sec >= waiting.sec + gap if gap > 0 else ev.e_pos > waiting.pos
        j = waiting.join(ev, [waiting.customer_id == ev.e_customer, later])
        g = j.group_by("customer_id", "a_pos", "t0", "pos", "sec").aggregate(
            nx=j.e_pos.min(), ns=j.e_sec.min()
        )
        g = g.filter(_deadline_ok(spec, c, g.ns, g.sec, g.t0))
        g = g.select(
            customer_id=g.customer_id,
            a_pos=g.a_pos,
            t0=g.t0,
            step=ibis.literal(c, _I64),
            pos=g.nx,
            sec=g.ns,
            sp=g.ns - g.sec,
        )
        found = g if found is None else found.union(g, distinct=False)
    if len(cand) == 1:
        return found
    # the earliest valid candidate (ties: the lower step)
    w = ibis.window(group_by=[found.customer_id, found.a_pos], order_by=[found.pos, found.step])
    ranked = found.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).drop("_r")


def _strict_pass(waiting: ibis.Table, base: ibis.Table, spec: FunnelSpec, k: int) -> ibis.Table:
    """Moves of the attempts waiting at step k: their very next event, if it is a valid step."""
    cand = spec.candidates(k)
    nxt = base.select(
        n_customer=base.customer_id, npos=base.pos, ntp=base.touchpoint, nsec=base.sec
    )
    j = waiting.join(nxt, [waiting.customer_id == nxt.n_customer, nxt.npos == waiting.pos + 1])
    cases = []
    for c in cand:
        step = spec.steps[c]
        ok = j.ntp.isin(list(step.touchpoints)) & _deadline_ok(spec, c, j.nsec, j.sec, j.t0)
        if step.gap_seconds > 0:
            ok = ok & (j.nsec - j.sec >= step.gap_seconds)
        cases.append((ok, ibis.literal(c, _I64)))
    j = j.mutate(nstep=ibis.cases(*cases, else_=_null(_I64)))
    j = j.filter(j.nstep.notnull())
    return j.select(
        customer_id=j.customer_id,
        a_pos=j.a_pos,
        t0=j.t0,
        step=j.nstep,
        pos=j.npos,
        sec=j.nsec,
        sp=j.nsec - j.sec,
    )


def _coalesce(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else ibis.coalesce(*values)


def _exclude(att: ibis.Table, base: ibis.Table, spec: FunnelSpec) -> ibis.Table:
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
        ev = base.filter(base.touchpoint.isin(list(x.touchpoints)))
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
        "t0": att.t0,
        **{f"x_{e}": att[f"x_{e}"] for e in extra},
    }
    for c in range(spec.n):
        reached = att.furthest >= c
        cols[f"pos_{c}"] = ibis.ifelse(reached, att[f"pos_{c}"], _null(_I64))
        cols[f"sec_{c}"] = ibis.ifelse(reached, att[f"sec_{c}"], _null(_F64))
        cols[f"sp_{c}"] = ibis.ifelse(reached, att[f"sp_{c}"], _null(_F64))
        cols[f"ss_{c}"] = ibis.ifelse(reached, att[f"sec_{c}"] - att.t0, _null(_F64))
    return att.select(**cols)


def _any_order(base: ibis.Table, spec: FunnelSpec, extra: tuple[str, ...]) -> ibis.Table:
    ev = base.filter(base.touchpoint.isin(sorted(spec.touchpoints())))
    w = ibis.window(group_by=ev.customer_id, order_by=ev.pos, rows=(0, None))
    firsts = {
        f"f_{c}": ibis.ifelse(ev.touchpoint.isin(list(s.touchpoints)), ev.sec, _null(_F64))
        .min()
        .over(w)
        for c, s in enumerate(spec.steps)
    }
    ev = ev.mutate(**firsts)
    inf = math.isinf(spec.window_seconds)
    level = sum(
        (
            ibis.ifelse(
                ev[f"f_{c}"].notnull() if inf else ev[f"f_{c}"] <= ev.sec + spec.window_seconds,
                1,
                0,
            )
            for c in range(spec.n)
        ),
        ibis.literal(0, _I64),
    )
    cols: dict[str, Any] = {
        "customer_id": ev.customer_id,
        "a_pos": ev.pos,
        "furthest": level - 1,
        "t0": ev.sec,
        **{f"x_{e}": ev[f"x_{e}"] for e in extra},
    }
    for c in range(spec.n):
        for prefix, t in (("pos", _I64), ("sec", _F64), ("sp", _F64), ("ss", _F64)):
            cols[f"{prefix}_{c}"] = _null(t)
    return ev.select(**cols)
