"""Exports without a browser: JSON, Excel round trip, Mermaid, SVG/HTML files, errors."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from klantreis.errors import BrowserMissing, InvalidSpec, JourneyError, JourneyInvalid
from klantreis.model import Journey, Touchpoint
from klantreis.render import (
    journey_from_json,
    journey_to_json,
    journey_to_mermaid,
    read_journey_xlsx,
    write_journey,
    write_journey_xlsx,
    write_map,
)
from klantreis.render._browser import find_chromium
from klantreis.render._excel import SHEETS
from tests.render._journeys import XSS, fitness


def rich_journey() -> Journey:
    j = fitness()
    j.touchpoints[1].events = [{"glob": "site_*", "where": {"page": "prices"}}]
    j.touchpoints[1].walk = {"next": {"trial": 0.4}, "delay": "2d", "channels": {"web": 1.0}}
    j.personas[0].walk = {"share": 2.0, "weekly": [1, 1, 1, 1, 1, 0.5, 0.5]}
    j.personas[0].match = {"segment": ["starter", "young"]}
    j.personas[0].goals = [{"nl": "fit worden", "en": "get fit"}]
    j.scale.labels = {"1": {"nl": "boos", "en": "angry"}, "5": "blij"}
    j.touchpoints[2].thoughts = [
        {
            "text": {"nl": "Leuk", "en": "Nice"},
            "evidence": {"level": "observed", "source": "interviews", "verified": "2026-10-01"},
        }
    ]
    return j


def test_json_round_trip() -> None:
    j = rich_journey()
    assert journey_from_json(journey_to_json(j)).model_dump() == j.model_dump()


def template(name: str):
    """The packaged template ``name`` (its to-be states hold empty lists: 'none left')."""
    from importlib import resources

    from klantreis.model import parse_journey

    text = resources.files("klantreis.model").joinpath("templates", f"{name}.yaml").read_text()
    return lambda: parse_journey(text, file=f"{name}.yaml")


@pytest.mark.parametrize(
    "make",
    [fitness, rich_journey, lambda: Journey(key="empty"), template("fitness"), template("retail")],
    ids=["fitness", "rich", "empty", "template-fitness", "template-retail"],
)
def test_excel_round_trip_gives_an_equal_journey(tmp_path: Path, make) -> None:
    j = make()
    path = write_journey_xlsx(j, tmp_path / "j.xlsx")
    back = read_journey_xlsx(path)
    assert back.model_dump() == j.model_dump()
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEETS)


def test_excel_is_editable(tmp_path: Path) -> None:
    """A marketer edits cells and adds a row; reading back applies the edits."""
    path = write_journey_xlsx(fitness(), tmp_path / "j.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["touchpoints"]
    header = [c.value for c in ws[1]]
    site = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "site")
    site[header.index("experience.desired")].value = 5
    site[header.index("successors")].value = "trial, signup"
    pains = wb["pain_points"]
    pains.append(["signup", "Lang formulier", "reported", None, None, "medium"])
    wb.save(path)
    j = read_journey_xlsx(path)
    assert j.touchpoint("site").experience.desired == 5
    assert j.touchpoint("site").successors == ["trial", "signup"]
    assert [
        (p.label(), p.severity, p.evidence.level) for p in j.touchpoint("signup").pain_points
    ] == [("Lang formulier", "medium", "reported")]
    assert [c.value for c in pains[1]] == [
        "touchpoint",
        "text",
        "evidence.level",
        "evidence.source",
        "evidence.verified",
        "severity",
    ]


def test_excel_errors_name_sheet_row_and_column(tmp_path: Path) -> None:
    path = write_journey_xlsx(fitness(), tmp_path / "j.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["touchpoints"]
    header = [c.value for c in ws[1]]
    ws.cell(3, header.index("experience.current") + 1).value = "veel"
    wb.save(path)
    with pytest.raises(JourneyInvalid) as err:
        read_journey_xlsx(path)
    assert str(err.value) == (
        f"{path}: error: sheet 'touchpoints', row 3, column 'experience.current': "
        "Input should be a valid integer, unable to parse string as an integer"
    )

    del wb["journey"]
    wb.save(path)
    with pytest.raises(JourneyError, match="sheet 'journey' is missing"):
        read_journey_xlsx(path)

    wb = openpyxl.load_workbook(write_journey_xlsx(fitness(), tmp_path / "k.xlsx"))
    wb["thoughts"].append(["nope", "x"])
    wb.save(tmp_path / "k.xlsx")
    with pytest.raises(
        JourneyError,
        match="sheet 'thoughts', row 4, column 'touchpoint': unknown touchpoint 'nope'",
    ):
        read_journey_xlsx(tmp_path / "k.xlsx")


def test_mermaid() -> None:
    assert journey_to_mermaid(fitness(), lang="en") == (
        "journey\n"
        "    title Joining the gym\n"
        "    section Awareness\n"
        "      Advert: 3: Sanne\n"
        "    section Consideration\n"
        "      Website: 2: Sanne\n"
        "      Trial lesson: 4: Sanne\n"
        "    section Purchase\n"
        "      Sign-up: 3: Sanne\n"
        "    section Service\n"
        "      App: 3: Sanne\n"
        "    section Loyalty\n"
        "      Review: 4: Sanne\n"
    )
    tobe = journey_to_mermaid(fitness(), lang="nl", state="to-be")
    assert "      Website: 4: Sanne\n      Proefles: 4: Sanne\n" in tobe
    assert (
        "    section Aankoop\n      Inschrijving: 3: Sanne\n      Herinneringsmail: 4: Sanne\n"
        in tobe
    )


def test_mermaid_escapes_user_text() -> None:
    j = Journey(
        key="j", name="A: b; #c", touchpoints=[Touchpoint(key="x", name=XSS, phase="awareness")]
    )
    text = journey_to_mermaid(j, lang="nl")
    assert "<" not in text and ">" not in text
    assert "title A#58; b#59; #35;c" in text
    assert "      #60;script#62;alert(1)#60;/script#62;: 3: Klant\n" in text


def test_write_map_svg_and_html(tmp_path: Path) -> None:
    svg = write_map(fitness(), tmp_path / "m.svg", lang="en")
    text = svg.read_text(encoding="utf-8")
    assert text.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'
    )
    html = write_map(fitness(), tmp_path / "out" / "m.html", lang="nl", state="both")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(
        InvalidSpec, match=r"cannot write '.*m\.docx': use one of \.html, \.svg, \.png, \.pdf"
    ):
        write_map(fitness(), tmp_path / "m.docx", lang="en")


def test_write_journey(tmp_path: Path) -> None:
    j = fitness()
    assert (
        journey_from_json(write_journey(j, tmp_path / "j.json").read_text()).model_dump()
        == j.model_dump()
    )
    assert write_journey(j, tmp_path / "j.mmd").read_text().startswith("journey\n")
    assert read_journey_xlsx(write_journey(j, tmp_path / "j.xlsx")).model_dump() == j.model_dump()
    with pytest.raises(InvalidSpec, match=r"use one of \.json, \.xlsx, \.mmd"):
        write_journey(j, tmp_path / "j.csv")


def test_browser_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("KLANTREIS_CHROMIUM", str(tmp_path / "nope"))
    with pytest.raises(BrowserMissing) as err:
        find_chromium("PDF", "en")
    message = str(err.value)
    assert message.startswith("headless Chromium is needed for PDF export but was not found")
    assert "apt-get install chromium" in message and "KLANTREIS_CHROMIUM" in message
    with pytest.raises(BrowserMissing, match="voor export naar PNG is headless Chromium nodig"):
        write_map(fitness(), tmp_path / "m.png", lang="nl")
