"""Brute-force references in plain Python for the path analytics (slow, obviously right)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime
from typing import Any

import numpy as np

OTHER, END, START, EMPTY = "(other)", "(end)", "(start)", "(none)"


def _ts(value: Any) -> float:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def sequences(events: list[dict[str, Any]]) -> dict[str, list[tuple[float, str, str]]]:
    """customer -> [(seconds, event_id, touchpoint)] in (timestamp, event_id) order."""
    out: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
    for e in events:
        out[e["customer_id"]].append((_ts(e["timestamp"]), e["event_id"], e["touchpoint"]))
    return {c: sorted(v) for c, v in out.items()}


def _collapse(seq: list[tuple[float, str, str]]) -> list[tuple[float, str, str]]:
    kept = []
    for item in seq:
        if not kept or kept[-1][2] != item[2]:
            kept.append(item)
    return kept


def transitions(events, *, collapse=False, gap_minutes=None, phase_tps=None) -> dict:
    """(source, target) -> (transitions, customers, share, median, p90)."""
    gaps: dict[tuple[str, str], list[float]] = defaultdict(list)
    who: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c, seq in sequences(events).items():
        if phase_tps is not None:
            seq = [s for s in seq if s[2] in phase_tps]
        for (t0, _, a), (t1, _, b) in itertools.pairwise(seq):
            if collapse and a == b:
                continue
            if gap_minutes is not None and t1 - t0 > gap_minutes * 60:
                continue
            gaps[(a, b)].append(t1 - t0)
            who[(a, b)].add(c)
    out_total: dict[str, int] = defaultdict(int)
    for (a, _), g in gaps.items():
        out_total[a] += len(g)
    return {
        k: (
            len(g),
            len(who[k]),
            len(g) / out_total[k[0]],
            float(np.percentile(g, 50)),
            float(np.percentile(g, 90)),
        )
        for k, g in gaps.items()
    }


def customer_paths(
    events, conversion, *, collapse=False
) -> dict[str, tuple[tuple[str, ...], bool]]:
    out = {}
    for c, seq in sequences(events).items():
        if collapse:
            seq = _collapse(seq)
        tps = [s[2] for s in seq]
        first = next((i for i, tp in enumerate(tps) if tp in conversion), None)
        out[c] = (tuple(tps if first is None else tps[:first]), first is not None)
    return out


def variants(events, conversion, top, *, collapse=False, by_outcome=False) -> list[tuple]:
    """Rows (outcome or None, rank, path text, steps, customers, converted, variants)."""
    cp = customer_paths(events, conversion, collapse=collapse)
    groups: dict[Any, dict[tuple[str, ...], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for path, conv in cp.values():
        key = conv if by_outcome else None
        cell = groups[key][path]
        cell[0] += 1
        cell[1] += int(conv)
    rows = []
    for key, counts in groups.items():
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1][0], " > ".join(kv[0]) or EMPTY))
        for i, (path, (n, k)) in enumerate(ranked[:top], start=1):
            rows.append((key, i, " > ".join(path) or EMPTY, len(path), n, k, 1))
        rest = ranked[top:]
        if rest:
            rows.append(
                (
                    key,
                    top + 1,
                    OTHER,
                    None,
                    sum(v[0] for _, v in rest),
                    sum(v[1] for _, v in rest),
                    len(rest),
                )
            )
    return rows


def sankey(events, *, start=None, end=None, depth=3, top=8, collapse=False):
    """(links {(level, source, target): (transitions, customers)},
    nodes {(level, node): (visits, customers)})."""
    backward = end is not None
    anchor = end if backward else start
    walks = []  # (customer, [level 0 node, level 1 node, ...])
    for c, seq in sequences(events).items():
        if collapse:
            seq = _collapse(seq)
        tps = [s[2] for s in seq]
        if backward:
            tps = tps[::-1]
        starts = [0] if anchor is None else [i for i, tp in enumerate(tps) if tp == anchor]
        for i in starts:
            steps = tps[i : i + depth + 1]
            if len(steps) < depth + 1:
                steps = [*steps, START if backward else END]
            walks.append((c, steps))
    visits: dict[tuple[int, str], int] = defaultdict(int)
    for _, steps in walks:
        for k, node in enumerate(steps):
            visits[(k, node)] += 1
    keep = defaultdict(set)
    for level in {k for k, _ in visits}:
        ranked = sorted(
            ((n, v) for (k, n), v in visits.items() if k == level and n not in (END, START)),
            key=lambda nv: (-nv[1], nv[0]),
        )
        keep[level] = {n for n, _ in ranked[:top]}

    def bucket(k: int, node: str) -> str:
        return node if node in (END, START) or node in keep[k] else OTHER

    links: dict[tuple[int, str, str], list] = defaultdict(lambda: [0, set()])
    nodes: dict[tuple[int, str], list] = defaultdict(lambda: [0, set()])
    for c, steps in walks:
        named = [bucket(k, n) for k, n in enumerate(steps)]
        for k, n in enumerate(named):
            cell = nodes[(-k if backward else k, n)]
            cell[0] += 1
            cell[1].add(c)
        for k in range(1, len(named)):
            a, b = named[k - 1], named[k]
            key = (-k, b, a) if backward else (k - 1, a, b)
            links[key][0] += 1
            links[key][1].add(c)
    return (
        {k: (v[0], len(v[1])) for k, v in links.items()},
        {k: (v[0], len(v[1])) for k, v in nodes.items()},
    )


def time_to_convert(events, conversion, groups=None) -> dict[str, tuple]:
    """group -> (customers, converted, median, p90, mean)."""
    per: dict[str, list] = defaultdict(list)
    for c, seq in sequences(events).items():
        first = seq[0][0]
        conv = [s[0] for s in seq if s[2] in conversion]
        g = "(all)" if groups is None else groups.get(c) or "(none)"
        per[g].append(min(conv) - first if conv else None)
    out = {}
    for g, vals in per.items():
        got = [v for v in vals if v is not None]
        if got:
            out[g] = (
                len(vals),
                len(got),
                float(np.percentile(got, 50)),
                float(np.percentile(got, 90)),
                float(np.mean(got)),
            )
        else:
            out[g] = (len(vals), 0, None, None, None)
    return out


def time_in_phase(events, phase_of, rule, groups=None) -> dict[tuple[str, str], tuple]:
    """(group, phase) -> (customers, measured, median, p90, mean)."""
    per: dict[tuple[str, str], list] = defaultdict(list)
    for c, seq in sequences(events).items():
        g = "(all)" if groups is None else groups.get(c) or "(none)"
        seq = [(t, e, phase_of[tp]) for t, e, tp in seq if tp in phase_of]
        if rule == "span":
            spans: dict[str, list[float]] = defaultdict(list)
            for t, _, ph in seq:
                spans[ph].append(t)
            for ph, ts in spans.items():
                per[(g, ph)].append(max(ts) - min(ts))
        else:
            entries = []
            seen = set()
            for t, _e, ph in seq:
                if ph not in seen:
                    seen.add(ph)
                    entries.append((t, ph))
            for i, (t, ph) in enumerate(entries):
                per[(g, ph)].append(entries[i + 1][0] - t if i + 1 < len(entries) else None)
    out = {}
    for key, vals in per.items():
        got = [v for v in vals if v is not None]
        if got:
            out[key] = (
                len(vals),
                len(got),
                float(np.percentile(got, 50)),
                float(np.percentile(got, 90)),
                float(np.mean(got)),
            )
        else:
            out[key] = (len(vals), 0, None, None, None)
    return out
