"""Brute-force funnel: the definitions of docs/funnel.md in plain Python, event by event."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from klantreis.analytics._funnel_spec import FunnelSpec


def _ordered_events(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        per[e["customer_id"]].append(e)
    for rows in per.values():
        rows.sort(key=lambda e: (e["timestamp"], e["event_id"]))
    return per


def _sec(e: dict[str, Any]) -> float:
    return float(math.floor(e["timestamp"].timestamp()))


def attempts(events: list[dict[str, Any]], spec: FunnelSpec) -> list[dict[str, Any]]:
    """Every attempt: customer, start index, furthest (0-based), per-step secs."""
    out = []
    sets = [set(s.touchpoints) for s in spec.steps]
    W = spec.window_seconds
    for customer, rows in sorted(_ordered_events(events).items()):
        if spec.mode != "strict":
            names = spec.touchpoints()
            rows = [e for e in rows if e["touchpoint"] in names]
        sec = [_sec(e) for e in rows]
        tp = [e["touchpoint"] for e in rows]
        if spec.mode == "any-order":
            for i in range(len(rows)):
                level = sum(
                    any(tp[j] in s and sec[j] <= sec[i] + W for j in range(i, len(rows)))
                    for s in sets
                )
                out.append(_attempt(customer, i, level - 1, {}, sec[i], rows[i], spec))
            continue
        for i0 in range(len(rows)):
            if tp[i0] not in sets[0]:
                continue
            t0, cur, ci = sec[i0], 0, i0
            matched = {0: i0}
            sp: dict[int, float] = {}
            while cur < spec.n - 1:
                best = None
                for c in spec.candidates(cur):
                    step = spec.steps[c]
                    if spec.mode == "strict":
                        j = ci + 1
                        if j >= len(rows) or tp[j] not in sets[c]:
                            continue
                        if step.gap_seconds and sec[j] - sec[ci] < step.gap_seconds:
                            continue
                    else:
                        if step.gap_seconds:
                            js = [
                                j
                                for j in range(len(rows))
                                if tp[j] in sets[c] and sec[j] >= sec[ci] + step.gap_seconds
                            ]
                        else:
                            js = [j for j in range(ci + 1, len(rows)) if tp[j] in sets[c]]
                        if not js:
                            continue
                        j = min(js)
                    if sec[j] > t0 + W:
                        continue
                    if step.window_seconds is not None and sec[j] - sec[ci] > step.window_seconds:
                        continue
                    if best is None or j < best[0]:
                        best = (j, c)
                if best is None:
                    break
                j, c = best
                sp[c] = sec[j] - sec[ci]
                matched[c] = j
                cur, ci = c, j
            furthest = cur
            for x in spec.exclusions:
                i, jx = x.after - 1, x.before - 1
                if cur <= i:
                    continue
                start = max(matched[c] for c in matched if c <= i)
                end = ci if cur <= jx else min(matched[c] for c in matched if c >= jx)
                if any(tp[p] in x.touchpoints for p in range(start + 1, end)):
                    furthest = min(furthest, i)
            secs = {c: (sec[matched[c]], sp.get(c)) for c in matched if c <= furthest}
            out.append(_attempt(customer, i0, furthest, secs, t0, rows[i0], spec))
    return out


def _attempt(customer, start, furthest, secs, t0, first, spec):
    return {
        "customer_id": customer,
        "start": start,
        "furthest": furthest,
        "sp": {c: v[1] for c, v in secs.items()},
        "ss": {c: v[0] - t0 for c, v in secs.items()},
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
