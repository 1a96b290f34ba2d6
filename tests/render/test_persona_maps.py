"""One journey map per persona in the report, measured on that persona's customers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from klantreis.analytics import experience, funnel, scoped
from klantreis.analytics.overview import map_results
from klantreis.cli import main
from klantreis.i18n import format_number
from klantreis.model import Persona, save_journey
from klantreis.render import MapMetrics, TouchpointMetrics, build_report
from klantreis.store import open_workspace
from tests.render._journeys import XSS, fitness
from tests.support import make_workspace

STEPS = ["ad", "site", "trial", "signup"]
#: customer -> how far along the designed path they get
DEPTH = {"s1": 4, "s2": 4, "s3": 2, "s4": 1, "j1": 3, "j2": 1, "x1": 4, "x2": 2}
CUSTOMERS = [
    *({"customer_id": c, "persona": "sanne"} for c in ("s1", "s2", "s3", "s4")),
    *({"customer_id": c, "segment": "senior"} for c in ("j1", "j2")),  # jan by match rule
    *({"customer_id": c} for c in ("x1", "x2")),
]
NPS = {"s1": 10, "s2": 9, "s3": 3, "j1": 6, "x1": 8}


def journey():
    j = fitness()
    j.personas.append(Persona(key="jan", name="Jan", match={"segment": "senior"}))
    return j


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("personas") / "ws"
    events = [
        {
            "customer_id": c,
            "timestamp": f"2026-03-0{i + 1}T10:00:00Z",
            "touchpoint": tp,
            "channel": "web",
        }
        for c, depth in DEPTH.items()
        for i, tp in enumerate(STEPS[:depth])
    ]
    feedback = [
        {
            "customer_id": c,
            "timestamp": "2026-03-02T12:00:00Z",
            "touchpoint": "site",
            "metric": "nps",
            "score": s,
        }
        for c, s in NPS.items()
    ]
    ws = make_workspace(path, lang="nl", events=events, feedback=feedback, customers=CUSTOMERS)
    for file in ws.journey_files():
        file.unlink()
    save_journey(journey(), path / "journeys" / "fitness.yaml")
    ws.close()
    return path


def panels(html: str) -> dict[str, str]:
    """persona key ('' = all customers) -> the SVG of its map panel."""
    found = re.findall(r'<div class="map-panel" data-persona="([^"]*)">(.*?)</section>', html, re.S)
    return {key: re.search(r"<svg.*</svg>", body, re.S)[0] for key, body in found}


def shown(svg: str) -> dict[str, dict[str, str]]:
    """touchpoint -> metric -> the value shown in the map's metrics lane."""
    root = ET.fromstring(svg)
    lane = next(g for g in root.iter() if g.get("data-lane") == "metrics")
    return {
        g.get("data-touchpoint"): {
            e.get("data-metric"): e.get("data-value") for e in g.iter() if e.get("data-metric")
        }
        for g in lane
        if g.get("data-touchpoint") is not None
    }


def expected(ws, persona: str | None) -> dict[str, dict[str, str]]:
    """The same numbers straight from the analytics on the persona's customers."""
    part = ws if persona is None else scoped(ws, persona=persona)
    table = funnel(part, steps=STEPS, window="30d").table
    nps = experience(part, metric="nps").table.set_index("key")
    out = {}
    for tp, n in zip(table["name"], table["customers"], strict=True):
        out[tp] = {"customers": format_number(int(n), "nl", digits=0)}
    if "site" in nps.index:
        out["site"]["nps"] = format_number(float(nps.loc["site", "score"]), "nl", digits=0)
    return out


def test_report_has_one_map_per_persona_with_its_own_numbers(folder: Path, tmp_path: Path):
    assert main(["report", "-w", str(folder), "-o", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    maps = panels(html)
    assert list(maps) == ["", "sanne", "jan"]
    assert html.count('class="map-tab"') == 3 and html.count(" checked>") == 1
    assert re.findall(r'<label for="([^"]+)">([^<]+)</label>', html) == [
        ("map-all", "alle klanten"),
        ("map-sanne", "Sanne"),
        ("map-jan", "Jan"),
    ]
    assert html.count('class="journey-map-section"') == 4  # + the as-is/to-be map
    assert "<dt>Gemeten</dt><dd>bij de klanten van persona Jan</dd>" in html
    for anchor, title in [
        ("r-churn", "Klantverloop"),
        ("r-loops", "De drie loops"),
        ("r-repeat-purchase", "Herhaalaankopen"),
        ("r-ambassadors", "Ambassadeurs"),
    ]:  # the loyalty results have their chart in the report, in Dutch
        chart = re.search(rf'<div class="chart" id="{anchor}" .*?href="#{anchor}-def"', html, re.S)
        assert chart is not None, anchor
        assert f"<h3>{title}</h3>" in chart[0] and f'id="{anchor}-chart"' in chart[0]
    ws = open_workspace(folder)
    try:
        for key, svg in maps.items():
            numbers = shown(svg)
            want = expected(ws, key or None)
            for tp, values in want.items():
                got = {k: numbers[tp][k] for k in values}
                assert got == values, (key, tp)
    finally:
        ws.close()
    # the personas really differ, so the test can tell the maps apart
    assert shown(maps["sanne"])["ad"]["customers"] == "4"
    assert shown(maps["jan"])["ad"]["customers"] == "2"
    assert shown(maps[""])["ad"]["customers"] == "8"
    assert shown(maps["jan"])["site"]["nps"] == "-100"


def test_report_about_one_persona(folder: Path, tmp_path: Path):
    out = tmp_path / "sanne.html"
    assert main(["report", "-w", str(folder), "-o", str(out), "--persona", "sanne"]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'class="map-panel"' not in html  # one persona: no switcher
    assert "<h1>Klantreisrapport: Lid worden van de sportschool (Sanne)</h1>" in html
    assert "<dt>Persona</dt><dd>Sanne</dd>" in html
    svg = re.search(r'data-state="as-is" data-persona="sanne">.*?(<svg.*?</svg>)', html, re.S)[1]
    ws = open_workspace(folder)
    try:
        want = expected(ws, "sanne")
    finally:
        ws.close()
    numbers = shown(svg)
    assert {tp: {k: numbers[tp][k] for k in v} for tp, v in want.items()} == want
    # the charts are about the persona too: 4 customers in the funnel, not 8
    assert "Trechter" in html
    assert main(["report", "-w", str(folder), "-o", str(out), "--persona", "sane"]) == 1


def test_no_persona_maps_on_request(folder: Path, tmp_path: Path):
    out = tmp_path / "r.html"
    assert main(["report", "-w", str(folder), "-o", str(out), "--no-persona-maps"]) == 0
    assert 'class="map-panel"' not in out.read_text(encoding="utf-8")


def test_map_results_runs_only_what_the_map_needs(folder: Path):
    ws = open_workspace(folder)
    try:
        results = map_results(ws, persona="jan")
        assert set(results) == {"phase_funnel", "funnel", "nps", "csat", "emotion"} - set(
            results.skipped
        )
        assert {"phase_funnel", "funnel", "nps"} <= set(results)
        assert results["funnel"].table.customers.tolist() == [2, 1, 1, 0]
    finally:
        ws.close()


def test_persona_switcher_structure_and_escaping():
    j = journey()
    j.personas[1].name = XSS
    metrics = {
        "sanne": MapMetrics(touchpoints={"ad": TouchpointMetrics(customers=40)}),
        "jan": MapMetrics(touchpoints={"ad": TouchpointMetrics(customers=7)}),
    }
    html = build_report(
        j,
        {},
        lang="en",
        metrics=MapMetrics(touchpoints={"ad": TouchpointMetrics(customers=47)}),
        persona_metrics=metrics,
        include_plotlyjs=False,
    )
    maps = panels(html)
    assert list(maps) == ["", "sanne", "jan"]
    assert [shown(svg)["ad"]["customers"] for svg in maps.values()] == ["47", "40", "7"]
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert ".map-tab:checked + label + .map-panel { display: block; }" in html
    ids = re.findall(r'<input type="radio" class="map-tab" name="map-persona" id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 3
    # without persona metrics the report keeps a single map for all customers
    plain = build_report(j, {}, lang="en", include_plotlyjs=False)
    assert 'class="map-panel"' not in plain
