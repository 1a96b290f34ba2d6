from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.paths import paths, sankey
from klantreis.errors import InvalidSpec, UnknownKey
from tests.analytics.paths import reference
from tests.analytics.paths.helpers import replace_rows
from tests.analytics.paths.strategies import event_logs


def norm(value):
    """None for missing values (pd.NA, NaN), ints for whole numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value) if float(value).is_integer() else value


def ev(customer, ts, tp, eid):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-01T{ts}Z",
        "touchpoint": tp,
        "event_id": eid,
    }


@settings(max_examples=15)
@given(
    events=event_logs(),
    top=st.integers(1, 4),
    collapse=st.booleans(),
    conversion=st.sampled_from([None, ["site"], ["buy", "review"]]),
)
def test_variants_match_reference(ws, events, top, collapse, conversion):
    replace_rows(ws, "events", events)
    result = paths(ws, top=top, collapse=collapse, conversion=conversion)
    conv = conversion or ["buy"]
    want = reference.variants(events, conv, top, collapse=collapse)
    got = [
        (None, r.rank, r.path, norm(r.steps), r.customers, norm(r.converted_customers), r.variants)
        for r in result.table.itertuples(index=False)
    ]
    assert got == want
    if len(result.table):
        assert result.table["share"].sum() == pytest.approx(1.0)
        assert int(result.table["customers"].sum()) == len({e["customer_id"] for e in events})


@settings(max_examples=12)
@given(events=event_logs(), top=st.integers(1, 3))
def test_outcome_matches_reference(ws, events, top):
    replace_rows(ws, "events", events)
    df = paths(ws, kind="outcome", top=top).table
    want = reference.variants(events, ["buy"], top, by_outcome=True)
    want = sorted(
        (("converted" if k else "dropped"), rank, path, n, v) for k, rank, path, _, n, _, v in want
    )
    got = sorted(
        (r.outcome, r.rank, r.path, r.customers, r.variants) for r in df.itertuples(index=False)
    )
    assert got == want


@settings(max_examples=15)
@given(
    events=event_logs(),
    anchor=st.sampled_from([(None, None), ("site", None), (None, "buy"), ("zz-unmapped", None)]),
    depth=st.integers(1, 4),
    top=st.integers(1, 3),
    collapse=st.booleans(),
)
def test_sankey_matches_reference(ws, events, anchor, depth, top, collapse):
    replace_rows(ws, "events", events)
    start, end = anchor
    if (start or end) and not any(e["touchpoint"] == (start or end) for e in events):
        events = [*events, ev("c9", "00:00:00", start or end, "e9999999")]
        replace_rows(ws, "events", events)
    result = sankey(ws, start=start, end=end, depth=depth, top=top, collapse=collapse)
    links, nodes = reference.sankey(
        events, start=start, end=end, depth=depth, top=top, collapse=collapse
    )
    got_links = {
        (r.level, r.source, r.target): (r.transitions, r.customers)
        for r in result.table.itertuples(index=False)
    }
    got_nodes = {
        (r.level, r.node): (r.visits, r.customers)
        for r in result.extras["nodes"].itertuples(index=False)
    }
    assert got_links == links
    assert got_nodes == nodes
    assert all(result.table["level_to"] == result.table["level"] + 1)


HAND = [
    ev("a", "00:00:00", "ad", "e01"),
    ev("a", "00:01:00", "site", "e02"),
    ev("a", "00:02:00", "buy", "e03"),
    ev("a", "00:03:00", "use", "e04"),
    ev("b", "00:00:00", "ad", "e05"),
    ev("b", "00:01:00", "site", "e06"),
    ev("c", "00:00:00", "ad", "e07"),
    ev("c", "00:01:00", "site", "e08"),
    ev("c", "00:02:00", "site", "e09"),
    ev("c", "00:03:00", "buy", "e10"),
    ev("d", "00:00:00", "buy", "e11"),
    ev("e", "00:00:00", "social", "e12"),
    ev("e", "00:01:00", "site", "e13"),
]


def test_variants_hand_made(ws):
    replace_rows(ws, "events", HAND)
    df = paths(ws, top=2).table
    rows = [
        tuple(norm(x) if not isinstance(x, str) else x for x in r)
        for r in df.itertuples(index=False)
    ]
    assert rows == [
        (1, "ad > site", 2, 2, 0.4, 1, 0.5, 1),
        (2, "(none)", 0, 1, 0.2, 1, 1, 1),
        (3, "(other)", None, 2, 0.4, 1, 0.5, 2),
    ]
    collapsed = paths(ws, top=5, collapse=True).table
    assert list(collapsed["path"]) == ["ad > site", "(none)", "social > site"]
    assert list(collapsed["customers"]) == [3, 1, 1]
    assert list(collapsed["converted_customers"]) == [2, 1, 0]


def test_outcome_hand_made(ws):
    replace_rows(ws, "events", HAND)
    df = paths(ws, kind="outcome", top=1).table
    assert [
        (r.outcome, r.rank, r.path, r.customers, r.share, r.variants)
        for r in df.itertuples(index=False)
    ] == [
        ("converted", 1, "(none)", 1, pytest.approx(1 / 3), 1),
        ("converted", 2, "(other)", 2, pytest.approx(2 / 3), 2),
        ("dropped", 1, "ad > site", 1, 0.5, 1),
        ("dropped", 2, "(other)", 1, 0.5, 1),
    ]


def test_design_against_reality(ws):
    replace_rows(ws, "events", HAND)
    df = paths(ws, kind="design").table
    rows = [
        (r.source, r.target, r.status, r.transitions, r.customers)
        for r in df.itertuples(index=False)
    ]
    assert rows == [
        ("compare", "buy", "never_taken", 0, 0),
        ("site", "compare", "never_taken", 0, 0),
        ("use", "review", "never_taken", 0, 0),
        ("social", "site", "not_designed", 1, 1),
        ("ad", "site", "taken", 3, 3),
        ("site", "buy", "taken", 2, 2),
        ("buy", "use", "taken", 1, 1),
    ]
    assert list(df["mapped"]) == [True, True, True, False, True, True, True]


def test_sankey_hand_made(ws):
    replace_rows(ws, "events", HAND)
    result = sankey(ws, start="site", depth=2)
    links = [tuple(r) for r in result.table.itertuples(index=False)]
    assert links == [
        (0, 1, "site", "(end)", 2, 2),
        (0, 1, "site", "buy", 2, 2),
        (0, 1, "site", "site", 1, 1),
        (1, 2, "buy", "(end)", 1, 1),
        (1, 2, "buy", "use", 1, 1),
        (1, 2, "site", "buy", 1, 1),
    ]
    back = sankey(ws, end="buy", depth=1)
    assert [tuple(r) for r in back.table.itertuples(index=False)] == [
        (-1, 0, "site", "buy", 2, 2),
        (-1, 0, "(start)", "buy", 1, 1),
    ]


def test_errors(ws):
    replace_rows(ws, "events", HAND)
    with pytest.raises(UnknownKey, match="did you mean 'site'"):
        sankey(ws, start="sitee")
    with pytest.raises(InvalidSpec, match="not both"):
        sankey(ws, start="site", end="buy")
    with pytest.raises(InvalidSpec, match="depth: must be at least 1 and at most 12"):
        sankey(ws, depth=0)
    with pytest.raises(InvalidSpec, match="kind: unknown kind of paths"):
        paths(ws, kind="nope")
    with pytest.raises(UnknownKey, match="unknown touchpoint 'nope'"):
        paths(ws, conversion="nope")
    by_social = paths(ws, conversion="social").table.set_index("path")
    assert by_social.loc["(none)", "converted_customers"] == 1  # customer e starts at social
    assert by_social["converted_customers"].sum() == 1
