"""The attribution command: thin over the library."""

from __future__ import annotations

import json

from klantreis.cli import main
from tests.analytics.attribution.test_paths import EVENTS, _ws


def test_cli_csv_and_json(tmp_path, capsys) -> None:
    ws = _ws(tmp_path, EVENTS)
    code = main(
        [
            "attribution",
            "-w",
            str(ws.path),
            "--model",
            "markov",
            "--model",
            "linear",
            "--order",
            "1",
            "--lookback",
            "30d",
            "--by",
            "touchpoint",
            "--format",
            "csv",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "key,model,conversions,value"
    assert out[1:] == [
        "ad,markov,0.3333333333333333,10.0",
        "site,markov,0.6666666666666666,20.0",
        "ad,linear,0.5,15.0",
        "site,linear,0.5,15.0",
    ]
    code = main(["attribution", "-w", str(ws.path), "-m", "first_touch", "-f", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["name"] == "attribution"
    assert data["rows"][0] == {
        "key": "ad",
        "model": "first_touch",
        "conversions": 1.0,
        "value": 30.0,
    }


def test_cli_user_error(tmp_path, capsys) -> None:
    ws = _ws(tmp_path, EVENTS)
    code = main(["attribution", "-w", str(ws.path), "--model", "lineair"])
    assert code == 1
    assert "models: unknown model (got 'lineair')" in capsys.readouterr().err
