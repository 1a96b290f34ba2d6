"""`klantreis funnel` and `klantreis dropoff` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from klantreis.cli import app, main
from tests.support import make_workspace

runner = CliRunner()

EVENTS = [
    {"customer_id": "c1", "timestamp": "2024-12-31T00:00:00Z", "touchpoint": "friends"},
    {"customer_id": "c1", "timestamp": "2025-01-01T00:00:00Z", "touchpoint": "website"},
    {"customer_id": "c1", "timestamp": "2025-01-02T00:00:00Z", "touchpoint": "tour"},
    {"customer_id": "c1", "timestamp": "2025-01-03T00:00:00Z", "touchpoint": "contract_signed"},
    {"customer_id": "c2", "timestamp": "2025-01-01T00:00:00Z", "touchpoint": "website"},
    {"customer_id": "c2", "timestamp": "2025-01-02T00:00:00Z", "touchpoint": "reminder_email"},
]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ws"
    make_workspace(path, template="fitness", events=EVENTS).close()
    return path


def test_csv_has_exactly_the_columns(folder: Path) -> None:
    out = runner.invoke(
        app,
        ["funnel", "-w", str(folder), "--steps", "website,tour,contract_signed", "--format", "csv"],
    )
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0] == (
        "step,name,customers,conversion_from_start,conversion_from_previous,dropped,"
        "median_seconds_from_previous,p90_seconds_from_previous,median_seconds_from_start,"
        "p90_seconds_from_start"
    )
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["1", "website", "2"],
        ["2", "tour", "1"],
        ["3", "contract_signed", "1"],
    ]


def test_json_table_by_and_phases(folder: Path) -> None:
    out = runner.invoke(
        app,
        [
            "funnel",
            "-w",
            str(folder),
            "-s",
            "website,tour|reminder_email",
            "--mode",
            "strict",
            "-f",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [r["customers"] for r in data["rows"]] == [2, 2]
    assert data["params"]["mode"] == "strict" and "Strict funnel" in data["definition"]
    out = runner.invoke(app, ["funnel", "-w", str(folder), "-s", "website,tour", "--by", "channel"])
    assert out.exit_code == 0 and "Broken down by channel." in out.output
    out = runner.invoke(app, ["funnel", "-w", str(folder), "--phases", "-f", "csv"])
    assert out.exit_code == 0, out.output
    assert [line.split(",")[1:3] for line in out.output.strip().splitlines()[1:]] == [
        ["Awareness", "1"],
        ["Consideration", "1"],
        ["Purchase", "1"],
        ["Service", "0"],
        ["Loyalty", "0"],
    ]


def test_dropoff_command(folder: Path) -> None:
    out = runner.invoke(
        app, ["dropoff", "-w", str(folder), "-s", "website,tour", "--at", "1", "-f", "csv"]
    )
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines() == [
        "kind,touchpoint,customers,share",
        "last,reminder_email,1,1.0",
        "instead,reminder_email,1,1.0",
    ]
    out = runner.invoke(
        app,
        [
            "dropoff",
            "-w",
            str(folder),
            "-s",
            "website,tour",
            "--at",
            "1",
            "--customers",
            "-f",
            "csv",
        ],
    )
    assert out.output.strip().splitlines()[1] == "c2,reminder_email,reminder_email"


def test_user_errors_are_messages(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["funnel", "-w", str(folder), "--steps", "website,tuor"])
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown touchpoint 'tuor'" in err and "did you mean 'tour'?" in err
    assert main(["funnel", "-w", str(folder)]) == 1
    assert "--steps" in capsys.readouterr().err


def test_skew_lets_a_step_come_slightly_before_the_previous(folder: Path) -> None:
    # c1 did friends a day before website: only a skew of a day or more lets
    # website -> friends count
    def reached(*extra: str) -> list[int]:
        out = runner.invoke(
            app,
            ["funnel", "-w", str(folder), "-s", "website,friends", "-f", "json", *extra],
        )
        assert out.exit_code == 0, out.output
        return [row["customers"] for row in json.loads(out.output)["rows"]]

    assert reached() == [2, 0]
    assert reached("--skew", "1d") == [2, 1]
    assert reached("--skew", "23h") == [2, 0]


def test_skew_in_a_strict_funnel_is_a_message(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["funnel", "-w", str(folder), "-s", "website,tour", "-m", "strict", "--skew", "1h"])
        == 1
    )
    err = capsys.readouterr().err
    assert "skew" in err and "ordered funnels only" in err and "Traceback" not in err
