"""Readers keep working while another process ingests (issue 3, point 8).

The behaviour pinned here: an ingest reads, converts and checks its file in a scratch
DuckDB of its own (``DIR/.tmp/ingest-*``) without opening the store, so during that
work phase another process opens the workspace and counts events at once (no waiting)
and sees the data as it was before the ingest. Only the commit (one transaction: the
INSERTs, the ingest log, dropping derived tables) holds the store read-write; a reader
that arrives then waits up to ``Workspace.lock_timeout`` seconds and fails with
WorkspaceLocked naming the writer if the commit takes longer. After the commit every
reader sees all the new rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from klantreis.errors import WorkspaceLocked
from klantreis.store import init_workspace, open_workspace

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*fetch_arrow_table.*:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string.*"),
]
ROOT = Path(__file__).resolve().parents[2]
ROWS = 200_000

# The ingest stops at the start of a stage (named in argv[3]) until the test says "go".
_INGEST = """
import sys, threading
from klantreis.store import open_workspace
ws = open_workspace(sys.argv[1])
def progress(stage, pct):
    if stage == sys.argv[3] and threading.current_thread() is threading.main_thread():
        print(stage, flush=True)
        sys.stdin.readline()
s = ws.ingest(sys.argv[2], progress=progress)
print(s.stored, flush=True)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}


@pytest.fixture
def setup(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    first = tmp_path / "first.csv"
    first.write_text("customer_id,timestamp,touchpoint\nc0,2026-01-01,site\n")
    ws.ingest(first)
    ws.close()
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("customer_id,timestamp,touchpoint,value\n")
        for i in range(ROWS):
            fh.write(f"c{i % 5000},2026-01-{1 + i % 28:02d} {i % 24:02d}:00,tp{i % 9},{i}\n")
    return ws.path, big


def _start(folder: Path, file: Path, stage: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _INGEST, str(folder), str(file), stage],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout.readline().strip().decode() == stage
    return proc


def _finish(proc: subprocess.Popen) -> int:
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    return int(out.decode().split()[-1])


def _count(folder: Path, timeout: float) -> int:
    reader = open_workspace(folder)
    reader.lock_timeout = timeout
    try:
        return int(reader.events.count().execute())
    finally:
        reader.close()


def test_reader_counts_while_the_file_is_read_and_checked(setup):
    folder, big = setup
    proc = _start(folder, big, "checking")  # the file is read and staged, not committed
    try:
        started = time.monotonic()
        # a reader that would give up after 1 s if the store were held: it is not
        assert _count(folder, timeout=1.0) == 1
        assert time.monotonic() - started < 5
        assert list((folder / ".tmp").glob("ingest-*"))  # the work is in the scratch
    finally:
        stored = _finish(proc)
    assert stored == ROWS
    assert _count(folder, timeout=30) == ROWS + 1
    assert not list((folder / ".tmp").glob("ingest-*"))  # scratch removed


def test_reader_during_the_commit_waits_then_reads(setup):
    folder, big = setup
    proc = _start(folder, big, "storing")  # inside the store's transaction
    try:
        with pytest.raises(WorkspaceLocked) as err:
            _count(folder, timeout=0.5)
        assert f"pid {proc.pid}" in str(err.value)
    finally:
        stored = _finish(proc)
    assert stored == ROWS
    assert _count(folder, timeout=30) == ROWS + 1
