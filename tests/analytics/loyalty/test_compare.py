"""Scoped workspaces and comparisons with two-proportion tests (Holm-corrected)."""

from __future__ import annotations

import pytest

from klantreis.analytics._stats import holm, two_proportion_test
from klantreis.analytics.compare import compare, proportion_tests
from klantreis.analytics.retention import retention
from klantreis.analytics.scope import scoped
from klantreis.errors import InvalidSpec
from tests.analytics.loyalty.conftest import ev, fb, reset

CUSTOMERS = [
    {"customer_id": "a", "segment": "budget", "persona": None},  # saver by match rule
    {"customer_id": "b", "segment": "lux", "persona": "pro"},
    {"customer_id": "c", "segment": "lux", "persona": "pro"},
    {"customer_id": "d", "segment": "budget", "persona": "pro"},  # pro and saver
]
EVENTS = [
    ev("a", "2026-01-05T10:00:00Z"),
    ev("a", "2026-02-05T10:00:00Z"),
    ev("b", "2026-01-05T10:00:00Z"),
    ev("c", "2026-01-05T10:00:00Z"),
    ev("c", "2026-02-05T10:00:00Z"),
    ev("d", "2026-01-05T10:00:00Z"),
    ev("x", "2026-01-05T10:00:00Z"),  # in no group
]


def ids(table):
    return sorted(table.select("customer_id").distinct().execute().customer_id)


def test_scoped_by_column_and_match_rule(ws):
    reset(ws, events=EVENTS, customers=CUSTOMERS, feedback=[fb("b", "buy", "nps", 9)])
    pro = scoped(ws, persona="pro")
    assert ids(pro.events) == ["b", "c", "d"]
    assert ids(pro.feedback) == ["b"]
    assert ids(scoped(ws, persona="saver").events) == ["a", "d"]  # match: segment budget
    assert ids(scoped(ws, segment="lux").customers) == ["b", "c"]
    assert ids(scoped(ws, persona="pro", segment="budget").events) == ["d"]
    assert pro.journey().key == "shop" and pro.settings is ws.settings
    with pytest.raises(InvalidSpec, match="persona or a segment"):
        scoped(ws)


def test_any_analytic_runs_scoped(ws):
    reset(ws, events=EVENTS, customers=CUSTOMERS)
    table = retention(scoped(ws, segment="lux")).table
    assert table[["period", "customers", "retained"]].values.tolist() == [[0, 2, 2], [1, 2, 1]]


def test_compare_retention_by_segment(ws):
    reset(ws, events=EVENTS, customers=CUSTOMERS)
    result = compare(ws, "retention", by="segment")
    assert result.name == "compare"
    assert result.params["groups"] == ["budget", "lux"]
    assert result.table.columns[0] == "group"
    assert result.table[["group", "period", "retained"]].values.tolist() == [
        ["budget", 0, 2],
        ["budget", 1, 1],
        ["lux", 0, 2],
        ["lux", 1, 1],
    ]
    tests = result.extras["tests"]
    assert len(tests) == 1  # period 0 is 100% by construction: not tested
    row = tests.iloc[0]
    assert (row.group_a, row.group_b, row.k_a, row.n_a, row.k_b, row.n_b) == (
        "budget",
        "lux",
        1,
        2,
        1,
        2,
    )
    assert row.p == pytest.approx(1.0) and not row.significant
    assert "Holm" in result.definition


def test_compare_persona_groups_include_match_rules(ws):
    reset(ws, events=EVENTS, customers=CUSTOMERS)
    result = compare(ws, retention, by="persona")
    assert result.params["groups"] == ["pro", "saver"]
    assert result.params["analytic"] == "retention"


def test_proportion_tests_holm_flags():
    import pandas as pd

    table = pd.DataFrame(
        {
            "group": ["x", "x", "y", "y"],
            "step": [1, 2, 1, 2],
            "k": [30, 50, 60, 52],
            "n": [100, 100, 100, 100],
        }
    )
    out = proportion_tests(table, ["step"], "k", "n")
    p1 = two_proportion_test(30, 100, 60, 100)[1]
    p2 = two_proportion_test(50, 100, 52, 100)[1]
    assert out.p.tolist() == pytest.approx([p1, p2])
    assert out.p_holm.tolist() == pytest.approx(holm([p1, p2]))
    assert out.significant.tolist() == [True, False]
    assert out["diff"].tolist() == pytest.approx([0.3, 0.02])


def test_first_row_denominator_like_a_funnel():
    import pandas as pd

    table = pd.DataFrame(
        {"group": ["x", "x", "y", "y"], "step": [0, 1, 0, 1], "customers": [100, 40, 200, 60]}
    )
    out = proportion_tests(table, ["step"], "customers", "first")
    assert out[["step", "k_a", "n_a", "k_b", "n_b"]].values.tolist() == [[1, 40, 100, 60, 200]]


def test_compare_errors(ws):
    reset(ws, events=EVENTS, customers=CUSTOMERS)
    with pytest.raises(InvalidSpec, match="by"):
        compare(ws, "retention", by="colour")
    with pytest.raises(InvalidSpec, match="unknown analytic"):
        compare(ws, "horoscope", by="segment")
    with pytest.raises(InvalidSpec, match="two or more"):
        compare(ws, "retention", by="segment", groups=["lux"])
    with pytest.raises(InvalidSpec, match="rate: column not in the result"):
        compare(ws, "retention", by="segment", rate=("bought", "customers"))


def test_compare_funnel_per_step(ws):
    pytest.importorskip("klantreis.analytics.funnel")
    events, customers = [], []
    # budget: 4 start, 3 buy; lux: 4 start, 1 buys
    for i, (segment, buys) in enumerate(
        [("budget", 1)] * 3 + [("budget", 0)] + [("lux", 1)] + [("lux", 0)] * 3
    ):
        c = f"c{i}"
        customers.append({"customer_id": c, "segment": segment})
        events.append(ev(c, "2026-01-01T10:00:00Z", "ad"))
        if buys:
            events.append(ev(c, "2026-01-02T10:00:00Z", "buy"))
    reset(ws, events=events, customers=customers)
    result = compare(ws, "funnel", by="segment", steps=["ad", "buy"])
    assert result.table[["group", "step", "customers"]].values.tolist() == [
        ["budget", 1, 4],
        ["budget", 2, 3],
        ["lux", 1, 4],
        ["lux", 2, 1],
    ]
    row = result.extras["tests"].iloc[0]
    assert (row.step, row.k_a, row.n_a, row.k_b, row.n_b) == (2, 3, 4, 1, 4)
    assert row.p == pytest.approx(two_proportion_test(3, 4, 1, 4)[1])
