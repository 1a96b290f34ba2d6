"""Ordered funnels that match one attempt per group of starts (the starts that move to the
same step-2 event) and recover each customer's earliest start: against the brute-force
reference, unit by unit, on logs where many starts share a step-2 event."""

# ruff: noqa: F811 (the fixtures `ws` and `mk` come from test_reference and test_cases)

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from klantreis.analytics._funnel_engine import (
    STRATEGIES,
    _groups_starts,
    _plain_first_move,
    attempts,
)
from klantreis.analytics._funnel_spec import build_spec
from klantreis.analytics._timeline import timeline
from klantreis.analytics.funnel import funnel, run
from tests.analytics.funnel import reference
from tests.analytics.funnel.test_cases import at, mk  # noqa: F401
from tests.analytics.funnel.test_reference import _compare, load, ws  # noqa: F401

BASE = datetime(2025, 1, 1, tzinfo=UTC)
H = 3600


@st.composite
def shared_starts(draw: st.DrawFn) -> list[dict]:
    """Per customer a run of step-1 events (a) and a few later b, c, d (and x) events on
    an hour grid, some 1 µs past the hour: many starts share the same next b, and windows
    of whole hours put deadlines exactly on (or 1 µs beside) later steps."""
    rows = []
    for c in range(draw(st.integers(1, 3))):
        hours = draw(st.lists(st.integers(0, 30), min_size=1, max_size=5))
        tps = [(h, "a") for h in hours]
        for tp in ("b", "c", "d", "x"):
            tps += [(h, tp) for h in draw(st.lists(st.integers(0, 48), max_size=2))]
        for h, tp in tps:
            micros = draw(st.sampled_from([0, 0, 1]))
            rows.append((f"c{c}", BASE + timedelta(hours=h, microseconds=micros), tp))
    ids = draw(st.permutations(range(len(rows))))
    return [
        {
            "event_id": f"e{ids[i]:03d}",
            "customer_id": cust,
            "timestamp": ts,
            "touchpoint": tp,
            "channel": "web",
        }
        for i, (cust, ts, tp) in enumerate(rows)
    ]


@st.composite
def grouped_specs(draw: st.DrawFn):
    steps = draw(
        st.sampled_from([["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"], ["a", "b|c", "d"]])
    )
    n = len(steps)
    hours = lambda lo, hi: f"{draw(st.integers(lo, hi))}h"  # noqa: E731
    kw = {
        "window": draw(st.sampled_from([None, "6h", "12h", "18h", "24h", "36h"])),
        "skew": draw(st.sampled_from(["0s", "0s", "1h", "3h"])),
        "step_windows": {k: hours(0, 24) for k in range(2, n + 1) if draw(st.booleans())},
        "min_gaps": {k: hours(1, 6) for k in range(2, n + 1) if draw(st.integers(0, 3)) == 0},
        "optional": [k for k in range(2, n) if draw(st.integers(0, 2)) == 0],
    }
    return build_spec(steps, **kw)


def _by_customer(ws, spec, strategy: str) -> dict[str, tuple]:
    """Per customer: the unit's start position, furthest step and per step (pos, sp, ss)."""
    with attempts(timeline(ws), spec, strategy=strategy) as matched:
        units = ws.con.execute(matched.units)
        steps = ws.con.execute(matched.steps)
    out = {}
    for u in units.to_dict("records"):
        mine = steps[steps.customer_id == u["customer_id"]].sort_values("step")
        assert set(mine.a_pos) == {u["a_pos"]}
        per_step = [
            (int(s["step"]), int(s["pos"]), None if s["sp"] != s["sp"] else s["sp"], s["ss"])
            for s in mine.to_dict("records")
        ]
        out[u["customer_id"]] = (int(u["a_pos"]), int(u["furthest"]), per_step)
    return out


def _reference_by_customer(events: list[dict], spec) -> dict[str, tuple]:
    """The same from the brute-force reference (its start index is among the funnel's
    events; the engine's position counts every event of the customer)."""
    per = reference._ordered_events(events)
    names = spec.touchpoints()
    out = {}
    for u in reference.units(events, spec):
        rows = per[u["customer_id"]]
        funnel_rows = [e for e in rows if e["touchpoint"] in names]
        start = rows.index(funnel_rows[u["start"]])
        steps = [(c, u["sp"][c], u["ss"][c]) for c in sorted(u["ss"])]
        out[u["customer_id"]] = (start, u["furthest"], steps)
    return out


def _assert_units_equal(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for customer, (start, furthest, steps) in want.items():
        g_start, g_furthest, g_steps = got[customer]
        assert (g_start, g_furthest) == (start, furthest), customer
        assert [s[0] for s in g_steps] == [s[0] for s in steps], customer
        for (_, _, g_sp, g_ss), (_, sp, ss) in zip(g_steps, steps, strict=True):
            assert (g_sp is None) == (sp is None), customer
            if sp is not None:
                assert g_sp == pytest.approx(sp, abs=1e-9), customer
            assert g_ss == pytest.approx(ss, abs=1e-9), customer


@settings(
    max_examples=40,  # three engine runs per example: the slowest test file otherwise
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=shared_starts(), spec=grouped_specs())
def test_grouped_units_equal_reference(ws, events, spec) -> None:
    """Each customer's unit (start, furthest, every step's times) as the reference picks
    it, by both strategies, whether the groups come from a window or from first moves."""
    load(ws, events)
    want = _reference_by_customer(events, spec)
    for strategy in STRATEGIES:
        _assert_units_equal(_by_customer(ws, spec, strategy), want)
    _compare(run(ws, spec, check=False).table, reference.table(events, spec))


def test_which_specs_group_their_starts() -> None:
    plain = build_spec(["a", "b", "c"], window="1d", step_windows={2: "1h"})
    assert _groups_starts(plain) and _plain_first_move(plain)
    for kw in ({"skew": "1s"}, {"min_gaps": {2: "1s"}}, {"optional": [2]}):
        spec = build_spec(["a", "b", "c"], window="1d", **kw)
        assert _groups_starts(spec) and not _plain_first_move(spec)
    # every attempt counts, or one attempt per customer suffices, or exclusions need all
    for kw in ({"unit": "attempts"}, {"window": None}, {"exclude": ["x:1:2"]}):
        assert not _groups_starts(build_spec(["a", "b", "c"], **({"window": "1d"} | kw)))
    assert not _groups_starts(build_spec(["a", "b", "c"], window="1d", mode="strict"))
    # a step window weighing several first moves (optional step 2) breaks the order
    spec = build_spec(["a", "b", "c"], window="1d", optional=[2], step_windows={2: "1h"})
    assert not _groups_starts(spec)


def _boundary_logs() -> list[list[dict]]:
    """Two starts (0 s, 2 s) share b at 5 s; c at exactly 10 s (the earliest start's
    deadline with W = 10 s) for c1, 1 µs later for c2."""
    return [
        [
            at(c, 0, "a", "e1"),
            at(c, 2, "a", "e2"),
            at(c, 5, "b", "e3"),
            at(c, 10, "c", "e4", micros=micros),
        ]
        for c, micros in (("c1", 0), ("c2", 1))
    ]


@pytest.mark.parametrize(
    "kw",
    [
        pytest.param({}, id="window-groups"),
        pytest.param({"skew": "1s"}, id="first-move-groups-skew"),
        pytest.param({"min_gaps": {2: "1s"}}, id="first-move-groups-gap"),
    ],
)
def test_recovered_start_at_the_deadline_to_the_microsecond(mk, kw) -> None:
    ws = mk(*_boundary_logs())
    t = funnel(ws, ["a", "b", "c"], window="10s", **kw).table
    assert t["customers"].tolist() == [2, 2, 2]
    # c1 keeps its first start (c exactly 10 s after it); c2 the second (10 s + 1 µs)
    assert t["median_seconds_from_previous"].tolist()[1] == 4.0  # 5 s and 3 s
    assert t["median_seconds_from_start"].tolist()[1:] == [4.0, pytest.approx(9.0000005)]
    for strategy in STRATEGIES:
        spec = build_spec(["a", "b", "c"], window="10s", **kw)
        got = _by_customer(ws, spec, strategy)
        assert {c: u[:2] for c, u in got.items()} == {"c1": (0, 2), "c2": (1, 2)}
        assert [s[3] for s in got["c2"][2]] == [0.0, 3.0, pytest.approx(8.000001)]


def test_recovered_start_respects_the_step_window_of_step_2(mk) -> None:
    """b may come at most 4 s after a: the first start (5 s before b) cannot make the
    move although its deadline covers c; the second (3 s) can. At 5 s, both can."""
    ws = mk(*_boundary_logs())
    units = {
        w: {
            c: u[:2]
            for c, u in _by_customer(
                ws, build_spec(["a", "b", "c"], window="10s", step_windows={2: w}), s
            ).items()
        }
        for w in ("4s", "5s")
        for s in STRATEGIES
    }
    assert units["4s"] == {"c1": (1, 2), "c2": (1, 2)}
    assert units["5s"] == {"c1": (0, 2), "c2": (1, 2)}


def test_earlier_group_that_gets_as_far_wins(mk) -> None:
    """Two groups reach c: the unit is the earliest start of the earlier group; a group
    that gets less far does not count, even when it comes first."""
    ws = mk(
        # group 1 (a 0 s, 1 s -> b 2 s) reaches c at 4 s; group 2 (a 3 s -> b 5 s) too
        [
            at("c1", t, tp, f"e{i}")
            for i, (t, tp) in enumerate(
                [(0, "a"), (1, "a"), (2, "b"), (3, "a"), (4, "c"), (5, "b"), (6, "c")]
            )
        ],
        # group 1 (a 0 s -> b 1 s) cannot reach c (9 s, W = 5 s); group 2 (a 6 s) can
        [
            at("c2", t, tp, f"e{i}")
            for i, (t, tp) in enumerate([(0, "a"), (1, "b"), (6, "a"), (7, "b"), (9, "c")])
        ],
    )
    spec = build_spec(["a", "b", "c"], window="5s")
    for strategy in STRATEGIES:
        got = _by_customer(ws, spec, strategy)
        assert {c: u[:2] for c, u in got.items()} == {"c1": (0, 2), "c2": (2, 2)}
        assert [s[3] for s in got["c2"][2]] == [0.0, 1.0, 3.0]
    assert math.isclose(
        funnel(ws, ["a", "b", "c"], window="5s").table["median_seconds_from_start"][2], 3.5
    )
