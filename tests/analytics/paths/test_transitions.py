from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.transitions import COLUMNS, transitions
from klantreis.errors import InvalidSpec, UnknownKey
from tests.analytics.paths import reference
from tests.analytics.paths.helpers import PHASE_OF, replace_rows
from tests.analytics.paths.strategies import event_logs


def as_dict(df):
    return {
        (r.source, r.target): (r.transitions, r.customers, r.share, r.median_seconds, r.p90_seconds)
        for r in df.itertuples(index=False)
    }


def assert_same(got, want):
    assert set(got) == set(want)
    for key, w in want.items():
        g = got[key]
        assert g[:2] == w[:2], key
        assert g[2:] == pytest.approx(w[2:], abs=1e-9), key


@settings(max_examples=25)
@given(
    events=event_logs(),
    collapse=st.booleans(),
    gap=st.sampled_from([None, 1, 30]),
    phase=st.sampled_from([None, "awareness", "purchase"]),
)
def test_matches_reference(ws, events, collapse, gap, phase):
    replace_rows(ws, "events", events)
    result = transitions(
        ws, collapse=collapse, sessions=gap is not None, session_gap_minutes=gap, phase=phase
    )
    tps = None if phase is None else {k for k, v in PHASE_OF.items() if v == phase}
    want = reference.transitions(events, collapse=collapse, gap_minutes=gap, phase_tps=tps)
    assert_same(as_dict(result.table), want)
    assert list(result.table.columns) == list(COLUMNS)
    for r in result.table.itertuples(index=False):
        assert r.mapped == (r.source in PHASE_OF and r.target in PHASE_OF)


def ev(customer, ts, tp, eid):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-01T{ts}Z",
        "touchpoint": tp,
        "event_id": eid,
    }


HAND = [
    ev("a", "00:00:00", "ad", "e1"),
    ev("a", "00:10:00", "site", "e2"),
    ev("a", "00:10:00", "site", "e3"),  # same time: e2 before e3
    ev("a", "02:10:00", "buy", "e4"),
    ev("b", "00:00:00", "site", "e6"),  # tie with e5: e5 (ad) first by event id
    ev("b", "00:00:00", "ad", "e5"),
    ev("b", "00:05:00", "unknown-x", "e7"),
]


def test_hand_made_exact(ws):
    replace_rows(ws, "events", HAND)
    df = transitions(ws).table
    rows = [tuple(r) for r in df.itertuples(index=False)]
    assert rows == [
        ("ad", "site", 2, 2, 1.0, 300.0, 540.0, True),
        ("site", "buy", 1, 1, 1 / 3, 7200.0, 7200.0, True),
        ("site", "site", 1, 1, 1 / 3, 0.0, 0.0, True),
        ("site", "unknown-x", 1, 1, 1 / 3, 300.0, 300.0, False),
    ]


def test_hand_made_collapse_sessions_phase(ws):
    replace_rows(ws, "events", HAND)
    df = transitions(ws, collapse=True, sessions=True, session_gap_minutes=60).table
    assert [tuple(r)[:4] for r in df.itertuples(index=False)] == [
        ("ad", "site", 2, 2),
        ("site", "unknown-x", 1, 1),
    ]
    df = transitions(ws, phase="awareness").table
    assert [tuple(r)[:4] for r in df.itertuples(index=False)] == [
        ("ad", "site", 2, 2),
        ("site", "site", 1, 1),
    ]
    result = transitions(ws, sessions=True)
    assert result.params["session_gap_minutes"] == 30  # the workspace setting
    assert "30 minutes" in result.definition


def test_empty_and_errors(ws):
    replace_rows(ws, "events", [])
    assert transitions(ws).table.empty
    with pytest.raises(UnknownKey, match="did you mean 'awareness'"):
        transitions(ws, phase="awarenes")
    with pytest.raises(InvalidSpec, match="session_gap_minutes: must be at least 1"):
        transitions(ws, sessions=True, session_gap_minutes=0)
    with pytest.raises(InvalidSpec, match="collapse: must be true or false"):
        transitions(ws, collapse="yes")
