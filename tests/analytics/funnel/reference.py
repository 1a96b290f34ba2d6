"""Brute-force funnel: the definitions of docs/funnel.md in plain Python, event by event.

Times are integer microseconds since the epoch, compared exactly like the engine's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from klantreis.analytics._funnel_spec import FunnelSpec

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = 1_000_000


def _ordered_events(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        per[e["customer_id"]].append(e)
    for rows in per.values():
        rows.sort(key=lambda e: (e["timestamp"], e["event_id"]))
    return per


def _us(e: dict[str, Any]) -> int:
    return (e["timestamp"] - _EPOCH) // timedelta(microseconds=1)


def _micros(seconds: float) -> float:
    return seconds if math.isinf(seconds) else round(seconds * _US)


def attempts(events: list[dict[str, Any]], spec: FunnelSpec) -> list[dict[str, Any]]:
    """Every attempt (span): customer, start index, furthest (0-based), per-step secs."""
    out = []
    for customer, rows in sorted(_ordered_events(events).items()):
        if spec.mode != "strict":
            names = spec.touchpoints()
            rows = [e for e in rows if e["touchpoint"] in names]
        us = [_us(e) for e in rows]
        tp = [e["touchpoint"] for e in rows]
        for i0 in range(len(rows)):
            if spec.mode == "any-order":
                found = _span(us, tp, spec, i0)
            elif tp[i0] in spec.steps[0].touchpoints:
                found = _chain(us, tp, spec, i0)
            else:
                continue
            if found is not None:
                out.append(_attempt(customer, i0, *found, us[i0], rows[i0]))
    return out


def _chain(us: list[int], tp: list[str], spec: FunnelSpec, i0: int) -> tuple[int, dict]:
    """Ordered and strict: an attempt from step-1 event ``i0``."""
    sets = [set(s.touchpoints) for s in spec.steps]
    W, S = _micros(spec.window_seconds), _micros(spec.skew_seconds)
    t0, cur, ci = us[i0], 0, i0
    matched = {0: i0}
    sp: dict[int, int] = {}
    while cur < spec.n - 1:
        best = None
        for c in spec.candidates(cur):
            step = spec.steps[c]
            gap = _micros(step.gap_seconds)
            if spec.mode == "strict":
                j = ci + 1
                if j >= len(us) or tp[j] not in sets[c]:
                    continue
                if gap and us[j] - us[ci] < gap:
                    continue
            else:
                if gap:
                    js = [j for j in range(len(us)) if tp[j] in sets[c] and us[j] >= us[ci] + gap]
                elif S:  # from S before the previous step on (steps share no touchpoint)
                    js = [j for j in range(len(us)) if tp[j] in sets[c] and us[j] >= us[ci] - S]
                else:
                    js = [j for j in range(ci + 1, len(us)) if tp[j] in sets[c]]
                if not js:
                    continue
                j = min(js)
            if us[j] > t0 + W:
                continue
            if step.window_seconds is not None and us[j] - us[ci] > _micros(step.window_seconds):
                continue
            if best is None or j < best[0]:
                best = (j, c)
        if best is None:
            break
        j, c = best
        sp[c] = us[j] - us[ci]
        matched[c] = j
        cur, ci = c, j
    furthest = cur
    for x in spec.exclusions:
        i, jx = x.after - 1, x.before - 1
        if cur <= i:
            continue
        # from the event of step `after` (or the nearest matched step before it) to that
        # of step `before` (or the nearest matched after it; when the attempt stopped
        # earlier: its latest matched event in path order)
        start = matched[max(c for c in matched if c <= i)]
        end = max(matched.values()) if cur <= jx else matched[min(c for c in matched if c >= jx)]
        if any(tp[p] in x.touchpoints for p in range(start + 1, end)):
            furthest = min(furthest, i)
    secs = {c: (us[matched[c]], sp.get(c)) for c in matched if c <= furthest}
    return furthest, secs


def _span(us: list[int], tp: list[str], spec: FunnelSpec, i0: int) -> tuple[int, dict] | None:
    """Any-order: the span from event ``i0`` (None when it is no funnel step's event)."""
    step_of = {name: c for c, s in enumerate(spec.steps) for name in s.touchpoints}
    if tp[i0] not in step_of:
        return None
    if not spec.walks:  # the number of different steps within W
        W = _micros(spec.window_seconds)
        within = [j for j in range(i0, len(us)) if us[j] <= us[i0] + W]
        return len({step_of[tp[j]] for j in within if tp[j] in step_of}) - 1, {}
    seq, reached = walk(us, tp, spec, i0)
    required = {c for c, s in enumerate(spec.steps) if not s.optional}
    level = spec.n if required <= reached else len(reached)
    furthest = level - 1
    for x in spec.exclusions:
        a, b = x.after, x.before
        if level <= a:
            continue
        # levels without an event (reached through optional steps): the last event stands in
        start, end = seq[min(a, len(seq)) - 1], seq[min(b, len(seq)) - 1]
        if any(tp[p] in x.touchpoints for p in range(start + 1, end)):
            furthest = min(furthest, a - 1)
    secs = {
        k: (us[j], us[j] - us[seq[k - 1]] if k else None)
        for k, j in enumerate(seq)
        if k <= furthest
    }
    return furthest, secs


def walk(us: list[int], tp: list[str], spec: FunnelSpec, i0: int) -> tuple[list[int], set[int]]:
    """The greedy any-order walk from event ``i0``: the events that reached each level and
    the steps reached (no options: the steps within W, in any order)."""
    step_of = {name: c for c, s in enumerate(spec.steps) for name in s.touchpoints}
    W = _micros(spec.window_seconds)
    seq, reached = [i0], {step_of[tp[i0]]}
    while True:
        p = seq[-1]
        for j in range(p + 1, len(us)):
            c = step_of.get(tp[j])
            if c is None or c in reached or us[j] > us[i0] + W:
                continue
            step = spec.steps[c]
            if step.window_seconds is not None and us[j] - us[p] > _micros(step.window_seconds):
                continue
            if us[j] < us[p] + _micros(step.gap_seconds):
                continue
            break
        else:
            return seq, reached
        seq.append(j)
        reached.add(c)


def _attempt(customer, start, furthest, secs, t0, first):
    return {
        "customer_id": customer,
        "start": start,
        "furthest": furthest,
        "sp": {c: None if v[1] is None else v[1] / _US for c, v in secs.items()},
        "ss": {c: (v[0] - t0) / _US for c, v in secs.items()},
        "channel": first.get("channel"),
    }


def units(events: list[dict[str, Any]], spec: FunnelSpec) -> list[dict[str, Any]]:
    att = attempts(events, spec)
    if spec.unit == "attempts":
        return att
    best: dict[str, dict[str, Any]] = {}
    for a in att:
        b = best.get(a["customer_id"])
        if b is None or (a["furthest"], -a["start"]) > (b["furthest"], -b["start"]):
            best[a["customer_id"]] = a
    return list(best.values())


def _q(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else math.nan


def table(events: list[dict[str, Any]], spec: FunnelSpec) -> list[dict[str, Any]]:
    """Per step: customers, conversions, dropped and times (like Result.table rows)."""
    us = units(events, spec)
    counts = [sum(1 for u in us if u["furthest"] >= c) for c in range(spec.n)]
    rows = []
    for c in range(spec.n):
        prev = counts[c - 1] if c else counts[0]
        sp = [u["sp"][c] for u in us if u["furthest"] >= c and u["sp"].get(c) is not None]
        ss = [u["ss"][c] for u in us if u["furthest"] >= c and c in u["ss"]]
        rows.append(
            {
                "step": c + 1,
                "customers": counts[c],
                "conversion_from_start": counts[c] / counts[0] if counts[0] else math.nan,
                "conversion_from_previous": counts[c] / prev if prev else math.nan,
                "dropped": prev - counts[c],
                "median_seconds_from_previous": _q(sp, 0.5),
                "p90_seconds_from_previous": _q(sp, 0.9),
                "median_seconds_from_start": _q(ss, 0.5),
                "p90_seconds_from_start": _q(ss, 0.9),
            }
        )
    return rows
