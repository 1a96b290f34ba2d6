"""Hand-made funnel cases with expected values worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from klantreis.analytics.funnel import COLUMNS, dropoff, funnel, phase_funnel
from klantreis.errors import InvalidSpec, UnknownKey
from tests.support import make_workspace

D = 86400


def ev(customer: str, day: float, tp: str, eid: str | None = None, **kw: object) -> dict:
    ts = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=round(day * D))
    row = {"customer_id": customer, "timestamp": ts.isoformat(), "touchpoint": tp, **kw}
    if eid is not None:
        row["event_id"] = eid
    return row


def counts(ws, steps, **kw) -> list[int]:
    return funnel(ws, steps, **kw).table["customers"].tolist()


@pytest.fixture
def mk(tmp_path: Path):
    made = []

    def make(*groups, **kw):
        events = [e for group in groups for e in group]
        ws = make_workspace(tmp_path / f"ws{len(made)}", events=events, **kw)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.close()


def test_ties_are_broken_by_event_id(mk) -> None:
    # same second: b has the smaller event_id, so it comes first
    ws = mk([ev("c1", 0, "a", "e2"), ev("c1", 0, "b", "e1")])
    assert counts(ws, ["a", "b"]) == [1, 0]
    assert counts(ws, ["b", "a"]) == [1, 1]
    assert counts(ws, ["a", "b"], mode="any-order") == [1, 1]


def test_repeated_steps_use_one_event_per_step(mk) -> None:
    ws = mk([ev("c1", 0, "a"), ev("c1", 1, "a"), ev("c1", 2, "b")])
    assert counts(ws, ["a", "a", "b"]) == [1, 1, 1]
    assert counts(ws, ["a", "a", "a"]) == [1, 1, 0]
    assert counts(ws, ["a", "b"], unit="attempts") == [2, 2]
    assert counts(ws, ["a", "b"], mode="strict") == [1, 1]  # from the second a
    assert counts(ws, ["a", "b"], mode="strict", unit="attempts") == [2, 1]


def test_window_boundary_is_inclusive(mk) -> None:
    ws = mk([ev("c1", 0, "a"), ev("c1", 30, "b")], [ev("c2", 0, "a"), ev("c2", 30 + 1 / D, "b")])
    t = funnel(ws, ["a", "b"], window="30d").table
    assert t["customers"].tolist() == [2, 1]
    assert t["median_seconds_from_previous"].tolist()[1] == 30 * D
    assert counts(ws, ["a", "b"], window="30d", mode="any-order") == [2, 1]
    assert counts(ws, ["a", "b"], window=None) == [2, 2]


def test_later_attempt_that_gets_further_counts(mk) -> None:
    ws = mk([ev("c1", 0, "a"), ev("c1", 40, "b"), ev("c1", 41, "a"), ev("c1", 42, "b")])
    t = funnel(ws, ["a", "b"], window="30d").table
    assert t["customers"].tolist() == [1, 1]
    # times come from the attempt that got furthest (the second)
    assert t["median_seconds_from_previous"].tolist()[1] == D


def test_exclusions(mk) -> None:
    ws = mk(
        [ev("c1", 0, "a"), ev("c1", 1, "x"), ev("c1", 2, "b"), ev("c1", 3, "c")],
        [ev("c2", 0, "a"), ev("c2", 1, "b"), ev("c2", 2, "x"), ev("c2", 3, "c")],
        [ev("c3", 0, "a"), ev("c3", 1, "b"), ev("c3", 2, "c"), ev("c3", 3, "x")],
    )
    assert counts(ws, ["a", "b", "c"]) == [3, 3, 3]
    assert counts(ws, ["a", "b", "c"], exclude=["x:1:2"]) == [3, 2, 2]
    assert counts(ws, ["a", "b", "c"], exclude=["x:2:3"]) == [3, 3, 2]
    assert counts(ws, ["a", "b", "c"], exclude=["x"]) == [3, 1, 1]
    with pytest.raises(InvalidSpec, match="also a step"):
        funnel(ws, ["a", "b"], exclude=["b:1:2"])


def test_optional_steps(mk) -> None:
    ws = mk(
        [ev("c1", 0, "a"), ev("c1", 1, "c")],
        [ev("c2", 0, "a"), ev("c2", 1, "b"), ev("c2", 2, "c")],
        [ev("c3", 0, "a"), ev("c3", 1, "b")],
    )
    t = funnel(ws, ["a", "b?", "c"]).table
    assert t["customers"].tolist() == [3, 3, 2]
    # from previous matched step: c1 a->c 1 day, c2 b->c 1 day; only c2, c3 did b
    assert t["median_seconds_from_previous"].tolist()[1:] == [D, D]
    assert t["median_seconds_from_start"].tolist() == [0, D, 1.5 * D]
    assert counts(ws, ["a", "b", "c"]) == [3, 2, 1]


def test_step_windows_and_min_gaps(mk) -> None:
    ws = mk([ev("c1", 0, "a"), ev("c1", 0.5, "b"), ev("c1", 3, "b"), ev("c1", 4, "c")])
    assert counts(ws, ["a", "b", "c"], step_windows={3: "1d"}) == [1, 1, 0]
    assert counts(ws, ["a", "b", "c"], min_gaps={2: "2d"}, step_windows={3: "1d"}) == [1, 1, 1]
    assert counts(ws, ["a", "b", "c"], step_windows={2: "12h"}) == [1, 1, 1]
    assert counts(ws, ["a", "b", "c"], step_windows={2: "11h"}) == [1, 0, 0]


def test_strict_and_any_order(mk) -> None:
    ws = mk(
        [ev("c1", 0, "a"), ev("c1", 1, "z"), ev("c1", 2, "b")],
        [ev("c2", 0, "a"), ev("c2", 1, "b")],
        [ev("c3", 0, "b"), ev("c3", 1, "a")],
    )
    assert counts(ws, ["a", "b"], mode="strict") == [3, 1]
    assert counts(ws, ["a", "b"], mode="ordered") == [3, 2]
    assert counts(ws, ["a", "b"], mode="any-order") == [3, 3]
    assert counts(ws, ["a|b", "z"], mode="any-order") == [3, 1]


def test_one_event_customers_and_empty_tables(mk) -> None:
    ws = mk([ev("c1", 0, "a"), ev("c2", 0, "b")])
    t = funnel(ws, ["a", "b"]).table
    assert list(t.columns) == COLUMNS
    assert t["customers"].tolist() == [1, 0]
    assert t["dropped"].tolist() == [0, 1]
    empty = mk([])
    t = funnel(empty, ["a", "b"]).table
    assert t["customers"].tolist() == [0, 0]
    assert all(math.isnan(v) for v in t["conversion_from_start"])


def test_or_groups_and_conversions(mk) -> None:
    ws = mk(
        [ev("c1", 0, "home"), ev("c1", 1, "web_checkout")],
        [ev("c2", 0, "home"), ev("c2", 1, "store_checkout")],
        [ev("c3", 0, "home")],
        [ev("c4", 0, "home")],
    )
    t = funnel(ws, ["home", "web_checkout|store_checkout"]).table
    row = t.iloc[1].to_dict()
    assert row["name"] == "web_checkout|store_checkout"
    assert row["customers"] == 2 and row["dropped"] == 2
    assert row["conversion_from_start"] == 0.5 and row["conversion_from_previous"] == 0.5


def test_breakdowns(mk) -> None:
    ws = mk(
        [ev("c1", 0, "a", channel="web"), ev("c1", 1, "b")],
        [ev("c2", 0, "a", channel="store")],
        [ev("c3", 9, "a", channel="web", properties='{"campaign": "x"}'), ev("c3", 10, "b")],
        customers=[
            {"customer_id": "c1", "segment": "gold", "attributes": '{"tier": 1}'},
            {"customer_id": "c2", "segment": "gold"},
        ],
    )
    t = funnel(ws, ["a", "b"], by="segment").table
    assert list(t.columns) == ["segment", *COLUMNS]
    assert t[["segment", "step", "customers"]].values.tolist() == [
        ["gold", 1, 2],
        ["gold", 2, 1],
        ["(none)", 1, 1],
        ["(none)", 2, 1],
    ]
    t = funnel(ws, ["a", "b"], by="channel").table
    assert t[["channel", "customers"]].values.tolist() == [
        ["store", 1],
        ["store", 0],
        ["web", 2],
        ["web", 2],
    ]
    t = funnel(ws, ["a", "b"], by="week").table
    assert t[["week", "customers"]].values.tolist() == [
        ["2024-12-30", 2],
        ["2024-12-30", 1],
        ["2025-01-06", 1],
        ["2025-01-06", 1],
    ]
    t = funnel(ws, ["a", "b"], by="property.campaign").table
    assert t[["property.campaign", "customers"]].values.tolist() == [
        ["x", 1],
        ["x", 1],
        ["(none)", 2],
        ["(none)", 1],
    ]
    t = funnel(ws, ["a", "b"], by="attribute.tier").table
    assert t[["attribute.tier", "customers"]].values.tolist() == [
        ["1", 1],
        ["1", 1],
        ["(none)", 2],
        ["(none)", 1],
    ]


def test_dropoff(mk) -> None:
    ws = mk(
        [ev("c1", 0, "a"), ev("c1", 1, "b"), ev("c1", 2, "c")],
        [ev("c2", 0, "a"), ev("c2", 1, "b"), ev("c2", 2, "faq"), ev("c2", 3, "contact")],
        [ev("c3", 0, "a"), ev("c3", 1, "b"), ev("c3", 2, "faq"), ev("c3", 40, "c")],
        [ev("c4", 0, "a"), ev("c4", 1, "b")],
    )
    r = dropoff(ws, ["a", "b", "c"], at=2, window="30d")
    assert r.extras["customers"].fillna("-").values.tolist() == [
        ["c2", "contact", "faq"],
        ["c3", "faq", "faq"],
        ["c4", "b", "-"],
    ]
    assert r.table.values.tolist() == [
        ["last", "b", 1, 1 / 3],
        ["last", "contact", 1, 1 / 3],
        ["last", "faq", 1, 1 / 3],
        ["instead", "faq", 2, 2 / 3],
    ]
    assert "Drop-off after step 2" in r.definition
    fig = r.figure()
    assert [trace.type for trace in fig.data] == ["bar", "bar"]
    with pytest.raises(InvalidSpec, match="at"):
        dropoff(ws, ["a", "b"], at=2)


def test_phase_funnel(tmp_path: Path) -> None:
    ws = make_workspace(
        tmp_path / "ws",
        template="fitness",
        events=[
            ev("c1", 0, "friends"),
            ev("c1", 1, "website"),
            ev("c1", 2, "contract_signed"),
            ev("c2", 0, "need_triggered"),
            ev("c2", 1, "tour"),
            ev("c3", 0, "website"),
        ],
    )
    r = phase_funnel(ws, window="30d")
    assert r.table["name"].tolist() == [
        "Awareness",
        "Consideration",
        "Purchase",
        "Service",
        "Loyalty",
    ]
    assert r.table["customers"].tolist() == [2, 2, 1, 0, 0]
    ws.close()


def test_result_definition_figure_and_errors(mk) -> None:
    ws = mk([ev("c1", 0, "home"), ev("c1", 1, "cart"), ev("c2", 0, "x")])
    r = funnel(ws, ["home", "cart?", "cart"], window="7d", exclude=["x:1:2"], lang="nl")
    assert "Geordende funnel" in r.definition and "7.0d" in r.definition
    assert "Optionele stappen" in r.definition
    assert r.params["mode"] == "ordered" and r.params["window_seconds"] == 7 * D
    fig = r.figure()
    assert fig.data[0].type == "funnel" and list(fig.data[0].x) == [1, 1, 0]
    assert "<table" in r._repr_html_()
    with pytest.raises(UnknownKey) as err:
        funnel(ws, ["home", "crat"])
    assert err.value.hint == "did you mean 'cart'?"
    with pytest.raises(InvalidSpec, match="mode"):
        funnel(ws, ["home"], mode="sideways")
    with pytest.raises(InvalidSpec, match="first and the last step cannot be optional"):
        funnel(ws, ["home", "cart?"])
    with pytest.raises(InvalidSpec, match=r"skew: applies to ordered funnels only \(strict means"):
        funnel(ws, ["home", "cart"], skew="5s", mode="strict")
    with pytest.raises(InvalidSpec, match=r"skew: applies to ordered funnels only \(any-order"):
        funnel(ws, ["home", "cart"], skew="5s", mode="any-order")
    with pytest.raises(InvalidSpec, match="'cart' is also in step 2; with a skew tolerance"):
        funnel(ws, ["home", "cart", "x|cart"], skew="5s")


def test_scoped_workspace_counts_only_its_customers(mk) -> None:
    from klantreis.analytics.scope import scoped

    ws = mk(
        [ev("c1", 0, "a", channel="web"), ev("c1", 1, "b")],
        [ev("c2", 0, "a", properties='{"campaign": "x"}'), ev("c2", 1, "b"), ev("c2", 2, "c")],
        [ev("c3", 0, "a"), ev("c3", 1, "c")],
        customers=[
            {"customer_id": "c1", "segment": "gold"},
            {"customer_id": "c2", "segment": "gold"},
            {"customer_id": "c3", "segment": "silver"},
        ],
    )
    gold = scoped(ws, segment="gold")
    assert counts(gold, ["a", "b", "c"]) == [2, 2, 1]
    assert counts(gold, ["a", "b", "c"], mode="strict") == [2, 2, 1]
    assert counts(gold, ["a", "c"], mode="any-order") == [2, 1]
    assert counts(scoped(ws, segment="silver"), ["a", "b", "c"]) == [1, 0, 0]
    t = funnel(gold, ["a", "b"], by="property.campaign").table
    assert t[["property.campaign", "customers"]].values.tolist() == [
        ["x", 1],
        ["x", 1],
        ["(none)", 1],
        ["(none)", 1],
    ]
    r = dropoff(gold, ["a", "b", "c"], at=2)
    assert r.extras["customers"]["customer_id"].tolist() == ["c1"]


def at(customer: str, seconds: float, tp: str, eid: str, micros: int = 0, **kw: object) -> dict:
    """An event ``seconds`` (and ``micros``) after 2025-01-01 with a given event_id."""
    ts = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=micros)
    return ev(customer, 0, tp, eid, **kw) | {"timestamp": ts.isoformat()}


def _both_strategies(ws, steps, **kw) -> list[list]:
    """Units and steps matched by each ordered strategy (they must agree)."""
    from klantreis.analytics._funnel_spec import build_spec
    from tests.analytics.funnel.test_reference import matched_by_each_strategy

    return matched_by_each_strategy(ws, build_spec(steps, **kw))


def test_skew_boundary_is_inclusive_to_the_microsecond(mk) -> None:
    ws = mk(
        [at("c1", 10, "a", "e1"), at("c1", 5, "b", "e2")],  # b exactly 5 s before a
        [at("c2", 10, "a", "e1"), at("c2", 4, "b", "e2", micros=999_999)],  # 5 s + 1 µs
    )
    for window in ("1d", None):  # join and window strategy by default
        t = funnel(ws, ["a", "b"], skew="5s", window=window).table
        assert t["customers"].tolist() == [2, 1]
        assert t["median_seconds_from_previous"].tolist()[1] == -5.0  # times may be negative
        assert t["median_seconds_from_start"].tolist()[1] == -5.0
    assert counts(ws, ["a", "b"]) == [2, 0]
    units, _ = _both_strategies(ws, ["a", "b"], skew="5s", window="1d")
    assert [u[:3] for u in units] == [["c1", 1, 1], ["c2", 1, 0]]


def test_skew_lets_the_next_step_come_first(mk) -> None:
    ws = mk(
        [at("c1", 3600, "a", "e1"), at("c1", 3599, "b", "e2")],  # a -> b, b one second before
        [at("c2", 0, "a", "e1"), at("c2", 0, "b", "e0")],  # same second, b first by event_id
        [at("c3", 0, "b", "e1"), at("c3", 100, "a", "e2")],  # b 100 s before a
    )
    assert counts(ws, ["a", "b"]) == [3, 0]
    assert counts(ws, ["a", "b"], skew="1s") == [3, 2]
    assert counts(ws, ["a", "b"], skew="100s") == [3, 3]
    t = funnel(ws, ["a", "b"], skew="1s").table
    assert t["median_seconds_from_previous"].tolist()[1] == -0.5  # c1: -1 s, c2: 0 s
    _both_strategies(ws, ["a", "b"], skew="1s", window="1d")
    _both_strategies(ws, ["a", "b"], skew="1s", window=None)


def test_skew_window_gap_and_chain(mk) -> None:
    ws = mk(
        # the window runs from step 1: c 10 s after a counts, 1 µs later not, although
        # both lie within 10 s of b (3 s before a)
        [at("c1", 100, "a", "e1"), at("c1", 97, "b", "e2"), at("c1", 110, "c", "e3")],
        [at("c2", 100, "a", "e1"), at("c2", 97, "b", "e2"), at("c2", 110, "c", "e3", 1)],
        # a chain may walk back: c 2 s before b, b 2 s before a
        [at("c3", 100, "a", "e1"), at("c3", 98, "b", "e2"), at("c3", 96, "c", "e3")],
    )
    t = funnel(ws, ["a", "b", "c"], skew="3s", window="10s").table
    assert t["customers"].tolist() == [3, 3, 2]
    assert t["median_seconds_from_start"].tolist() == [0.0, -3.0, 3.0]  # c: c1 +10 s, c3 -4 s
    # a min gap ignores the skew: b at least 1 s after a (97 s is 3 s before; none after)
    assert counts(ws, ["a", "b", "c"], skew="3s", min_gaps={2: "1s"}) == [3, 0, 0]
    # the gap of c counts from b, which the skew matched before a
    assert counts(ws, ["a", "b", "c"], skew="3s", window="10s", min_gaps={3: "13s"}) == [3, 3, 1]
    for window in ("10s", None):
        _both_strategies(ws, ["a", "b", "c"], skew="3s", window=window)
        _both_strategies(ws, ["a", "b?", "c"], skew="3s", window=window, step_windows={3: "5s"})
