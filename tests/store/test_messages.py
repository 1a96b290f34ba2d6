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
