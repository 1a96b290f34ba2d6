"""Lifecycle per period and churn: hand-made cases and a brute-force reference."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.lifecycle import churn, lifecycle
from klantreis.errors import InvalidSpec
from tests.analytics.loyalty.conftest import ev, event_logs, reset
from tests.analytics.loyalty.test_retention import FIVE, _number

AMS = ZoneInfo("Europe/Amsterdam")


def counts(result):
    return {
        (str(p), s): int(n) for p, s, n in result.table[["period", "status", "customers"]].values
    }


def test_five_customers_by_month(ws):
    reset(ws, events=FIVE)
    got = counts(lifecycle(ws))
    expected = {
        "2026-01-01": (2, 0, 0, 0),
        "2026-02-01": (2, 1, 0, 1),
        "2026-03-01": (1, 1, 1, 2),
        "2026-04-01": (0, 0, 1, 3),
    }
    for period, values in expected.items():
        statuses = ("new", "returning", "resurrecting", "dormant")
        assert tuple(got[(period, s)] for s in statuses) == values, period
    assert len(got) == 16


def reference(events, period):
    active: dict[int, set[str]] = {}
    for e in events:
        local = datetime.fromisoformat(e["timestamp"]).astimezone(AMS).date()
        active.setdefault(_number(local, period), set()).add(e["customer_id"])
    if not active:
        return {}
    out = {}
    seen: set[str] = set()
    for p in range(min(active), max(active) + 1):
        now, before = active.get(p, set()), active.get(p - 1, set())
        new = now - seen
        out[(p, "new")] = len(new)
        out[(p, "returning")] = len((now - new) & before)
        out[(p, "resurrecting")] = len(now - new - before)
        out[(p, "dormant")] = len(before - now)
        seen |= now
    return out


@settings(max_examples=25, deadline=None)
@given(events=event_logs(), period=st.sampled_from(["day", "week", "month"]))
def test_matches_brute_force(ws, events, period):
    reset(ws, events=events)
    table = lifecycle(ws, period).table
    got = {
        (_number(p, period), s): int(n)
        for p, s, n in table[["period", "status", "customers"]].values
    }
    assert got == reference(events, period)


def test_churn_by_hand(ws):
    reset(
        ws,
        events=[
            ev("a", "2026-01-01T10:00:00Z"),
            ev("a", "2026-03-01T10:00:00Z"),  # active (last event)
            ev("b", "2026-01-15T10:00:00Z"),  # inactive: 45 days before the last event
            ev("c", "2026-02-25T10:00:00Z"),
            ev("c", "2026-02-26T10:00:00Z", "cancel"),  # ended
            ev("d", "2026-02-20T10:00:00Z", "cancel"),
            ev("d", "2026-02-27T10:00:00Z", "site"),  # came back after cancelling: active
        ],
    )
    result = churn(ws, "30d")
    assert result.table.values.tolist() == [
        ["active", 2, 0.5],
        ["inactive", 1, 0.25],
        ["ended", 1, 0.25],
    ]
    assert result.params["ends"] == ["cancel"]
    # as of 1 February: a and b inactive? a's last event before then is 1 Jan (31 days)
    early = churn(ws, "30d", as_of="2026-02-01")
    assert early.table.customers.tolist() == [1, 1, 0]


def churn_reference(events, gap_days, as_of):
    """Status per customer from their last event (by time, then event id) up to as_of."""
    from datetime import timedelta

    def when(e):
        return datetime.fromisoformat(e["timestamp"])

    kept = [e for e in events if as_of is None or when(e) <= as_of]
    if not kept:
        return {"active": 0, "inactive": 0, "ended": 0}
    reference = as_of if as_of is not None else max(when(e) for e in kept)
    last = {}
    for e in sorted(kept, key=lambda e: (when(e), e["event_id"])):
        last[e["customer_id"]] = e
    out = {"active": 0, "inactive": 0, "ended": 0}
    for e in last.values():
        if e["touchpoint"] == "cancel":
            out["ended"] += 1
        elif when(e) < reference - timedelta(days=gap_days):
            out["inactive"] += 1
        else:
            out["active"] += 1
    return out


@settings(max_examples=25, deadline=None)
@given(
    events=event_logs(),
    gap_days=st.sampled_from([1, 30]),
    as_of=st.sampled_from([None, "2026-02-01T00:00:00+00:00", "2026-03-10T12:00:00+00:00"]),
)
def test_churn_matches_brute_force(ws, events, gap_days, as_of):
    reset(ws, events=events)
    result = churn(ws, f"{gap_days}d", as_of=as_of)
    got = dict(zip(result.table.status, result.table.customers, strict=True))
    stamp = None if as_of is None else datetime.fromisoformat(as_of)
    assert got == churn_reference(events, gap_days, stamp)


def test_churn_errors(ws):
    reset(ws, events=[ev("a", "2026-01-01T10:00:00Z")])
    with pytest.raises(InvalidSpec, match="inactive"):
        churn(ws, "ninety days")
    with pytest.raises(InvalidSpec, match="as_of"):
        churn(ws, "30d", as_of="not a date")
