"""Drivers of conversion: touchpoint and channel features before the first conversion.

Checked against a brute-force reference of the definition on random logs that hold
what the timeline leaves out (events without a timestamp or without a touchpoint),
events without a channel, several conversions, events at the very time of the first
conversion; on persona/segment scopes; and with more feature values than one mask holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.drivers import drivers
from klantreis.analytics.scope import scoped
from tests.analytics.loyalty.conftest import BASE, TOUCHPOINTS, ev, reset


def reference(events, keys, customers=None):
    """(n, k, {(kind, value): (customers, outcome)}) straight from the module docstring.

    Population: customers with any event (``customers``: only these ids); outcome: an
    event at a conversion touchpoint (with a time); features: touchpoint and channel of
    the events strictly before the first conversion (all events, timed or not, of a
    customer without one), conversion touchpoints excepted.
    """
    by: dict[str, list] = {}
    for e in events:
        if customers is None or e["customer_id"] in customers:
            by.setdefault(e["customer_id"], []).append(e)
    pop: dict[str, bool] = {}
    feats: dict[tuple[str, str], set[str]] = {}
    for c, evs in by.items():
        times = [e["timestamp"] for e in evs if e["touchpoint"] in keys and e["timestamp"]]
        first = min(times) if times else None
        pop[c] = first is not None
        for e in evs:
            if e["touchpoint"] in keys:
                continue
            if first is not None and (e["timestamp"] is None or e["timestamp"] >= first):
                continue
            for kind in ("touchpoint", "channel"):
                if e[kind] is not None:
                    feats.setdefault((kind, e[kind]), set()).add(c)
    counts = {f: (len(cs), sum(pop[c] for c in cs)) for f, cs in feats.items()}
    return len(pop), sum(pop.values()), counts


def got_counts(result):
    table = result.table
    rows = zip(table.kind, table.value, table.customers, table.outcome, strict=True)
    return {(kind, value): (int(n), int(k)) for kind, value, n, k in rows}


def shown(counts, n, min_support=1):
    return {f: v for f, v in counts.items() if min_support <= v[0] < n}


def check(ws, events, keys, customers=None, target=None):
    n, k, want = reference(events, keys, customers)
    result = drivers(
        target or ws, touchpoints=keys, features=["touchpoint", "channel"], min_support=1
    )
    assert result.extras["population"] == {"customers": n, "outcome": k}
    assert got_counts(result) == shown(want, n)
    return result


@st.composite
def messy_logs(draw, max_events=30):
    """Logs with unplaced events (no time or no touchpoint), null channels and ties."""
    n = draw(st.integers(0, max_events))
    rows = []
    for i in range(n):
        customer = draw(st.sampled_from(["a", "b", "c", "d", "e", "f"]))
        # few distinct minutes: many events share a time with a conversion
        minutes = draw(st.one_of(st.none(), st.integers(0, 6)))
        when = None if minutes is None else (BASE + timedelta(minutes=minutes)).isoformat()
        tp = draw(st.one_of(st.none(), st.sampled_from(TOUCHPOINTS)))
        channel = draw(st.sampled_from(["web", "mail", None]))
        rows.append(ev(customer, when, tp, channel, f"e{i:04d}"))
    return rows


@settings(max_examples=30, deadline=None)
@given(
    events=messy_logs(),
    keys=st.sampled_from([["buy"], ["buy", "refer"], ["zz"]]),
    segments=st.lists(st.sampled_from(["x", "y"]), min_size=6, max_size=6),
)
def test_conversion_drivers_match_brute_force(ws, events, keys, segments):
    customers = [{"customer_id": c, "segment": s} for c, s in zip("abcdef", segments, strict=True)]
    reset(ws, events=events, customers=customers)
    check(ws, events, keys)
    # a segment's part: only its customers' events
    members = {c["customer_id"] for c in customers if c["segment"] == "x"}
    check(ws, events, keys, members, scoped(ws, segment="x"))


T = "2026-01-01T10:0{}:00Z"
EDGE_CASES = [
    # a: site, then buys twice; the site visit at the time of the first buy, the ad
    # after it and the untimed support do not count
    ev("a", T.format(0), "site", "web", "a1"),
    ev("a", T.format(2), "buy", "web", "a2"),
    ev("a", T.format(2), "support", "phone", "a3"),
    ev("a", T.format(3), "ad", "mail", "a4"),
    ev("a", T.format(1), "buy", "web", "a5"),
    ev("a", None, "support", "phone", "a6"),
    # b: buys first (nothing before), its untimed ad does not count
    ev("b", T.format(0), "buy", "web", "b1"),
    ev("b", T.format(1), "site", "web", "b2"),
    ev("b", None, "ad", "mail", "b3"),
    # c: never buys; the untimed support and an event without touchpoint count
    ev("c", T.format(0), "ad", None, "c1"),
    ev("c", None, "support", "phone", "c2"),
    ev("c", T.format(1), None, "store", "c3"),
    # d: only unplaced events, and a buy without a time (no conversion)
    ev("d", None, "buy", "web", "d1"),
    ev("d", None, None, "store", "d2"),
    # e: only a conversion; an event without touchpoint before it gives its channel
    ev("e", T.format(5), "buy", "web", "e1"),
    ev("e", T.format(4), None, "phone", "e2"),
]


def test_conversion_drivers_by_hand(ws):
    reset(ws, events=EDGE_CASES)
    result = check(ws, EDGE_CASES, ["buy"])
    assert result.extras["population"] == {"customers": 5, "outcome": 3}
    assert got_counts(result) == {
        ("touchpoint", "site"): (1, 1),  # a
        ("touchpoint", "ad"): (1, 0),  # c
        ("touchpoint", "support"): (1, 0),  # c (untimed)
        ("channel", "web"): (1, 1),  # a
        ("channel", "store"): (2, 0),  # c, d
        ("channel", "phone"): (2, 1),  # c, e
    }


def test_many_feature_values(ws):
    # more touchpoint and channel values than one mask holds: the general way, same answer
    events = [
        ev(f"c{i % 9}", T.format(i % 7), f"tp{i:02d}", f"ch{i % 11}", f"e{i:03d}")
        for i in range(70)
    ]
    events += [ev(f"c{i}", T.format(3), "buy", "web", f"b{i}") for i in range(0, 9, 2)]
    reset(ws, events=events)
    check(ws, events, ["buy"])


@pytest.mark.parametrize("features", [["channel"], ["touchpoint"], ["segment"]])
def test_one_kind_of_feature(ws, features):
    customers = [{"customer_id": c, "segment": "x"} for c in "abc"]
    reset(ws, events=EDGE_CASES, customers=customers)
    n, _, want = reference(EDGE_CASES, ["buy"])
    result = drivers(ws, features=features, min_support=1)
    kinds = [f for f in features if f != "segment"]
    assert got_counts(result) == {f: v for f, v in shown(want, n).items() if f[0] in kinds} | (
        {("segment", "x"): (3, 2)} if "segment" in features else {}
    )
