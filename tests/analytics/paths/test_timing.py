from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.timing import timing
from klantreis.errors import InvalidSpec
from tests.analytics.paths import reference
from tests.analytics.paths.helpers import PHASE_OF, replace_rows
from tests.analytics.paths.strategies import customer_rows, event_logs


def num(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def customers_of(groups):
    return [{"customer_id": c, "persona": p} for c, p in groups.items()]


@settings(max_examples=15)
@given(events=event_logs(), groups=customer_rows, by=st.sampled_from([None, "persona"]))
def test_time_to_convert_matches_reference(ws, events, groups, by):
    replace_rows(ws, "events", events)
    replace_rows(ws, "customers", customers_of(groups))
    result = timing(ws, by=by)
    want = reference.time_to_convert(events, {"buy"}, groups if by else None)
    got = {
        r.group: (
            r.customers,
            r.converted,
            num(r.median_seconds),
            num(r.p90_seconds),
            num(r.mean_seconds),
        )
        for r in result.table.itertuples(index=False)
    }
    assert {g: v[:2] for g, v in got.items()} == {g: v[:2] for g, v in want.items()}
    for g, w in want.items():
        for a, b in zip(got[g][2:], w[2:], strict=True):
            assert (a is None and b is None) or a == pytest.approx(b)
    dist = result.extras["distribution"]
    for g, w in want.items():
        assert dist[dist["group"] == g]["customers"].sum() == w[1]


@settings(max_examples=15)
@given(
    events=event_logs(),
    groups=customer_rows,
    by=st.sampled_from([None, "persona"]),
    rule=st.sampled_from(["span", "entry"]),
)
def test_time_in_phase_matches_reference(ws, events, groups, by, rule):
    replace_rows(ws, "events", events)
    replace_rows(ws, "customers", customers_of(groups))
    result = timing(ws, kind="phase", rule=rule, by=by)
    want = reference.time_in_phase(events, PHASE_OF, rule, groups if by else None)
    got = {
        (r.group, r.phase): (
            r.customers,
            r.measured,
            num(r.median_seconds),
            num(r.p90_seconds),
            num(r.mean_seconds),
        )
        for r in result.table.itertuples(index=False)
    }
    assert set(got) == set(want)
    for key, w in want.items():
        assert got[key][:2] == w[:2], key
        for a, b in zip(got[key][2:], w[2:], strict=True):
            assert (a is None and b is None) or a == pytest.approx(b), key
    assert all(result.table["open"] == result.table["customers"] - result.table["measured"])


def ev(customer, ts, tp, eid):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-{ts}Z",
        "touchpoint": tp,
        "event_id": eid,
    }


HAND = [
    ev("a", "01T00:00:00", "ad", "e1"),
    ev("a", "01T06:00:00", "site", "e2"),
    ev("a", "02T00:00:00", "buy", "e3"),  # converts after 1 day
    ev("a", "05T00:00:00", "use", "e4"),
    ev("b", "01T00:00:00", "site", "e5"),
    ev("b", "01T00:30:00", "buy", "e6"),  # converts after 30 minutes
    ev("c", "01T00:00:00", "ad", "e7"),
    ev("c", "11T00:00:00", "buy", "e8"),  # converts after 10 days
    ev("d", "01T00:00:00", "compare", "e9"),  # never converts
    ev("d", "01T00:00:00", "other", "e10"),
]


def test_hand_made_time_to_convert(ws):
    replace_rows(ws, "events", HAND)
    replace_rows(
        ws,
        "customers",
        [{"customer_id": "a", "segment": "s1"}, {"customer_id": "b", "segment": "s1"}],
    )
    df = timing(ws).table
    day = 86400.0
    assert df.to_dict("records") == [
        {
            "group": "(all)",
            "customers": 4,
            "converted": 3,
            "conversion_rate": 0.75,
            "median_seconds": day,
            "p90_seconds": day + 0.8 * 9 * day,  # between 1 and 10 days
            "mean_seconds": (1800 + day + 10 * day) / 3,
        }
    ]
    result = timing(ws, by="segment")
    seg = result.table.set_index("group")
    assert list(seg.index) == ["(none)", "s1"]
    assert seg.loc["s1", "median_seconds"] == (1800 + day) / 2
    assert seg.loc["(none)", "converted"] == 1
    dist = result.extras["distribution"]
    assert dist[dist["group"] == "s1"]["customers"].tolist() == [1, 1, 0, 0, 0, 0]
    assert dist[dist["group"] == "(none)"]["customers"].tolist() == [0, 0, 0, 1, 0, 0]


def test_hand_made_time_in_phase(ws):
    replace_rows(ws, "events", HAND)
    span = timing(ws, kind="phase").table
    assert [tuple(r)[1:5] for r in span.itertuples(index=False)] == [
        ("awareness", 3, 3, 0),
        ("consideration", 1, 1, 0),
        ("purchase", 3, 3, 0),
        ("service", 1, 1, 0),
    ]
    assert span["median_seconds"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert span["mean_seconds"].tolist()[0] == 6 * 3600 / 3
    entry = timing(ws, kind="phase", rule="entry").table.set_index("phase")
    # awareness: a 1 day (to buy), b 30 min, c 10 days; purchase: a 3 days (to use), b and c open
    assert entry.loc["awareness", "median_seconds"] == 86400.0
    assert entry.loc["purchase", ["customers", "measured", "open"]].tolist() == [3, 1, 2]
    assert entry.loc["purchase", "median_seconds"] == 3 * 86400.0
    assert entry.loc["consideration", "open"] == 1


def test_errors(ws):
    replace_rows(ws, "events", HAND)
    with pytest.raises(InvalidSpec, match="by: unknown grouping"):
        timing(ws, by="age")
    with pytest.raises(InvalidSpec, match="rule: unknown rule"):
        timing(ws, kind="phase", rule="middle")
    assert timing(ws, conversion="use").table["converted"].tolist() == [1]
