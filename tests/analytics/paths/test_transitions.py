from __future__ import annotations

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics._timeline import timeline
from klantreis.analytics.transitions import COLUMNS, TransitionSpec, transitions, transitions_expr
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


def unflagged(ws, collapse=False, gap=None, phase_tps=None):
    """transitions_expr on the timeline without its first_pair column (the distinct
    path, as for any other table of events); a DataFrame without mapped."""
    spec = TransitionSpec(
        collapse=collapse, sessions=gap is not None, session_gap_minutes=gap or 30
    )
    expr = transitions_expr(timeline(ws).drop("first_pair"), spec, phase_tps)
    return ws.con.execute(expr)


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
    tps = None if phase is None else sorted(k for k, v in PHASE_OF.items() if v == phase)
    want = reference.transitions(
        events, collapse=collapse, gap_minutes=gap, phase_tps=None if tps is None else set(tps)
    )
    assert_same(as_dict(result.table), want)
    assert list(result.table.columns) == list(COLUMNS)
    for r in result.table.itertuples(index=False):
        assert r.mapped == (r.source in PHASE_OF and r.target in PHASE_OF)
    # the same with customers counted by a distinct, without the timeline's first_pair
    assert_same(as_dict(unflagged(ws, collapse, gap, tps)), want)


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


EDGES = [
    ev("solo", "00:00:00", "ad", "s1"),  # one event: no transition
    ev("p", "00:00:00", "ad", "p1"),  # ad site ad site: the same move twice
    ev("p", "00:01:00", "site", "p2"),
    ev("p", "00:03:00", "ad", "p3"),
    ev("p", "00:06:00", "site", "p4"),
    ev("q", "00:00:00", "site", "q2"),  # tie: q1 first; site site site buy
    ev("q", "00:00:00", "site", "q1"),
    ev("q", "00:10:00", "site", "q3"),
    ev("q", "00:20:00", "buy", "q4"),
    ev("r", "00:00:00", "ad", "r1"),  # its first ad -> site is 2 h long
    ev("r", "02:00:00", "site", "r2"),
    ev("r", "02:05:00", "ad", "r3"),
    ev("r", "02:06:00", "site", "r4"),
]
# ad->site gaps 60, 180 (p), 7200, 60 (r): median (60+180)/2, p90 180 + 0.7 * 7020
AD_SITE = ("ad", "site", 4, 2, 1.0, 120.0, 5094.0)
SITE_AD = ("site", "ad", 2, 2, 0.4, 210.0, 282.0)  # gaps 120 (p), 300 (r)
SITE_SITE = ("site", "site", 2, 1, 0.4, 300.0, 540.0)  # gaps 0, 600 (q)
SITE_BUY = ("site", "buy", 1, 1, 0.2, 600.0, 600.0)


@pytest.mark.parametrize(
    ("options", "rows"),
    [
        pytest.param({}, [AD_SITE, SITE_AD, SITE_SITE, SITE_BUY], id="plain"),
        pytest.param(
            {"collapse": True},
            [
                AD_SITE,
                ("site", "ad", 2, 2, 2 / 3, 210.0, 282.0),
                ("site", "buy", 1, 1, 1 / 3, 600.0, 600.0),  # from the last site of the run
            ],
            id="collapse",
        ),
        # r's long first ad -> site is cut, its second one still counts r as a customer
        pytest.param(
            {"gap": 30},
            [("ad", "site", 3, 2, 1.0, 60.0, 156.0), SITE_AD, SITE_SITE, SITE_BUY],
            id="sessions",
        ),
    ],
)
def test_edge_cases_exact(ws, options, rows):
    replace_rows(ws, "events", EDGES)
    gap = options.get("gap")
    result = transitions(
        ws,
        collapse=options.get("collapse", False),
        sessions=gap is not None,
        session_gap_minutes=gap,
    )
    df = unflagged(ws, options.get("collapse", False), gap)
    for table in (result.table, df):
        got = [tuple(r)[:7] for r in table.itertuples(index=False)]
        assert [g[:4] for g in got] == [w[:4] for w in rows]  # order and counts exact
        for g, w in zip(got, rows, strict=True):
            assert g[4:] == pytest.approx(w[4:], abs=1e-9), g


def test_first_pair_counts_customers_without_distinct(ws):
    tl = timeline(ws)
    for collapse in (False, True):
        sql = ibis.to_sql(transitions_expr(tl, TransitionSpec(collapse=collapse)))
        assert "DISTINCT" not in sql.upper()
    # sessions drop transitions that may be a customer's first of a pair: distinct again
    sql = ibis.to_sql(transitions_expr(tl, TransitionSpec(sessions=True)))
    assert "DISTINCT" in sql.upper()
    plain = transitions_expr(timeline(ws).drop("first_pair"), TransitionSpec())
    assert "DISTINCT" in ibis.to_sql(plain).upper()
