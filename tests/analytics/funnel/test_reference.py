"""The engine against the brute-force reference on random small event logs."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

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


@st.composite
def specs(draw: st.DrawFn):
    mode = draw(st.sampled_from(["ordered", "strict", "any-order"]))
    n = draw(st.integers(1, 4))
    unit = draw(st.sampled_from(["customers", "attempts"]))
    window = draw(st.sampled_from([None, *[f"{h * 12}h" for h in range(9)]]))
    if mode == "any-order":
        pool = draw(st.permutations(TPS))
        steps = []
        i = 0
        for _ in range(n):
            k = draw(st.integers(1, 2)) if i + 1 < len(pool) else 1
            if i >= len(pool):
                break
            steps.append("|".join(pool[i : i + k]))
            i += k
        return build_spec(steps, window=window, mode=mode, unit=unit)
    steps = []
    for i in range(n):
        group = draw(st.lists(st.sampled_from(TPS), min_size=1, max_size=2, unique=True))
        optional = 0 < i < n - 1 and draw(st.booleans())
        steps.append("|".join(group) + ("?" if optional else ""))
    step_windows = {
        k: f"{draw(st.integers(0, 4)) * 12}h" for k in range(2, n + 1) if draw(st.booleans())
    }
    min_gaps = {
        k: f"{draw(st.integers(1, 3)) * 12}h" for k in range(2, n + 1) if draw(st.booleans())
    }
    exclude = []
    if n >= 2 and draw(st.booleans()):
        after = draw(st.integers(1, n - 1))
        exclude.append(f"x:{after}:{draw(st.integers(after + 1, n))}")
    return build_spec(
        steps,
        window=window,
        mode=mode,
        unit=unit,
        step_windows=step_windows,
        min_gaps=min_gaps,
        exclude=exclude,
    )


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
    ws.table("events")
    ws.con.truncate_table("events")
    insert(ws, "events", events)
    got = run(ws, spec, check=False).table
    _compare(got, reference.table(events, spec))


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=event_logs(), spec=specs())
def test_join_and_window_passes_agree(ws, events, spec) -> None:
    """Every ordered strategy gives the same attempts, whatever the spec (bounded or not)."""
    from klantreis.analytics._funnel_engine import STRATEGIES, attempts
    from klantreis.analytics._timeline import timeline

    if spec.mode != "ordered":
        return
    ws.table("events")
    ws.con.truncate_table("events")
    insert(ws, "events", events)
    cols = ["customer_id", "a_pos", "furthest", "t0"]
    cols += [f"{p}_{c}" for c in range(spec.n) for p in ("pos", "sec", "sp", "ss")]
    frames = []
    for strategy in STRATEGIES:
        with attempts(timeline(ws), spec, strategy=strategy) as att:
            df = ws.con.execute(att.select(*cols).order_by("customer_id", "a_pos"))
        frames.append(df.reset_index(drop=True))
    for other in frames[1:]:
        assert frames[0].fillna(-1).values.tolist() == other.fillna(-1).values.tolist()
