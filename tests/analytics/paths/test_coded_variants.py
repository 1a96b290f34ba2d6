"""Path variants by coded paths (paths.coded_variants_expr): small code sizes force the
second integer and the tail list, checked against the brute-force reference."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics._timeline import timeline
from klantreis.analytics.paths import _decode_variants, code_bits, coded_variants_expr, paths
from tests.analytics.paths import reference
from tests.analytics.paths.helpers import replace_rows
from tests.analytics.paths.strategies import event_logs


def _rows(df):
    return [
        (
            None,
            int(r.rank),
            r.path,
            None if pd.isna(r.steps) else int(r.steps),
            int(r.customers),
            int(r.converted_customers),
            int(r.variants),
        )
        for r in df.itertuples(index=False)
    ]


def _coded(ws, conversion, top, digits):
    tl = timeline(ws)
    touchpoints = sorted(ws.con.execute(tl.select("touchpoint").distinct())["touchpoint"])
    rows = ws.con.execute(coded_variants_expr(tl, conversion, top, touchpoints, digits))
    return _decode_variants(rows, top, touchpoints, digits)


@settings(max_examples=25, deadline=None)
@given(
    events=event_logs(),
    top=st.integers(1, 4),
    digits=st.integers(1, 3),
    conversion=st.sampled_from([[], ["buy"], ["site"], ["buy", "review"]]),
)
def test_small_codes_match_reference(ws, events, top, digits, conversion):
    replace_rows(ws, "events", events)
    got = _rows(_coded(ws, conversion, top, digits))
    assert got == reference.variants(events, conversion, top)


def ev(customer, i, tp):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-01T{i // 60:02d}:{i % 60:02d}:00Z",
        "touchpoint": tp,
        "event_id": f"{customer}-{i:03d}",
    }


def test_long_paths_use_the_tail(ws):
    """Paths longer than two integers' worth of codes: 45 steps, cut at a conversion."""
    cycle = ["ad", "site", "compare", "use", "review", "zz-unmapped"]  # 6 codes: 3 bits
    long = [cycle[(i * 7 + i // 5) % 6] for i in range(45)]
    events = [ev("c1", i, tp) for i, tp in enumerate(long)]
    events += [ev("c2", i, tp) for i, tp in enumerate(long)]
    events += [ev("c3", i, tp) for i, tp in enumerate([*long[:43], "buy", "ad"])]
    events += [ev("c4", i, tp) for i, tp in enumerate([*long[:42], "site", "buy"])]
    replace_rows(ws, "events", events)
    assert code_bits([*cycle, "buy"]) == 3  # 20 codes an integer: steps 40 on in the tail
    table = paths(ws, top=5).table
    got = [(r.path, int(r.steps), r.customers, r.converted_customers) for r in table.itertuples()]
    assert got == [
        (" > ".join(long), 45, 2, 0),
        (" > ".join(long[:43]), 43, 1, 1),
        (" > ".join([*long[:42], "site"]), 43, 1, 1),
    ]
    assert got == [(p, s, n, k) for _, _, p, s, n, k, _ in reference.variants(events, ["buy"], 5)]


@pytest.mark.parametrize(
    ("events", "want"),
    [
        pytest.param([], [], id="no-events"),
        pytest.param([ev("a", 0, "buy")], [(1, "(none)", 0, 1, 1)], id="converted-at-once"),
        pytest.param(
            [ev("a", 0, "ad"), ev("b", 0, "ad"), ev("c", 0, "site")],
            [(1, "ad", 1, 2, 0), (2, "(other)", None, 1, 0)],
            id="other-row",
        ),
        pytest.param(
            [ev("a", 0, "site"), ev("b", 0, "ad"), ev("c", 0, "compare")],
            [(1, "ad", 1, 1, 0), (2, "(other)", None, 2, 0)],
            id="ties-by-text",
        ),
    ],
)
def test_hand_made(ws, events, want):
    replace_rows(ws, "events", events)
    table = paths(ws, top=1).table
    got = [
        (
            int(r.rank),
            r.path,
            None if pd.isna(r.steps) else int(r.steps),
            int(r.customers),
            int(r.converted_customers),
        )
        for r in table.itertuples(index=False)
    ]
    assert got == want
