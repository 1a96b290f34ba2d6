"""Identity stitching, privacy, one writer at a time, kill -9 safety, and the count rule."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.errors import WorkspaceLocked
from klantreis.store import init_workspace, open_workspace
from klantreis.store.lock import writer_lock
from tests.support import make_workspace

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*fetch_arrow_table.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string.*"),
]
ROOT = Path(__file__).resolve().parents[2]


def test_stitching_at_query_time_and_unlink(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        events=[
            {"customer_id": "cookie1", "timestamp": "2026-01-01T10:00:00Z", "touchpoint": "site"},
            {"customer_id": "c1", "timestamp": "2026-01-02T10:00:00Z", "touchpoint": "shop"},
        ],
    )
    assert sorted(ws.events.execute()["customer_id"]) == ["c1", "cookie1"]
    ws.link("cookie1", "c1", kind="cookie")
    assert sorted(ws.events.execute()["customer_id"]) == ["c1", "c1"]
    # history is not rewritten: the base table still holds the alias
    assert sorted(ws.table("events").execute()["customer_id"]) == ["c1", "cookie1"]
    assert ws.unlink("cookie1") == 1
    assert sorted(ws.events.execute()["customer_id"]) == ["c1", "cookie1"]


def test_forget_removes_everything_and_records_without_id(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    f = tmp_path / "e.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint\nalice,2026-01-01,site\nbob,2026-01-01,site\nalice,bad,site\n"
    )
    ws.ingest(f)
    ids = tmp_path / "ids.csv"
    ids.write_text("alias_id,customer_id,kind\nck-9,alice,cookie\n")
    ws.ingest(ids, kind="identities")
    counts = ws.forget("alice")
    assert counts == {"events": 1, "feedback": 0, "customers": 0, "identities": 1, "rejects": 1}
    assert list(ws.events.execute()["customer_id"]) == ["bob"]
    log = ws.table("erasures").execute()
    assert list(log["action"]) == ["forget"] and log["total"][0] == 3
    assert "alice" not in log.to_csv()


def test_pseudonymisation_key_outside_store(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    f = tmp_path / "e.csv"
    f.write_text("customer_id,timestamp,touchpoint\nalice,2026-01-01,site\n")
    ws.ingest(f, pseudonymise=True)
    key_file = ws.path / ".klantreis-key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    stored = ws.events.execute()["customer_id"][0]
    assert stored.startswith("p") and len(stored) == 33 and "alice" not in stored
    ws.close()
    assert key_file.read_text().strip().encode() not in (ws.path / "klantreis.duckdb").read_bytes()
    ws = open_workspace(ws.path)
    assert ws.forget("alice")["events"] == 1


def test_prune_by_months(tmp_path):
    from datetime import UTC, datetime

    from klantreis.store.privacy import prune

    ws = make_workspace(
        tmp_path / "ws",
        events=[
            {"customer_id": "a", "timestamp": "2023-01-01T00:00:00Z", "touchpoint": "x"},
            {"customer_id": "b", "timestamp": "2026-01-01T00:00:00Z", "touchpoint": "x"},
        ],
    )
    counts = prune(ws, "24m", now=datetime(2026, 6, 1, tzinfo=UTC))
    assert counts["events"] == 1
    assert list(ws.events.execute()["customer_id"]) == ["b"]


_HOLD = """
import sys, time
from pathlib import Path
from klantreis.store import open_workspace
from klantreis.store.lock import writer_lock
ws = open_workspace(sys.argv[1])
with writer_lock(ws.path, "test holder"):
    ws.writer()
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _env():
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}


def test_second_writer_fails_fast_naming_holder_reader_waits(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    ws.table("events")
    ws.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(ws.path), "2"], stdout=subprocess.PIPE, env=_env()
    )
    try:
        assert proc.stdout.readline().strip() == b"held"
        other = open_workspace(ws.path)
        f = tmp_path / "e.csv"
        f.write_text("customer_id,timestamp,touchpoint\nc1,2026-01-01,site\n")
        t0 = time.monotonic()
        with pytest.raises(WorkspaceLocked) as err:
            other.ingest(f)
        assert time.monotonic() - t0 < 1.0
        assert f"pid {proc.pid}" in str(err.value) and "test holder" in str(err.value)
        # a reader waits for the writer to let go, then reads
        assert other.events.count().execute() == 0
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0


_KILLME = """
import sys
from klantreis.store import open_workspace
ws = open_workspace(sys.argv[1])
def progress(stage, pct):
    if stage == "storing":
        print("storing", flush=True)
        import time; time.sleep(30)
ws.ingest(sys.argv[2], progress=progress)
"""


def test_sigkill_mid_ingest_leaves_store_unchanged(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    first = tmp_path / "first.csv"
    first.write_text("customer_id,timestamp,touchpoint\nc0,2026-01-01,site\n")
    ws.ingest(first)
    ws.close()
    big = tmp_path / "big.csv"
    big.write_text(
        "customer_id,timestamp,touchpoint\n"
        + "".join(f"c{i},2026-01-01 10:00,tp{i % 5}\n" for i in range(20_000))
        + "x,bad,tp\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLME, str(ws.path), str(big)], stdout=subprocess.PIPE, env=_env()
    )
    assert proc.stdout.readline().strip() == b"storing"  # rejects already written, not committed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    ws = open_workspace(ws.path)
    assert ws.events.count().execute() == 1
    assert ws.rejects.count().execute() == 0
    assert ws.ingests.count().execute() == 1
    # and the lock died with the process
    with writer_lock(ws.path, "after"):
        pass
    # the dead ingest's scratch folder is left behind, and the next writer removes it
    assert list((ws.path / ".tmp").glob("ingest-*"))
    ws.ingest(first)
    assert not list((ws.path / ".tmp").glob("ingest-*"))
    assert ws.events.count().execute() == 1


@settings(max_examples=15, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2", "", "c3"]),
            st.sampled_from(["2026-01-01", "2026-01-01 10:00", "31-12-2026 23:59", "nope", ""]),
            st.sampled_from(["site", "shop", ""]),
            st.sampled_from(["", "1.5", "x", "2"]),
        ),
        max_size=25,
    )
)
def test_read_equals_stored_plus_duplicates_plus_rejected(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("prop")
    ws = init_workspace(folder / "ws")
    f = folder / "e.csv"
    f.write_text(
        "customer_id,timestamp,touchpoint,value\n" + "".join(",".join(r) + "\n" for r in rows)
    )
    s = ws.ingest(f)
    assert s.read == len(rows)
    assert s.read == s.stored + s.duplicates + s.rejected

    # brute-force reference: a row is valid if it has an id, a time and a touchpoint and a
    # numeric or empty value; duplicates are identical valid rows
    def ok(r):
        return r[0] and r[1] not in ("", "nope") and r[2] and r[3] != "x"

    valid = [r for r in rows if ok(r)]
    assert s.rejected == len(rows) - len(valid)
    assert s.stored == len(set(valid))
    assert ws.events.count().execute() == len(set(valid))
    s2 = ws.ingest(f)
    assert s2.stored == 0 and s2.read == s2.duplicates + s2.rejected
    ws.close()
