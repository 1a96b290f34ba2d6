from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from klantreis.cli import main
from klantreis.store import init_workspace, open_workspace


@pytest.fixture
def fitness(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    init_workspace(folder, template="fitness", lang="nl")
    return folder


def test_simulate_to_files(
    fitness: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "sim.parquet"
    code = main(
        ["simulate", "-w", str(fitness), "--customers", "500", "--seed", "3", "--output", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "500 klanten gesimuleerd" in text
    for name in ("sim.parquet", "sim.feedback.parquet", "sim.customers.parquet"):
        assert (out.parent / name).exists()
    assert pq.read_table(out.parent / "sim.customers.parquet").num_rows == 500
    again = tmp_path / "again" / "sim.parquet"
    main(
        [
            "simulate",
            "-w",
            str(fitness),
            "--customers",
            "500",
            "--seed",
            "3",
            "--output",
            str(again),
        ]
    )
    assert out.read_bytes() == again.read_bytes()


def test_simulate_one_persona_as_json(
    fitness: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.csv"
    code = main(
        [
            "simulate",
            "-w",
            str(fitness),
            "-n",
            "200",
            "--persona",
            "student",
            "-o",
            str(out),
            "-f",
            "json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["customers"] == 200 and summary["files"]["feedback"].endswith("s.feedback.csv")
    import pyarrow.csv as pcsv

    customers = pcsv.read_csv(tmp_path / "s.customers.csv")
    assert set(customers.column("persona").to_pylist()) == {"student"}
    assert set(customers.column("segment").to_pylist()) == {"student"}


def test_simulate_ingests_into_the_workspace(
    fitness: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "-w", str(fitness), "-n", "300", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "ingelezen" in text
    ws = open_workspace(fitness)
    assert ws.customers.count().to_pyarrow().as_py() == 300
    assert ws.events.count().to_pyarrow().as_py() > 300
    assert ws.feedback.count().to_pyarrow().as_py() > 0
    ws.close()


def test_simulate_errors(fitness: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "-w", str(fitness), "-n", "10", "-o", str(tmp_path / "x.txt")]) == 1
    assert "output: must end in .parquet or .csv" in capsys.readouterr().err
    assert main(["simulate", "-w", str(fitness), "-n", "10", "--persona", "studnet"]) == 1
    assert "did you mean 'student'" in capsys.readouterr().err


def test_whatif_compare_and_rank(fitness: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["-w", str(fitness), "--customers", "2000", "--runs", "2", "-f", "json"]
    assert (
        main(
            [
                "whatif",
                *args,
                "--reduce-leaving",
                "trial_lesson=0.3",
                "--add",
                "reminder_email@trial_lesson=0.3",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["rows"][0]["metric"] == "conversion"
    assert data["params"]["changes"] == [
        "trial_lesson: 30% less leaving",
        "trial_lesson: add reminder_email for 30% of leavers",
    ]
    assert data["rows"][0]["difference"] > 0
    assert main(["whatif", *args, "--rank"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert ranked["rows"][0]["rank"] == 1 and ranked["params"]["kind"] == "rank"
    assert main(["whatif", *args, "--to-be"]) == 0
    assert json.loads(capsys.readouterr().out)["params"]["changes"] == ["to-be map"]
    assert main(["whatif", *args, "--speed-up", "intake=x"]) == 1
    assert "must be a number" in capsys.readouterr().err


def test_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    assert main(["demo", str(folder), "--customers", "1500"]) == 0
    text = capsys.readouterr().out
    assert "1.500 klanten gesimuleerd" in text and "whatif" in text and "Klaar in" in text
    report = (folder / "rapport.html").read_text(encoding="utf-8")
    assert "Belangrijkste bevindingen" in report and "Klantreiskaart" in report
    assert "Proefles" in report and "<script src=" not in report  # plotly.js inline
    assert main(["demo", str(folder), "--customers", "1500"]) == 0
    assert "niet opnieuw gesimuleerd" in capsys.readouterr().out
