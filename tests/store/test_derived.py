"""Derived tables (the timeline): built once, kept in the store, dropped by every writer."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.analytics import scoped
from klantreis.analytics._timeline import COLUMNS, timeline
from klantreis.store import open_workspace
from klantreis.store.derived import PREFIX
from tests.support import insert, make_workspace


def ev(customer, ts, tp, eid):
    return {
        "customer_id": customer,
        "timestamp": f"2025-01-01T{ts}Z",
        "touchpoint": tp,
        "event_id": eid,
    }


def derived_names(ws):
    rows = ws.con.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, $p)",
        {"p": PREFIX},
    ).fetchall()
    return sorted(r[0] for r in rows)


def rows(ws, table=None):
    table = timeline(ws) if table is None else table
    df = table.execute().sort_values(["customer_id", "pos"]).reset_index(drop=True)
    return [
        (r.customer_id, r.event_id, r.pos, r.touchpoint, r.next_touchpoint or None)
        if isinstance(r.next_touchpoint, str)
        else (r.customer_id, r.event_id, r.pos, r.touchpoint, None)
        for r in df.itertuples(index=False)
    ]


@pytest.fixture
def ws(tmp_path):
    return make_workspace(
        tmp_path / "ws",
        events=[
            ev("a", "00:00:00", "x", "e2"),
            ev("a", "00:00:00", "y", "e1"),  # same time: e1 comes first
            ev("b", "00:00:05", "x", "e3"),
        ],
    )


def test_timeline_orders_by_time_then_event_id(ws):
    assert rows(ws) == [
        ("a", "e1", 0, "y", "x"),
        ("a", "e2", 1, "x", None),
        ("b", "e3", 0, "x", None),
    ]
    df = timeline(ws).execute()
    assert list(df.columns) == list(COLUMNS)
    a1 = df[df.event_id == "e1"].iloc[0]
    assert a1.sec == pytest.approx(1735689600.0)
    assert a1.next_us - a1.us == 0


def test_kept_in_the_store_and_found_by_the_next_process(ws):
    timeline(ws)
    assert len(derived_names(ws)) == 1
    name = derived_names(ws)[0]
    ws.close()
    code = (
        "from klantreis.store import open_workspace\n"
        "from klantreis.analytics._timeline import timeline\n"
        f"ws = open_workspace({str(ws.path)!r})\n"
        "print(timeline(ws).count().execute())\n"
        "print([r[0] for r in ws.con.con.execute('SELECT table_name FROM duckdb_tables()')"
        ".fetchall() if r[0].startswith('_derived_')])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "3"
    assert out[1] == repr([name])


def test_every_writer_drops_it(ws, tmp_path):
    timeline(ws)
    insert(ws, "events", [ev("b", "00:00:01", "z", "e4")])  # same count is not relied on
    assert derived_names(ws) == []
    assert rows(ws)[2:] == [("b", "e4", 0, "z", "x"), ("b", "e3", 1, "x", None)]

    ws.link("b", "a")  # b's events join a's journey
    assert derived_names(ws) == []
    assert [r[1] for r in rows(ws)] == ["e1", "e2", "e4", "e3"]
    assert {r[0] for r in rows(ws)} == {"a"}

    ws.unlink("b")
    assert derived_names(ws) == []
    assert {r[0] for r in rows(ws)} == {"a", "b"}

    csv = tmp_path / "more.csv"
    csv.write_text("customer_id,timestamp,touchpoint\nc,2025-01-02T00:00:00Z,x\n")
    ws.ingest(csv)
    assert derived_names(ws) == []
    assert len(rows(ws)) == 5

    ws.forget("c")
    assert derived_names(ws) == []  # no copy of the erased customer survives
    assert "c" not in {r[0] for r in rows(ws)}

    ws.prune("1m")
    assert derived_names(ws) == []
    assert rows(ws) == []


def test_a_dry_run_keeps_it(ws, tmp_path):
    timeline(ws)
    before = derived_names(ws)
    csv = tmp_path / "more.csv"
    csv.write_text("customer_id,timestamp,touchpoint\nc,2025-01-02T00:00:00Z,x\n")
    ws.ingest(csv, dry_run=True)
    assert derived_names(ws) == before


def test_rebuilt_after_a_change_made_by_another_tool(ws):
    timeline(ws)
    ws.close()
    # another tool appends a row without going through klantreis: the signature changes
    ws.writer().execute(
        "INSERT INTO events (event_id, customer_id, timestamp, touchpoint, mapped) "
        "VALUES ('e9', 'z', TIMESTAMPTZ '2025-01-03 00:00:00+00', 'x', true)"
    )
    ws.close()
    ws = open_workspace(ws.path)
    assert ("z", "e9", 0, "x", None) in rows(ws)
    assert len(derived_names(ws)) == 1  # the stale one was replaced


def test_read_only_connection_builds_a_temporary_one(ws):
    """What a reader gets while another process holds the store read-write."""
    import ibis

    ws.close()
    reader = open_workspace(ws.path)
    raw = ibis.duckdb.connect(str(ws.path / "klantreis.duckdb"), read_only=True)
    reader._con, reader._read_only = raw, True
    assert [r[1] for r in rows(reader)] == ["e1", "e2", "e3"]
    temp = raw.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND starts_with(table_name, $p)",
        {"p": PREFIX},
    ).fetchone()[0]
    assert temp == 1
    reader.close()
    assert derived_names(open_workspace(ws.path)) == []  # nothing was written to the store


def test_scoped_workspace_sees_its_customers_only(ws):
    insert(ws, "customers", [{"customer_id": "a", "segment": "gold"}])
    gold = scoped(ws, segment="gold")
    assert [r[0] for r in rows(gold)] == ["a", "a"]


events_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c"]),
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["x", "y", "z"]),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(events=events_strategy)
def test_matches_a_python_sort(tmp_path_factory, events):
    ws = make_workspace(tmp_path_factory.mktemp("tl") / "ws")
    data = [
        {
            "customer_id": c,
            "timestamp": f"2025-01-01T00:00:0{s}Z",
            "touchpoint": tp,
            "event_id": f"e{i:03d}",
        }
        for i, (c, s, tp) in enumerate(events)
    ]
    insert(ws, "events", data)
    want = []
    frame = pd.DataFrame(data, columns=["customer_id", "timestamp", "touchpoint", "event_id"])
    for customer, group in frame.groupby("customer_id"):
        group = group.sort_values(["timestamp", "event_id"])
        tps = list(group.touchpoint)
        seen = set()
        for pos, (eid, tp) in enumerate(zip(group.event_id, tps, strict=True)):
            nxt = tps[pos + 1] if pos + 1 < len(tps) else None
            first = None if nxt is None else (tp, nxt) not in seen
            seen.add((tp, nxt))
            want.append((customer, eid, pos, tp, nxt, first))
    df = timeline(ws).execute().sort_values(["customer_id", "pos"])
    firsts = [None if pd.isna(f) else bool(f) for f in df.first_pair]
    assert [(*r, f) for r, f in zip(rows(ws), firsts, strict=True)] == want
    ws.close()


def test_another_time_zone_gives_another_timeline(ws):
    """The timeline holds local days, so the workspace's time zone is in its signature."""
    amsterdam = timeline(ws).execute().sort_values("event_id")
    ws.close()
    other = open_workspace(ws.path, timezone="America/New_York")
    york = timeline(other).execute().sort_values("event_id")
    assert len(derived_names(other)) == 1  # rebuilt for the other zone (old one dropped)
    # 2025-01-01 00:00 UTC is 1 January in Amsterdam and 31 December in New York
    assert list(amsterdam.day) == [20089, 20089, 20089]
    assert list(york.day) == [20088, 20088, 20088]
