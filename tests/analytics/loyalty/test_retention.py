"""Cohort retention: a five-customer table by hand, and a brute-force reference."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics.retention import retention
from klantreis.errors import InvalidSpec, UnknownKey
from tests.analytics.loyalty.conftest import ev, event_logs, reset

AMS = ZoneInfo("Europe/Amsterdam")

FIVE = [
    ev("c1", "2026-01-10T10:00:00Z"),
    ev("c1", "2026-02-15T10:00:00Z"),
    ev("c1", "2026-04-01T10:00:00Z", "buy"),
    ev("c2", "2026-01-20T10:00:00Z"),
    ev("c2", "2026-03-05T10:00:00Z", "buy"),
    ev("c3", "2026-01-31T23:30:00Z"),  # 1 February in Amsterdam
    ev("c3", "2026-02-10T10:00:00Z"),
    ev("c4", "2026-02-03T10:00:00Z", "buy"),
    ev("c4", "2026-03-03T10:00:00Z"),
    ev("c5", "2026-03-15T10:00:00Z"),
]


def rows(result):
    t = result.table
    return [
        (str(c), p, n, r) for c, p, n, r in t[["cohort", "period", "customers", "retained"]].values
    ]


def test_five_customers_month_on(ws):
    reset(ws, events=FIVE)
    result = retention(ws)
    assert list(result.table.columns) == ["cohort", "period", "customers", "retained", "share"]
    assert rows(result) == [
        ("2026-01-01", 0, 2, 2),
        ("2026-01-01", 1, 2, 1),
        ("2026-01-01", 2, 2, 1),
        ("2026-01-01", 3, 2, 1),
        ("2026-02-01", 0, 2, 2),
        ("2026-02-01", 1, 2, 1),
        ("2026-02-01", 2, 2, 0),
        ("2026-03-01", 0, 1, 1),
        ("2026-03-01", 1, 1, 0),
    ]
    assert result.table.share.tolist()[:4] == [1.0, 0.5, 0.5, 0.5]
    assert "period 0 is the cohort itself" in result.definition


def test_five_customers_on_or_after(ws):
    reset(ws, events=FIVE)
    assert [r[3] for r in rows(retention(ws, mode="on or after"))] == [2, 2, 2, 1, 2, 1, 0, 1, 0]
    assert retention(ws, mode="on_or_after").params["mode"] == "on or after"


def test_start_and_returning_touchpoints(ws):
    reset(ws, events=FIVE)
    # cohorts by first 'buy': c4 Feb, c2 Mar, c1 Apr; return = any event
    assert rows(retention(ws, start="buy")) == [
        ("2026-02-01", 0, 1, 1),
        ("2026-02-01", 1, 1, 1),
        ("2026-02-01", 2, 1, 0),
        ("2026-03-01", 0, 1, 1),
        ("2026-03-01", 1, 1, 0),
        ("2026-04-01", 0, 1, 1),
    ]
    # return only at 'buy': c1 (Jan cohort) buys in April = period 3; c2 in March = period 2
    got = rows(retention(ws, returning="buy", periods=3))
    assert got[:4] == [
        ("2026-01-01", 0, 2, 2),
        ("2026-01-01", 1, 2, 0),
        ("2026-01-01", 2, 2, 1),
        ("2026-01-01", 3, 2, 1),
    ]


def test_week_and_day_periods(ws):
    reset(ws, events=FIVE[:3])
    week = retention(ws, period="week", periods=2)
    assert [str(c) for c in week.table.cohort.unique()] == ["2026-01-05"]  # Monday
    day = retention(ws, period="day", periods=40)
    assert day.table.retained.tolist()[36] == 1  # 15 Feb is 36 days after 10 Jan
    assert len(day.table) == 41


def test_errors(ws):
    reset(ws, events=FIVE)
    with pytest.raises(InvalidSpec, match="period: unknown period"):
        retention(ws, period="year")
    with pytest.raises(InvalidSpec, match="mode"):
        retention(ws, mode="before")
    with pytest.raises(UnknownKey, match="did you mean 'buy'"):
        retention(ws, start="buyy")


def test_empty(ws):
    reset(ws)
    assert len(retention(ws).table) == 0


def _local(ts: str) -> date:
    return datetime.fromisoformat(ts).astimezone(AMS).date()


def _number(d: date, period: str) -> int:
    if period == "day":
        return (d - date(1970, 1, 1)).days
    if period == "week":
        return ((d - timedelta(days=d.weekday())) - date(1969, 12, 29)).days // 7
    return d.year * 12 + d.month - 1


def reference(events, period, mode, start=None, returning=None):
    """Brute force: (cohort number, period, customers, retained) rows."""
    by_customer: dict[str, list] = {}
    for e in events:
        by_customer.setdefault(e["customer_id"], []).append(e)
    last = max((_number(_local(e["timestamp"]), period) for e in events), default=None)
    cohorts: dict[int, list[str]] = {}
    for c, evs in by_customer.items():
        starts = [e for e in evs if start is None or e["touchpoint"] == start]
        if starts:
            first = min(starts, key=lambda e: datetime.fromisoformat(e["timestamp"]))
            cohorts.setdefault(_number(_local(first["timestamp"]), period), []).append(c)
    out = []
    for cohort in sorted(cohorts):
        members = cohorts[cohort]
        for k in range(last - cohort + 1):
            if k == 0:
                out.append((cohort, 0, len(members), len(members)))
                continue
            count = 0
            for c in members:
                ks = {
                    _number(_local(e["timestamp"]), period) - cohort
                    for e in by_customer[c]
                    if returning is None or e["touchpoint"] == returning
                }
                hit = k in ks if mode == "on" else any(x >= k for x in ks)
                count += hit
            out.append((cohort, k, len(members), count))
    return out


@settings(max_examples=12, deadline=None)
@given(
    events=event_logs(),
    period=st.sampled_from(["day", "week", "month"]),
    mode=st.sampled_from(["on", "on or after"]),
    start=st.sampled_from([None, "buy"]),
    returning=st.sampled_from([None, "site"]),
)
def test_matches_brute_force(ws, events, period, mode, start, returning):
    reset(ws, events=events)
    result = retention(ws, period, start=start, returning=returning, mode=mode)
    got = [
        (_number(c, period), int(p), int(n), int(r))
        for c, p, n, r in result.table[["cohort", "period", "customers", "retained"]].values
    ]
    assert got == reference(events, period, mode, start, returning)


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        pytest.param("2026-03-28T23:30:00Z", "2026-03-29", id="winter-time-midnight"),
        pytest.param("2026-03-29T21:59:00Z", "2026-03-29", id="summer-time-before-midnight"),
        pytest.param("2026-03-29T22:00:00Z", "2026-03-30", id="summer-time-midnight"),
        pytest.param("2026-10-24T22:00:00Z", "2026-10-25", id="last-summer-midnight"),
        pytest.param("2026-10-25T22:59:00Z", "2026-10-25", id="winter-time-before-midnight"),
        pytest.param("2026-10-25T23:00:00Z", "2026-10-26", id="winter-time-midnight-2"),
    ],
)
def test_local_days_across_daylight_saving(ws, stamp, day):
    reset(
        ws,
        events=[ev("a", "2026-01-01T12:00:00Z"), ev("b", stamp), ev("c", "2026-12-31T12:00:00Z")],
    )
    cohorts = {str(c) for c in retention(ws, period="day", periods=0).table.cohort}
    assert day in cohorts


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_date_period_is_the_period_that_holds_the_date(day) -> None:
    """The Python period number (mask bounds) against period_start, its inverse, and the
    engine's day formula for weeks."""
    from klantreis.analytics.scope import date_period, period_start

    for period in ("day", "week", "month"):
        n = date_period(day, period)
        assert period_start(n, period) <= day < period_start(n + 1, period)
    assert date_period(day, "week") == ((day - date(1970, 1, 1)).days + 3) // 7
