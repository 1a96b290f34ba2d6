"""NPS, CSAT, CES, emotion, the gap and ambassadors: hand-made cases and a reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.experience import ambassadors, experience
from klantreis.analytics.gap import gap
from klantreis.errors import InvalidSpec
from tests.analytics.loyalty.conftest import ev, fb, reset

TEN = [10, 10, 10, 9, 9, 8, 7, 6, 3, 0]


def test_nps_of_ten_answers_by_hand(ws):
    reset(ws, feedback=[fb(f"c{i}", "buy", "nps", s) for i, s in enumerate(TEN)])
    result = experience(ws)
    row = result.table.iloc[0]
    assert list(result.table.columns)[:5] == ["key", "responses", "score", "low", "high"]
    assert (row.key, row.responses, row.promoters, row.passives, row.detractors) == (
        "buy",
        10,
        5,
        2,
        3,
    )
    assert row.score == pytest.approx(20.0)  # 50% - 30%
    assert (round(row.low, 3), round(row.high, 3)) == (-34.032, 74.032)
    assert bool(row.mapped)
    assert "(p + d - (p - d)^2) / n" in result.definition


def test_grouping_and_unmapped(ws):
    reset(
        ws,
        feedback=[
            fb("a", "buy", "nps", 10),
            fb("b", "site", "nps", 0, "2026-02-01T10:00:00Z"),
            fb("c", "zz", "nps", 9),
            fb("d", None, "nps", 8),
            fb("a", "buy", "nps", 11),  # outside 0-10: left out
        ],
        customers=[{"customer_id": "a", "segment": "budget", "persona": "pro"}],
    )
    by_tp = experience(ws).table.set_index("key")
    assert by_tp.loc["zz", "mapped"] == False  # noqa: E712 - numpy bool
    assert by_tp.loc["(none)", "responses"] == 1
    assert by_tp.loc["buy", "responses"] == 1
    phase = experience(ws, by="phase").table.set_index("key").score.to_dict()
    assert phase == {"(unmapped)": 50.0, "consideration": -100.0, "purchase": 100.0}
    seg = experience(ws, by="segment").table.set_index("key").responses.to_dict()
    assert seg == {"(none)": 3, "budget": 1}
    month = experience(ws, by="month").table.set_index("key").responses.to_dict()
    assert month == {"2026-01": 3, "2026-02": 1}
    assert experience(ws, by="all").table.score.tolist() == [25.0]  # 2 of 4 minus 1 of 4


def test_csat_ces_emotion(ws):
    reset(
        ws,
        feedback=[
            *[fb(f"c{i}", "buy", "csat", s) for i, s in enumerate([5, 4, 4, 3, 1])],
            *[fb(f"c{i}", "buy", "ces", s) for i, s in enumerate([2, 4])],
            *[fb(f"c{i}", "site", "emotion", s) for i, s in enumerate([1, 3, 5, 3])],
        ],
    )
    csat = experience(ws, "csat").table.iloc[0]
    assert (csat.responses, csat.satisfied, csat.score) == (5, 3, 60.0)
    assert (round(csat.low, 2), round(csat.high, 2)) == (23.07, 88.24)  # Wilson 3/5
    ces = experience(ws, "ces").table.iloc[0]
    assert ces.score == 3.0
    assert ces.low == pytest.approx(3 - 12.7062047 * math.sqrt(2) / math.sqrt(2), abs=1e-5)
    emo = experience(ws, "emotion").table.iloc[0]
    assert (emo.key, emo.score) == ("site", 3.0)


def test_invalid(ws):
    with pytest.raises(InvalidSpec, match="metric"):
        experience(ws, "happiness")
    with pytest.raises(InvalidSpec, match="allowed: touchpoint, phase"):
        experience(ws, by="colour")


def _nps(scores):
    n = len(scores)
    p = sum(s >= 9 for s in scores) / n
    d = sum(s <= 6 for s in scores) / n
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    score = 100 * (p - d)
    return score, max(-100, score - 1.959964 * se), min(100, score + 1.959964 * se)


@settings(max_examples=10, deadline=None)
@given(
    answers=st.lists(
        st.tuples(st.sampled_from(["buy", "site", "zz"]), st.integers(-1, 11)), max_size=30
    )
)
def test_nps_matches_brute_force(ws, answers):
    reset(ws, feedback=[fb(f"c{i}", tp, "nps", s) for i, (tp, s) in enumerate(answers)])
    table = experience(ws).table.set_index("key")
    groups: dict[str, list[int]] = {}
    for tp, s in answers:
        if 0 <= s <= 10:
            groups.setdefault(tp, []).append(s)
    assert set(table.index) == set(groups)
    for tp, scores in groups.items():
        score, low, high = _nps(scores)
        assert table.loc[tp, "responses"] == len(scores)
        assert table.loc[tp, "score"] == pytest.approx(score)
        assert table.loc[tp, "low"] == pytest.approx(low, abs=1e-4)
        assert table.loc[tp, "high"] == pytest.approx(high, abs=1e-4)


def test_gap_ranked_by_gap_times_customers(ws):
    reset(
        ws,
        events=[ev(c, "2026-01-01T10:00:00Z", "support") for c in "abc"]
        + [ev(c, "2026-01-01T10:00:00Z", "site") for c in "ab"]
        + [ev("a", "2026-01-01T10:00:00Z", "zz")],
        feedback=[fb("a", "site", "emotion", 2), fb("b", "site", "emotion", 3)],
    )
    table = gap(ws).table
    top = table.iloc[0]
    # support: designed 2, desired 4, nothing measured -> gap 2 x 3 customers = 6
    assert (top.touchpoint, top.gap, top.customers, top.priority, top.basis) == (
        "support",
        2.0,
        3,
        6.0,
        "designed",
    )
    site = table.set_index("touchpoint").loc["site"]
    assert (site.measured, site.designed, site.desired, site.gap, site.priority) == (
        2.5,
        3.0,
        4.0,
        1.5,
        3.0,
    )
    zz = table.set_index("touchpoint").loc["zz"]
    assert not zz.mapped and zz.customers == 1 and math.isnan(zz.gap)


def test_gap_rescales_csat_and_nps(ws):
    reset(
        ws,
        feedback=[
            fb("a", "site", "csat", 5),
            fb("b", "site", "csat", 3),
            fb("a", "buy", "nps", 10),
        ],
    )
    site = gap(ws, "csat").table.set_index("touchpoint").loc["site"]
    assert site.measured == 4.0  # mean 4 on 1-5 -> 1 + 3/4 * 4
    buy = gap(ws, "nps").table.set_index("touchpoint").loc["buy"]
    assert buy.measured == 5.0  # NPS 100 -> top of the scale
    with pytest.raises(InvalidSpec, match="metric"):
        gap(ws, "ces")


def test_ambassadors_prompted_and_spontaneous(ws):
    reset(
        ws,
        events=[
            ev("a", "2026-01-07T10:00:00Z", "review_request", event_id="e1"),
            ev("a", "2026-01-08T10:00:00Z", "refer", event_id="e2"),  # prompted
            ev("b", "2026-01-02T10:00:00Z", "refer", event_id="e3"),  # spontaneous
            ev("b", "2026-01-05T10:00:00Z", "review_request", event_id="e4"),  # after: no
            ev("c", "2026-01-01T10:00:00Z", "review_request", event_id="e5"),
            ev("c", "2026-03-01T10:00:00Z", "refer", event_id="e6"),  # 59 days: spontaneous
            ev("d", "2026-01-01T10:00:00Z", "refer", event_id="e7"),  # not a promoter
        ],
        feedback=[
            fb("a", "buy", "nps", 10),
            fb("b", "buy", "nps", 9),
            fb("c", "buy", "nps", 9),
            fb("d", "buy", "nps", 10),
            fb("d", "buy", "nps", 6, "2026-02-01T10:00:00Z"),  # latest answer counts
            fb("e", "buy", "nps", 10),  # promoter, no referral
        ],
    )
    result = ambassadors(ws)
    assert result.table[["kind", "customers"]].values.tolist() == [
        ["promoters", 4],
        ["ambassadors", 3],
        ["prompted", 1],
        ["spontaneous", 2],
    ]
    assert result.params["requests"] == ["review_request"]
    assert result.table.share.tolist() == [1.0, 0.75, 0.25, 0.5]
    longer = ambassadors(ws, window="60d").table.customers.tolist()
    assert longer == [4, 3, 2, 1]
