"""CLI output when piped: tables keep their full cells (no 80-column cut)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import make_workspace

LONG = "webwinkel_afrekenen_bevestigingspagina_na_betaling"


def test_piped_table_is_not_cut(tmp_path):
    ws = make_workspace(
        tmp_path / "ws",
        events=[
            {"customer_id": "a", "timestamp": "2025-01-01T00:00:00Z", "touchpoint": "advertentie"},
            {"customer_id": "a", "timestamp": "2025-01-01T00:01:00Z", "touchpoint": LONG},
        ],
    )
    ws.close()
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run(
        [sys.executable, "-m", "klantreis", "transitions", "-w", str(ws.path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert LONG in proc.stdout
    assert "…" not in proc.stdout
