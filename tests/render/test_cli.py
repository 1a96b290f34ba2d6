"""The map, report, export and import commands."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from klantreis.cli import main
from klantreis.model import load_journey, save_journey
from klantreis.store import open_workspace
from tests.render._journeys import fitness
from tests.support import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    w = make_workspace(folder, lang="nl")
    for file in w.journey_files():
        file.unlink()
    save_journey(fitness(), folder / "journeys" / "fitness.yaml")
    w.close()
    return folder


def run(*args: str) -> int:
    return main([str(a) for a in args])


def test_map_html_and_svg(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run("map", "-w", ws, "-o", tmp_path / "m.html", "--state", "both", "--persona", "sanne")
        == 0
    )
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert '<html lang="nl">' in html and "<dt>Persona</dt><dd>Sanne</dd>" in html
    assert 'data-lane="difference"' in html
    assert f"{tmp_path / 'm.html'} geschreven" in capsys.readouterr().out
    assert run("map", "-w", ws, "-o", tmp_path / "m.svg", "--lang", "en", "--design-only") == 0
    assert "Trial lesson" in (tmp_path / "m.svg").read_text(encoding="utf-8")


def test_map_errors(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("map", "-w", ws, "-o", tmp_path / "m.doc") == 1
    assert "kan '" in capsys.readouterr().err
    assert run("map", "-w", ws, "-o", tmp_path / "m.html", "--persona", "sane") == 1
    assert "unknown persona 'sane' (did you mean 'sanne'?)" in capsys.readouterr().err
    assert run("map", "-w", ws, "-o", tmp_path / "m.html", "--state", "later") == 1
    assert "state: unknown map state" in capsys.readouterr().err


def test_report_html(ws: Path, tmp_path: Path) -> None:
    assert run("report", "-w", ws, "-o", tmp_path / "r.html", "--title", "Kwartaal <1>") == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h1>Kwartaal &lt;1&gt;</h1>" in html
    # all customers and Sanne (as-is, behind tabs), then the as-is/to-be map
    assert html.count('class="journey-map-section"') == 3
    assert html.count('class="map-panel"') == 2
    assert run("report", "-w", ws, "-o", tmp_path / "r.svg") == 1


def test_export_and_import_round_trip(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx = tmp_path / "fitness.xlsx"
    assert run("export", "-w", ws, "-o", xlsx) == 0
    assert run("export", "-w", ws, "-o", tmp_path / "f.mmd") == 0
    assert (
        (tmp_path / "f.mmd").read_text(encoding="utf-8").startswith("journey\n    title Lid worden")
    )
    assert run("export", "-w", ws, "-o", tmp_path / "f.json") == 0
    wb = openpyxl.load_workbook(xlsx)
    sheet = wb["touchpoints"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("experience.desired") + 1).value = 5
    wb.save(xlsx)
    capsys.readouterr()
    assert run("import", xlsx, "-w", ws) == 0
    assert "Klantreis 'fitness' uit" in capsys.readouterr().out
    back = load_journey(ws / "journeys" / "fitness.yaml")
    assert back.touchpoint("ad").experience.desired == 5
    expected = fitness()
    expected.touchpoint("ad").experience.desired = 5
    assert back.model_dump() == expected.model_dump()
    assert [j.key for j in open_workspace(ws).journeys()] == ["fitness"]


def test_import_rejects_a_broken_journey(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx = tmp_path / "f.xlsx"
    assert run("export", "-w", ws, "-o", xlsx) == 0
    wb = openpyxl.load_workbook(xlsx)
    sheet = wb["touchpoints"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("phase") + 1).value = "awarness"
    wb.save(xlsx)
    before = (ws / "journeys" / "fitness.yaml").read_text(encoding="utf-8")
    assert run("import", xlsx, "-w", ws) == 1
    assert "awarness" in capsys.readouterr().err
    assert (ws / "journeys" / "fitness.yaml").read_text(encoding="utf-8") == before
