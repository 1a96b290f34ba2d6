"""Store messages a user sees follow the workspace's language."""

from __future__ import annotations

import pytest

from klantreis.errors import MappingError, ReadError, WorkspaceLocked
from klantreis.store import init_workspace
from klantreis.store.lock import writer_lock


@pytest.fixture
def ws_nl(tmp_path):
    ws = init_workspace(tmp_path / "ws", lang="nl")
    yield ws
    ws.close()


def test_second_writer_message_in_dutch(ws_nl, tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("customer_id,timestamp,touchpoint\nc1,2026-01-01,site\n")
    with writer_lock(ws_nl.path, "test holder"), pytest.raises(WorkspaceLocked) as err:
        ws_nl.ingest(f)
    text = str(err.value)
    assert "wordt beschreven door pid" in text and "sinds" in text and "test holder" in text
    assert "wacht tot die klaar is" in text


def test_read_and_mapping_errors_in_dutch(ws_nl, tmp_path):
    with pytest.raises(ReadError, match="bestand bestaat niet"):
        ws_nl.ingest(tmp_path / "missing.csv")
    f = tmp_path / "e.csv"
    f.write_text("customer_id,timestamp,touchpoint\nc1,2026-01-01,site\n")
    with pytest.raises(ReadError, match="onbekend formaat 'xls'"):
        ws_nl.ingest(f, format="xls")
    m = tmp_path / "map.yaml"
    m.write_text("- just a list\n")
    with pytest.raises(MappingError, match="een mappingbestand moet een mapping zijn"):
        ws_nl.ingest(f, mapping=m)
    with pytest.raises(MappingError) as err:
        ws_nl.ingest(f, mapping={"columns": {"customer": "customer_id"}})
    assert "bedoelde je 'customer_id'?" in str(err.value)


def test_busy_store_message_in_the_workspace_language(tmp_path):
    """Another process holding the DuckDB file: the open fails after lock_timeout, in Dutch."""
    import subprocess
    import sys
    import time

    from klantreis.store import open_workspace

    init_workspace(tmp_path / "ws", lang="nl").close()
    store = tmp_path / "ws" / "klantreis.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True);"
            " time.sleep(60)",
            str(store),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        ws = open_workspace(tmp_path / "ws")
        ws.lock_timeout = 0.3
        started = time.monotonic()
        with pytest.raises(WorkspaceLocked, match="bleef in gebruik door") as caught:
            ws.connect()
        assert time.monotonic() - started < 10
        assert "wacht tot die klaar is" in (caught.value.hint or "")
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
