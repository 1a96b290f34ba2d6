"""The timeline shortcuts of lifecycle (day pairs), retention (active-period masks) and
loops (one aggregate per customer) against the event-based expressions, the brute-force
references and hand-made edge cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics._timeline import timeline
from klantreis.analytics.lifecycle import (
    LifecycleSpec,
    _pair_statuses,
    day_pairs_expr,
    lifecycle,
    lifecycle_expr,
)
from klantreis.analytics.loops import loops
from klantreis.analytics.retention import (
    RetentionSpec,
    _mask_counts,
    mask_base,
    masks_expr,
    retention,
    retention_expr,
)
from klantreis.analytics.scope import events_of, local_clock
from tests.analytics.loyalty.conftest import ev, event_logs, reset
from tests.analytics.loyalty.test_loops_drivers import loops_reference
from tests.analytics.loyalty.test_retention import _number
from tests.analytics.loyalty.test_retention import reference as retention_reference


def _events_lifecycle(ws, period):
    """Counts by the event-based lifecycle expressions (a window over active pairs)."""
    events = events_of(ws)
    clock = local_clock(ws, events)
    out = {}
    for part in lifecycle_expr(events, LifecycleSpec(period), clock):
        for pn, status, n in ws.con.execute(part)[["pn", "status", "customers"]].values:
            out[(int(pn), status)] = int(n)
    return out


@settings(max_examples=20, deadline=None)
@given(events=event_logs(), period=st.sampled_from(["day", "week", "month"]))
def test_day_pairs_match_event_expressions(ws, events, period):
    reset(ws, events=events)
    clock = local_clock(ws, events_of(ws))
    if clock is None:
        assert not events
        return
    pairs = ws.con.execute(day_pairs_expr(timeline(ws), LifecycleSpec(period), clock))
    assert _pair_statuses(pairs) == _events_lifecycle(ws, period)
    assert int(pairs["rows"].sum()) == len(events)
    assert int(pairs["new"].sum()) == len({e["customer_id"] for e in events})


def test_lifecycle_one_event_and_gaps(ws):
    reset(ws, events=[ev("a", "2026-01-10T10:00:00Z")])
    assert lifecycle(ws).table.customers.tolist() == [1, 0, 0, 0]
    reset(
        ws,
        events=[
            ev("a", "2026-01-10T10:00:00Z"),
            ev("a", "2026-01-12T10:00:00Z"),  # same month: one active period
            ev("a", "2026-04-02T10:00:00Z"),  # resurrecting after two dormant months
            ev("b", "2026-02-01T10:00:00Z"),
            ev("b", "2026-03-01T10:00:00Z"),
        ],
    )
    got = {(str(p), s): n for p, s, n in lifecycle(ws).table.values if n}
    assert got == {
        ("2026-01-01", "new"): 1,
        ("2026-02-01", "new"): 1,
        ("2026-02-01", "dormant"): 1,
        ("2026-03-01", "returning"): 1,
        ("2026-04-01", "resurrecting"): 1,
        ("2026-04-01", "dormant"): 1,
    }


def _frames_equal(got, want):
    def norm(df, cols):
        return sorted(tuple(int(v) for v in row) for row in df[cols].values)

    assert norm(got[0], ["cohort", "customers", "last"]) == norm(
        want[0], ["cohort", "customers", "last"]
    )
    assert norm(got[1], ["cohort", "period", "retained"]) == norm(
        want[1], ["cohort", "period", "retained"]
    )


@settings(max_examples=20, deadline=None)
@given(
    events=event_logs(),
    period=st.sampled_from(["week", "month"]),
    mode=st.sampled_from(["on", "on or after"]),
    periods=st.sampled_from([None, 0, 2]),
)
def test_masks_match_event_expressions(ws, events, period, mode, periods):
    reset(ws, events=events)
    events_t = events_of(ws)
    clock = local_clock(ws, events_t)
    if clock is None:
        return
    spec = RetentionSpec(period=period, mode=mode, periods=periods)
    base = mask_base(clock, period)
    assert base is not None  # 120 days: at most 19 weeks
    sizes_e, counts_e = retention_expr(events_t, spec, clock)
    want = (ws.con.execute(sizes_e), ws.con.execute(counts_e))
    for bitwise in (True, False):  # BIT_OR (DuckDB) and the sum over last events (PySpark)
        masks = ws.con.execute(masks_expr(timeline(ws), period, clock, base, bitwise))
        assert int(masks.customers.sum()) == len({e["customer_id"] for e in events})
        _frames_equal(_mask_counts(masks, spec, base), want)


@pytest.mark.parametrize(
    ("last", "masks"),
    [
        pytest.param("2026-02-20T10:00:00Z", True, id="51-days-later"),
        pytest.param("2026-02-27T10:00:00Z", True, id="57-days-later-last-mask"),
        pytest.param("2026-02-28T10:00:00Z", False, id="58-days-later-too-many"),
        pytest.param("2026-06-30T10:00:00Z", False, id="6-months"),
    ],
)
def test_retention_by_day_masks_or_not(ws, last, masks):
    """Day periods fit in a mask up to 62 days: the data's days and 2 either side."""
    events = [
        ev("a", "2026-01-01T10:00:00Z"),
        ev("a", "2026-01-02T10:00:00Z"),
        ev("b", "2026-01-02T10:00:00Z"),
        ev("a", last),
        ev("b", last),
    ]
    reset(ws, events=events)
    clock = local_clock(ws, events_of(ws))
    assert (mask_base(clock, "day") is not None) is masks
    for mode in ("on", "on or after"):
        table = retention(ws, "day", mode=mode).table
        got = [
            (_number(c, "day"), int(p), int(n), int(r))
            for c, p, n, r in table[["cohort", "period", "customers", "retained"]].values
        ]
        assert got == retention_reference(events, "day", mode)


def test_loops_edge_cases(ws):
    # nobody buys: zeros and no shares
    reset(ws, events=[ev("a", "2026-01-01T10:00:00Z", "support")])
    table = loops(ws).table
    assert table[["buyers", "entered", "cycles"]].values.tolist() == [[0, 0, 0]] * 3
    assert all(math.isnan(v) for v in table.share)
    # a service event at the purchase's very time (earlier id) counts: timestamp >= first
    events = [
        ev("a", "2026-01-01T10:00:00Z", "support", event_id="e1"),
        ev("a", "2026-01-01T10:00:00Z", "buy", event_id="e2"),
        ev("a", "2026-01-02T10:00:00Z", "support", event_id="e3"),
        ev("b", "2026-01-01T10:00:00Z", "refer", event_id="e4"),
        ev("b", "2026-01-01T11:00:00Z", "cancel", event_id="e5"),
        ev("b", "2026-01-02T10:00:00Z", "buy", event_id="e6"),
        ev("b", "2026-01-03T10:00:00Z", "zz", event_id="e7"),  # in no loop
        ev("b", "2026-01-04T10:00:00Z", "refer", event_id="e8"),
    ]
    reset(ws, events=events)
    table = loops(ws).table.set_index("loop")
    buyers, want = loops_reference(events)
    assert buyers == 2
    got = {k: (int(r.entered), int(r.cycles)) for k, r in table.iterrows() if r.entered}
    assert got == want == {"purchase": (2, 2), "service": (1, 2), "loyalty": (1, 1)}
