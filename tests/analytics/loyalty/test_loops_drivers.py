"""Loops, repeat purchase and drivers: hand-made cases and a brute-force reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

from klantreis.analytics.drivers import FEATURES, drivers
from klantreis.analytics.loops import loops, repeat_purchase
from klantreis.errors import InvalidSpec
from tests.analytics.loyalty.conftest import ev, event_logs, fb, reset

LOOPS_LOG = [
    ev("a", "2026-01-01T10:00:00Z", "ad"),
    ev("a", "2026-01-02T10:00:00Z", "buy"),
    ev("a", "2026-01-03T10:00:00Z", "support"),
    ev("a", "2026-01-04T10:00:00Z", "site"),
    ev("a", "2026-01-05T10:00:00Z", "support"),
    ev("a", "2026-01-06T10:00:00Z", "buy"),
    ev("b", "2026-01-01T10:00:00Z", "support"),  # before buying: does not count
    ev("b", "2026-01-02T10:00:00Z", "buy"),
    ev("b", "2026-01-03T10:00:00Z", "refer"),
    ev("c", "2026-01-01T10:00:00Z", "support"),  # never buys
]


def test_loops_by_hand(ws):
    reset(ws, events=LOOPS_LOG)
    table = loops(ws).table.set_index("loop")
    # purchase entries: a: ad, site and the last buy (each after support); b: buy -> 4
    assert table.loc["purchase", ["buyers", "entered", "cycles"]].tolist() == [2, 2, 4]
    assert table.loc["service", ["entered", "cycles", "cycles_per_customer"]].tolist() == [
        1,
        2,
        2.0,
    ]
    assert table.loc["loyalty", ["entered", "cycles"]].tolist() == [1, 1]
    assert table.loc["service", "share"] == 0.5


LOOP_OF = {
    "ad": "purchase",
    "site": "purchase",
    "buy": "purchase",
    "support": "service",
    "review_request": "loyalty",
    "refer": "loyalty",
    "cancel": "loyalty",
}  # the test journey's phases; "zz" is in no loop


def loops_reference(events):
    """(buyers, {loop: (entered, cycles)}) straight from the module docstring."""
    from datetime import datetime

    by_customer: dict[str, list] = {}
    for e in sorted(events, key=lambda e: (datetime.fromisoformat(e["timestamp"]), e["event_id"])):
        by_customer.setdefault(e["customer_id"], []).append(e)
    buyers = 0
    out: dict[str, list[int]] = {}
    for rows in by_customer.values():
        buys = [datetime.fromisoformat(e["timestamp"]) for e in rows if e["touchpoint"] == "buy"]
        if not buys:
            continue
        buyers += 1
        first = min(buys)
        cycles: dict[str, int] = {}
        prev = None
        for e in rows:
            loop = LOOP_OF.get(e["touchpoint"])
            counted = loop == "purchase" or datetime.fromisoformat(e["timestamp"]) >= first
            if loop is not None and counted:
                cycles[loop] = cycles.get(loop, 0) + (prev != loop)
            prev = loop
        for loop, n in cycles.items():
            entered, total = out.get(loop, [0, 0])
            out[loop] = [entered + 1, total + n]
    return buyers, {k: tuple(v) for k, v in out.items()}


@settings(max_examples=25, deadline=None)
@given(events=event_logs())
def test_loops_match_brute_force(ws, events):
    reset(ws, events=events)
    buyers, want = loops_reference(events)
    table = loops(ws).table
    assert set(table.buyers) <= {buyers}
    got = {
        r.loop: (int(r.entered), int(r.cycles)) for r in table.itertuples(index=False) if r.entered
    }
    assert got == want


def test_repeat_purchase_by_hand(ws):
    reset(ws, events=LOOPS_LOG)
    row = repeat_purchase(ws).table.iloc[0]
    assert (row.buyers, row.repeat_buyers, row.rate, row.purchases_per_buyer) == (2, 1, 0.5, 1.5)
    assert (round(row.low, 4), round(row.high, 4)) == (0.0945, 0.9055)


def test_own_conversion_touchpoints(ws):
    reset(ws, events=LOOPS_LOG)
    row = repeat_purchase(ws, ["support"]).table.iloc[0]
    assert (row.buyers, row.repeat_buyers) == (3, 1)
    assert loops(ws, ["refer"]).table.buyers.tolist() == [1, 1, 1]


def test_drivers_odds_ratio_by_hand(ws):
    # 'site' before buying: 3 of 4 buy; without site: 1 of 4 buy -> OR (3*3)/(1*1) = 9
    events = []
    for i, (site, buys) in enumerate(
        [(1, 1), (1, 1), (1, 1), (1, 0), (0, 1), (0, 0), (0, 0), (0, 0)]
    ):
        c = f"c{i}"
        events.append(ev(c, "2026-01-01T10:00:00Z", "ad", "mail"))
        if site:
            events.append(ev(c, "2026-01-02T10:00:00Z", "site", "web"))
        if buys:
            events.append(ev(c, "2026-01-03T10:00:00Z", "buy", "web"))
    customers = [
        {"customer_id": f"c{i}", "segment": "x", "attributes": '{"tier": "gold", "age": 40}'}
        for i in range(4)
    ]
    reset(ws, events=events, customers=customers)
    result = drivers(ws, min_support=2, features=[*FEATURES, "attribute.tier", "attribute.age"])
    table = result.table.set_index(["kind", "value"])
    site = table.loc[("touchpoint", "site")]
    se = math.sqrt(1 / 3 + 1 / 1 + 1 / 1 + 1 / 3)
    assert (site.customers, site.outcome, site.rate, site.rate_without) == (4, 3, 0.75, 0.25)
    assert site.odds_ratio == pytest.approx(9.0)
    assert site.low == pytest.approx(math.exp(math.log(9) - 1.959964 * se), rel=1e-5)
    assert ("touchpoint", "buy") not in table.index  # the outcome itself is no feature
    assert ("touchpoint", "ad") not in table.index  # every customer: no contrast
    # channel web before buying: only the site visitors (c0-c3) -> same as site
    assert table.loc[("channel", "web"), "odds_ratio"] == pytest.approx(9.0)
    assert table.loc[("segment", "x"), "odds_ratio"] == pytest.approx(9.0)
    assert table.loc[("attribute.tier", "gold"), "odds_ratio"] == pytest.approx(9.0)
    assert table.loc[("attribute.age", "40"), "customers"] == 4
    assert result.extras["population"] == {"customers": 8, "outcome": 4}
    assert list(result.table.odds_ratio) == sorted(result.table.odds_ratio, reverse=True)
    assert drivers(ws, min_support=5).table.empty


def test_drivers_promoter_outcome(ws):
    reset(
        ws,
        events=[
            ev("a", "2026-01-01T10:00:00Z", "support"),
            ev("b", "2026-01-01T10:00:00Z", "site"),
        ],
        feedback=[fb("a", "buy", "nps", 3), fb("b", "buy", "nps", 10), fb("c", "buy", "nps", 10)],
    )
    table = drivers(ws, "promoter", min_support=1).table.set_index(["kind", "value"])
    support = table.loc[("touchpoint", "support")]
    # a: support, detractor; b, c promoters without support -> cells 0,1,2,0 + 0.5
    assert support.odds_ratio == pytest.approx((0.5 * 0.5) / (1.5 * 2.5))
    with pytest.raises(InvalidSpec, match="outcome"):
        drivers(ws, "happiness")
    with pytest.raises(InvalidSpec, match=r"attribute\.NAME"):
        drivers(ws, features=["colour"])


def _reference_touchpoint_drivers(events, min_support):
    by: dict[str, list] = {}
    for e in events:
        by.setdefault(e["customer_id"], []).append(e)
    pop = {}
    feats: dict[str, set[str]] = {}
    for c, evs in by.items():
        buys = [e["timestamp"] for e in evs if e["touchpoint"] == "buy"]
        first = min(buys) if buys else None
        pop[c] = first is not None
        for e in evs:
            if e["touchpoint"] != "buy" and (first is None or e["timestamp"] < first):
                feats.setdefault(e["touchpoint"], set()).add(c)
    n, k = len(pop), sum(pop.values())
    out = {}
    for tp, cs in feats.items():
        if len(cs) < min_support or len(cs) >= n:
            continue
        a = sum(pop[c] for c in cs)
        b, c_, d = len(cs) - a, k - a, (n - k) - (len(cs) - a)
        if min(a, b, c_, d) == 0:
            a, b, c_, d = a + 0.5, b + 0.5, c_ + 0.5, d + 0.5
        out[tp] = (a * d) / (b * c_)
    return out


@settings(max_examples=8, deadline=None)
@given(events=event_logs(max_events=20))
def test_drivers_match_brute_force(ws, events):
    # timestamps are ISO strings with the same offset: they sort like times
    reset(ws, events=events)
    table = drivers(ws, features=["touchpoint"], min_support=1).table
    got = dict(zip(table.value, table.odds_ratio, strict=True))
    want = _reference_touchpoint_drivers(events, 1)
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value)
