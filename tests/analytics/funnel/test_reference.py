"""The engine against the brute-force reference on random small event logs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from klantreis.analytics._funnel_spec import build_spec
from klantreis.analytics.funnel import run
from tests.analytics.funnel import reference
from tests.support import insert, make_workspace

TPS = ["a", "b", "c", "d"]
BASE = datetime(2025, 1, 1, tzinfo=UTC)
DAY = 86400


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):
    w = make_workspace(tmp_path_factory.mktemp("funnel") / "ws")
    yield w
    w.close()


def load(ws, events: list[dict]) -> None:
    """Replace the workspace's events by ``events``."""
    ws.table("events")
    ws.con.truncate_table("events")
    insert(ws, "events", events)


@st.composite
def event_logs(draw: st.DrawFn) -> list[dict]:
    n = draw(st.integers(0, 14))
    ids = draw(st.permutations(range(n)))
    rows = []
    for i in range(n):
        rows.append(
            {
                "event_id": f"e{ids[i]:03d}",
                "customer_id": f"c{draw(st.integers(0, 3))}",
                "timestamp": BASE + timedelta(hours=12 * draw(st.integers(0, 8))),
                "touchpoint": draw(st.sampled_from([*TPS, "x"])),
                "channel": draw(st.sampled_from(["web", "store"])),
            }
        )
    return rows


def _disjoint_steps(draw: st.DrawFn, n: int) -> list[str]:
    """Up to n steps that share no touchpoint (1-2 touchpoints each)."""
    pool = draw(st.permutations(TPS))
    steps, i = [], 0
    while len(steps) < n and i < len(pool):
        k = draw(st.integers(1, 2)) if i + 1 < len(pool) else 1
        steps.append("|".join(pool[i : i + k]))
        i += k
    return steps


def _options(draw: st.DrawFn, n: int, optional_ok: Any) -> dict[str, Any]:
    """Random optional steps, step windows, min gaps and an exclusion of x."""
    exclude = []
    if n >= 2 and draw(st.booleans()):
        after = draw(st.integers(1, n - 1))
        exclude.append(f"x:{after}:{draw(st.integers(after + 1, n))}")
    optional = [k for k in range(1, n + 1) if optional_ok(k) and draw(st.booleans())]
    return {
        "optional": optional[1:] if len(optional) == n else optional,
        "step_windows": {
            k: f"{draw(st.integers(0, 4)) * 12}h" for k in range(1, n + 1) if draw(st.booleans())
        },
        "min_gaps": {
            k: f"{draw(st.integers(1, 3)) * 12}h" for k in range(1, n + 1) if draw(st.booleans())
        },
        "exclude": exclude,
    }


#: skews around the 12-hour grid of the event logs: just short of, at and past a step
SKEWS = ["0s", "1s", "43199s", "12h", "36h"]


@st.composite
def specs(draw: st.DrawFn, modes: tuple[str, ...] = ("ordered", "strict", "any-order")):
    mode = draw(st.sampled_from(modes))
    n = draw(st.integers(1, 4))
    unit = draw(st.sampled_from(["customers", "attempts"]))
    window = draw(st.sampled_from([None, *[f"{h * 12}h" for h in range(9)]]))
    skew = draw(st.sampled_from(SKEWS)) if mode == "ordered" else "0s"
    if mode == "any-order" or skew != "0s":
        steps = _disjoint_steps(draw, n)
    else:
        steps = [
            "|".join(draw(st.lists(st.sampled_from(TPS), min_size=1, max_size=2, unique=True)))
            for _ in range(n)
        ]
    n = len(steps)
    options = {}
    if mode != "any-order" or draw(st.booleans()):  # any-order: plain or with options
        # any-order: any step may be optional (not all); ordered: not the first or last
        options = _options(draw, n, lambda k: mode == "any-order" or 1 < k < n)
    return build_spec(steps, window=window, mode=mode, unit=unit, skew=skew, **options)


def _compare(got, want) -> None:
    assert len(got) == len(want)
    for g, w in zip(got.to_dict("records"), want, strict=True):
        for key, value in w.items():
            have = g[key]
            if isinstance(value, float) and math.isnan(value):
                assert isinstance(have, float) and math.isnan(have), (key, g, w)
            else:
                assert have == pytest.approx(value), (key, g, w)


@settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(events=event_logs(), spec=specs())
def test_engine_equals_reference(ws, events, spec) -> None:
    load(ws, events)
    got = run(ws, spec, check=False).table
    _compare(got, reference.table(events, spec))


def matched_by_each_strategy(ws, spec) -> list[list]:
    """Units and steps matched by each strategy; asserts they agree and returns them."""
    from klantreis.analytics._funnel_engine import STRATEGIES, attempts
    from klantreis.analytics._timeline import timeline

    frames = []
    for strategy in STRATEGIES:
        with attempts(timeline(ws), spec, strategy=strategy) as matched:
            units = ws.con.execute(matched.units.order_by("customer_id", "a_pos"))
            steps = ws.con.execute(matched.steps.order_by("customer_id", "a_pos", "step"))
        frames.append([df.fillna(-1).values.tolist() for df in (units, steps)])
    assert frames[0] == frames[1]
    return frames[0]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=event_logs(), spec=specs(modes=("ordered", "any-order")))
def test_join_and_window_passes_agree(ws, events, spec) -> None:
    """Both strategies (ordered, any-order walk) match the same steps, bounded or not."""
    if spec.mode == "any-order" and not spec.walks:
        return
    load(ws, events)
    matched_by_each_strategy(ws, spec)
