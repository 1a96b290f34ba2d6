"""Any-order funnels with options (the greedy walk): reference, strategies, edge cases."""

# ruff: noqa: F811 (the fixtures `ws` and `mk` come from test_reference and test_cases)

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from klantreis.analytics._funnel_anyorder import walk
from klantreis.analytics._funnel_engine import STRATEGIES, _any_order, _Cache
from klantreis.analytics._funnel_spec import build_spec
from klantreis.analytics._timeline import timeline
from klantreis.analytics.funnel import funnel
from klantreis.errors import InvalidSpec
from tests.analytics.funnel import reference
from tests.analytics.funnel.test_cases import at, mk  # noqa: F401
from tests.analytics.funnel.test_reference import (  # noqa: F401
    _disjoint_steps,
    _options,
    event_logs,
    load,
    ws,
)

H = 3600


def _spans(ws, spec, strategy: str | None = None, plain: bool = False) -> list[list]:
    """Per span the walk yields (for unit customers: each customer's representative), in
    path order: customer, furthest, then sp_c and ss_c per level."""
    cache = _Cache()
    try:
        tl = timeline(ws)
        out = _any_order(tl, spec, (), cache) if plain else walk(tl, spec, (), cache, strategy)
        cols = ["customer_id", "furthest"]
        if not plain:
            cols += [f"{p}_{c}" for c in range(spec.n) for p in ("sp", "ss")]
        df = ws.con.execute(out.order_by("customer_id", "a_pos").select(*cols))
    finally:
        cache.release()
    return [[None if v != v else v for v in row] for row in df.values.tolist()]


def _reference_spans(events, spec) -> list[list]:
    rows = []
    for a in sorted(reference.units(events, spec), key=lambda u: (u["customer_id"], u["start"])):
        row = [a["customer_id"], a["furthest"]]
        for c in range(spec.n):
            row += [a["sp"].get(c), a["ss"].get(c)]
        rows.append(row)
    return rows


@st.composite
def walk_specs(draw: st.DrawFn):
    n = draw(st.integers(1, 4))
    steps = _disjoint_steps(draw, n)
    window = draw(st.sampled_from([None, *[f"{h * 12}h" for h in range(9)]]))
    unit = draw(st.sampled_from(["customers", "attempts"]))
    options = _options(draw, len(steps), lambda k: True)
    spec = build_spec(steps, window=window, mode="any-order", unit=unit, **options)
    assume(spec.walks)  # (no option: the plain levels, tested below)
    return spec


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=event_logs(), spec=walk_specs(), strategy=st.sampled_from(STRATEGIES))
def test_every_span_equals_the_reference_walk(ws, events, spec, strategy) -> None:
    """Level and times of every counted span (unit attempts: every span), both strategies."""
    load(ws, events)
    got = _spans(ws, spec, strategy)
    if spec.unit == "customers":  # the walk may yield more spans than the representatives
        best: dict[str, list] = {}
        for row in got:  # in path order: the first with the highest level
            if row[0] not in best or row[1] > best[row[0]][1]:
                best[row[0]] = row
        got = list(best.values())
    want = _reference_spans(events, spec)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w), (g, w)


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=event_logs(), data=st.data())
def test_walk_without_options_gives_the_plain_levels(ws, events, data) -> None:
    """The walk is the plain any-order definition when no option is used."""
    steps = _disjoint_steps(data.draw, data.draw(st.integers(1, 4)))
    window = data.draw(st.sampled_from([None, "0h", "12h", "36h", "96h"]))
    spec = build_spec(steps, window=window, mode="any-order", unit="attempts")  # every span
    assert not spec.walks
    load(ws, events)
    plain = _spans(ws, spec, plain=True)
    for strategy in STRATEGIES:
        assert [row[:2] for row in _spans(ws, spec, strategy)] == plain
    want = [[a["customer_id"], a["furthest"]] for a in reference.attempts(events, spec)]
    assert plain == want


# -- hand-made cases ---------------------------------------------------------------


def table(ws, steps, **kw) -> list[list]:
    t = funnel(ws, steps, **kw).table
    cols = ["customers", "median_seconds_from_previous", "median_seconds_from_start"]
    return [
        [None if isinstance(v, float) and math.isnan(v) else v for v in r]
        for r in t[cols].values.tolist()
    ]


def test_same_time_events_of_two_steps(mk) -> None:
    # b (e1) and a (e2) at the same second: b comes first in path order
    ws = mk([at("c1", 0, "a", "e2"), at("c1", 0, "b", "e1"), at("c1", H, "c", "e3")])
    assert table(ws, ["a", "b", "c"], mode="any-order", step_windows={1: "0s"}) == [
        [1, None, 0.0],
        [1, 0.0, 0.0],  # b -> a: same time, a's window of 0s holds
        [1, H, H],
    ]
    # a must come at least 1s after the previous step: from b it cannot (same time), so
    # the span from b reaches c and stops (a lies before c); the span from a reaches c
    rows = table(ws, ["a", "b", "c"], mode="any-order", min_gaps={1: "1s"})
    assert [r[0] for r in rows] == [1, 1, 0]


def test_exclusion_at_the_time_of_a_reached_event(mk) -> None:
    # x at the same second as b: before it (e2) or after it (e4) in path order
    before = [at("c1", 0, "a", "e1"), at("c1", H, "x", "e2"), at("c1", H, "b", "e3")]
    after = [at("c2", 0, "a", "e1"), at("c2", H, "b", "e3"), at("c2", H, "x", "e4")]
    ws = mk(before, after, [at("c2", 2 * H, "c", "e5")])
    kw = {"mode": "any-order", "window": "1d"}
    # the span from a: x lies between levels 1 and 2 for c1 only
    assert [r[0] for r in table(ws, ["a", "b"], exclude=["x:1:2"], **kw)] == [2, 1]
    # c1 never does c; c2's x lies between the events of levels 2 (b) and 3 (c)
    assert [r[0] for r in table(ws, ["a", "b", "c"], exclude=["x:2:3"], **kw)] == [2, 2, 0]


def test_optional_step_never_done(mk) -> None:
    ws = mk(
        [at("c1", 0, "a", "e1"), at("c1", 2 * H, "c", "e2")],  # every required step: level 3
        [at("c2", 0, "b", "e1"), at("c2", H, "c", "e2")],  # a (required) missing: level 2
        [at("c3", 0, "b", "e1")],  # only the optional step: level 1
    )
    assert table(ws, ["a", "b?", "c"], mode="any-order") == [
        [3, None, 0.0],
        [2, 1.5 * H, 1.5 * H],  # c1: 2h, c2: 1h
        [1, None, None],  # c1 reached level 3 without an event: no time
    ]
    # an exclusion names levels; a level reached through the optional step has no event,
    # so the last reached event stands in for it
    ws2 = mk(
        [at("c1", 0, "a", "e1"), at("c1", H, "x", "e2"), at("c1", 2 * H, "c", "e3")],
        [at("c2", 0, "b", "e4")],
    )
    kw = {"mode": "any-order"}
    assert [r[0] for r in table(ws2, ["a", "b?", "c"], exclude=["x:2:3"], **kw)] == [2, 1, 1]
    assert [r[0] for r in table(ws2, ["a", "b?", "c"], exclude=["x:1:2"], **kw)] == [2, 0, 0]


def test_walk_limits_and_messages(mk) -> None:
    ws = mk([at("c1", 0, "a", "e1")])
    with pytest.raises(InvalidSpec, match="at least one step must be required"):
        funnel(ws, ["a?", "b?"], mode="any-order")
    with pytest.raises(InvalidSpec, match="at most 62 steps"):
        build_spec([f"t{i}" for i in range(63)], mode="any-order", min_gaps={2: "1s"})
    assert build_spec([f"t{i}" for i in range(63)], mode="any-order").n == 63  # plain: no limit
    with pytest.raises(InvalidSpec, match="'a' is also in step 1; in any-order mode"):
        funnel(ws, ["a", "a|b"], mode="any-order", optional=[2])


def test_definitions_say_what_was_counted(mk) -> None:
    ws = mk([at("c1", 0, "a", "e1"), at("c1", 1, "b", "e2"), at("c1", 2, "x", "e3")])
    r = funnel(ws, ["a", "b"], mode="any-order", exclude=["x:1:2"], step_windows={2: "1h"})
    assert r.definition.startswith("Any-order funnel with options: a span lasts 30d")
    assert "between the events that reached levels 1 and 2" in r.definition
    assert "Step 2 must come within 1.0h" in r.definition
    r = funnel(ws, ["a", "b"], mode="any-order", lang="nl")
    assert r.definition.startswith("Funnel in willekeurige volgorde: een klant bereikt stap k")
    r = funnel(ws, ["a", "b"], skew="90s", lang="nl")
    assert "Tijdsmarge 1.5m: een volgende stap mag ook een event tot 1.5m vóór" in r.definition
    assert r.params["skew_seconds"] == 90


def test_breakdown_by_the_channel_of_the_span_start(mk) -> None:
    ws = mk(
        [at("c1", 0, "b", "e1", channel="store"), at("c1", H, "a", "e2", channel="web")],
        [at("c2", 0, "a", "e3", channel="web")],
    )
    t = funnel(ws, ["a", "b"], mode="any-order", step_windows={1: "2h"}, by="channel").table
    # c1's furthest span starts at b (in the store); c2 only did a (on the web)
    assert t[["channel", "step", "customers"]].values.tolist() == [
        ["store", 1, 1],
        ["store", 2, 1],
        ["web", 1, 1],
        ["web", 2, 0],
    ]
