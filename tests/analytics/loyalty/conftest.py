"""Shared fixtures: one workspace per module whose tables are replaced per example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st

from klantreis.store import open_workspace
from tests.analytics.loyalty._journey import use_journey
from tests.support import insert, make_workspace

TOUCHPOINTS = ["ad", "site", "buy", "support", "review_request", "refer", "cancel", "zz"]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def reset(ws, *, events=(), feedback=(), customers=()):
    """Replace the workspace's events, feedback and customers with the given rows."""
    for table, rows in (("events", events), ("feedback", feedback), ("customers", customers)):
        ws.table(table)
        ws.con.raw_sql(f"DELETE FROM {table}")  # fixed table names, no user input
        insert(ws, table, list(rows))  # also drops the derived tables
    return ws


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loyalty") / "ws"
    use_journey(make_workspace(folder)).close()
    # the store in memory: these tests replace the tables for every example
    workspace = open_workspace(folder, backend="duckdb://:memory:")
    yield workspace
    workspace.close()


def ev(customer, when, touchpoint="site", channel="web", event_id=None):
    row = {"customer_id": customer, "timestamp": when, "touchpoint": touchpoint, "channel": channel}
    if event_id is not None:
        row["event_id"] = event_id
    return row


def fb(customer, touchpoint, metric, score, when="2026-01-01T10:00:00Z"):
    return {
        "customer_id": customer,
        "timestamp": when,
        "touchpoint": touchpoint,
        "metric": metric,
        "score": score,
    }


@st.composite
def event_logs(draw, max_events=25, days=120):
    """Small random logs: (customer, minute offset, touchpoint) rows with unique ids."""
    n = draw(st.integers(0, max_events))
    rows = []
    for i in range(n):
        customer = draw(st.sampled_from(["a", "b", "c", "d", "e"]))
        minutes = draw(st.integers(0, days * 24 * 60))
        tp = draw(st.sampled_from(TOUCHPOINTS))
        when = (BASE + timedelta(minutes=minutes)).isoformat()
        rows.append(ev(customer, when, tp, draw(st.sampled_from(["web", "mail"])), f"e{i:04d}"))
    return rows
