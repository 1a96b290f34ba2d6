"""The journey map's structure: lanes, columns, values, evidence, states, wrapping."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from klantreis.errors import InvalidSpec, UnknownKey
from klantreis.model import Journey, Phase, Touchpoint
from klantreis.render import MapMetrics, TouchpointMetrics, journey_map, journey_map_svg
from klantreis.render._svg import text_width, wrap
from klantreis.render.journey_map import COL_W, PAD, format_seconds
from tests.render._journeys import XSS, fitness

NS = {"s": "http://www.w3.org/2000/svg"}
LANES = ["touchpoints", "actions", "thoughts", "emotion", "pain_points", "opportunities"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def lanes(root: ET.Element) -> list[str]:
    return [
        g.get("data-lane") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-lane")
    ]


def texts(node: ET.Element) -> list[str]:
    """Every text element's content (tspans joined with a space)."""
    return [
        " ".join(s.text or "" for s in t.iter() if s.text)
        for t in node.iter("{http://www.w3.org/2000/svg}text")
    ]


def find(root: ET.Element, **attrs: str) -> list[ET.Element]:
    return [
        e for e in root.iter() if all(e.get(k.replace("_", "-")) == v for k, v in attrs.items())
    ]


def test_lanes_in_order_and_one_header_per_phase() -> None:
    root = parse(journey_map_svg(fitness(), lang="en"))
    assert lanes(root) == LANES
    phases = [g for g in root.iter() if g.get("class") == "phase"]
    assert [p.get("data-phase") for p in phases] == [
        "awareness",
        "consideration",
        "purchase",
        "service",
        "loyalty",
    ]
    # consideration has two touchpoints (website, trial lesson); the to-be-only reminder is
    # not in the as-is map
    assert [p.get("data-columns") for p in phases] == ["1", "2", "1", "1", "1"]
    assert root.get("lang") == "en"
    assert [e.get("data-part") for e in find(root, **{"class": "part part-buyer"})] == ["buyer"]
    assert "buyer journey" in texts(root) and "user journey" in texts(root)


def test_metrics_lane_shows_the_given_values_in_the_locale() -> None:
    m = MapMetrics(
        touchpoints={
            "ad": TouchpointMetrics(customers=12345, conversion=1.0, dropoff=0.4),
            "site": TouchpointMetrics(
                customers=7407,
                conversion=0.6,
                median_seconds=129600,
                nps=-12.0,
                csat=0.815,
                ces=3.25,
            ),
        },
        phases={"awareness": TouchpointMetrics(customers=12345)},
    )
    root = parse(journey_map_svg(fitness(), lang="nl", metrics=m))
    assert lanes(root) == [*LANES, "metrics"]
    lane = find(root, data_lane="metrics")[0]
    cells = {g.get("data-touchpoint"): g for g in lane if g.get("data-touchpoint") is not None}
    shown = {
        k: {e.get("data-metric"): e.get("data-value") for e in v.iter() if e.get("data-metric")}
        for k, v in cells.items()
    }
    assert shown["ad"] == {"customers": "12.345", "conversion": "100,0%", "dropoff": "40,0%"}
    assert shown["site"] == {
        "customers": "7.407",
        "conversion": "60,0%",
        "median_seconds": "1,5 d",
        "nps": "-12",
        "csat": "81,5%",
        "ces": "3,2",
    }
    assert shown["trial"] == {}
    assert "klanten: 12.345" in texts(lane)
    phase = next(
        g for g in root.iter() if g.get("class") == "phase" and g.get("data-phase") == "awareness"
    )
    assert "klanten: 12.345" in texts(phase)


def test_emotion_curve_points_gap_and_measured_band() -> None:
    m = MapMetrics(
        touchpoints={
            "ad": TouchpointMetrics(emotion=3.2, emotion_low=2.9, emotion_high=3.5),
            "site": TouchpointMetrics(emotion=2.5, emotion_low=2.2, emotion_high=2.8),
        }
    )
    root = parse(journey_map_svg(fitness(), lang="en", metrics=m))
    lane = find(root, data_lane="emotion")[0]
    current = {
        g.get("data-touchpoint"): float(g.get("data-value"))
        for g in lane.iter()
        if g.get("class") == "current-point"
    }
    assert current == {"ad": 3, "site": 2, "trial": 4, "signup": 3, "app": 3, "review": 4}
    desired = {
        e.get("data-touchpoint"): float(e.get("data-value"))
        for e in lane.iter()
        if e.get("class") == "desired-point"
    }
    assert desired == {"ad": 4, "site": 4, "trial": 5, "signup": 5, "app": 4, "review": 5}
    gaps = [float(e.get("data-gap")) for e in lane.iter() if e.get("class") == "gap"]
    assert gaps == [1, 2, 1, 2, 1, 1]
    measured = {
        e.get("data-touchpoint"): float(e.get("data-value"))
        for e in lane.iter()
        if e.get("class") == "measured-point"
    }
    assert measured == {"ad": 3.2, "site": 2.5}
    assert len([e for e in lane.iter() if e.get("class") == "measured-band"]) == 1
    assert "measured, with 95% interval" in texts(root)
    # the designed current point's marker shows its evidence: 'ad' is observed, 'site' assumed
    marks = {
        g.get("data-touchpoint"): g[0].get("data-evidence")
        for g in lane.iter()
        if g.get("class") == "current-point"
    }
    assert marks["ad"] == "observed" and marks["site"] == "assumed"


def test_evidence_markers_and_legend() -> None:
    root = parse(journey_map_svg(fitness(), lang="en"))
    pains = find(root, data_lane="pain_points")[0]
    levels = [e.get("data-evidence") for e in pains.iter() if e.get("data-evidence")]
    assert levels == ["observed", "assumed"]
    legend = next(g for g in root.iter() if g.get("class") == "legend")
    assert [e.get("data-evidence") for e in legend.iter() if e.get("data-evidence")] == [
        "observed",
        "reported",
        "assumed",
        "proposed",
    ]
    assert {
        "observed in data",
        "reported by customers",
        "assumed by the team",
        "proposed (to-be)",
    } <= set(texts(legend))
    thoughts = find(root, data_lane="thoughts")[0]
    assert "“Dat ziet er goed uit”" in texts(thoughts)
    severity = [e.get("data-severity") for e in pains.iter() if e.get("data-severity")]
    assert severity == ["high", "low"]
    opp = find(root, data_lane="opportunities")[0]
    assert "Duidelijke prijzen" in texts(opp)
    assert "planned · Web team · 15 Jan 2027" in texts(opp)


def test_channel_icons_and_online_offline() -> None:
    root = parse(journey_map_svg(fitness(), lang="en"))
    lane = find(root, data_lane="touchpoints")[0]
    icons = {
        g.get("data-touchpoint"): [e.get("data-icon") for e in g.iter() if e.get("data-icon")]
        for g in lane
        if g.get("data-touchpoint")
    }
    assert icons == {
        "ad": ["social"],
        "site": ["web"],
        "trial": ["store"],
        "signup": ["store"],
        "app": ["app"],
        "review": ["social"],
    }
    modes = [e.get("data-mode") for e in lane.iter() if e.get("data-mode")]
    assert modes == ["online", "online", "offline", "offline", "online", "online"]
    assert "Club · offline" in texts(lane)


def test_to_be_and_both_states() -> None:
    j = fitness()
    tobe = parse(journey_map_svg(j, lang="en", state="to-be"))
    columns = [g.get("data-columns") for g in tobe.iter() if g.get("class") == "phase"]
    assert columns == ["1", "2", "2", "1", "1"]  # the reminder mail exists only in the to-be map
    current = {
        g.get("data-touchpoint"): float(g.get("data-value"))
        for g in tobe.iter()
        if g.get("class") == "current-point"
    }
    assert current["site"] == 4 and current["reminder"] == 4

    both = parse(journey_map_svg(j, lang="en", state="both"))
    assert lanes(both) == [*LANES, "difference"]
    diff = find(both, data_lane="difference")[0]
    cells = {g.get("data-touchpoint"): texts(g) for g in diff if g.get("data-touchpoint")}
    assert cells["reminder"] == ["new in to-be"]
    assert cells["ad"] == ["unchanged"]
    assert cells["site"] == ["experience", "Experience: 2 → 4 (+2)"]
    tobe_points = {
        g.get("data-touchpoint"): float(g.get("data-value"))
        for g in both.iter()
        if g.get("class") == "tobe-point"
    }
    assert tobe_points["site"] == 4 and tobe_points["ad"] == 3


def test_removed_in_to_be() -> None:
    j = Journey(
        key="j",
        touchpoints=[
            Touchpoint(key="a", phase="awareness", states="as-is"),
            Touchpoint(key="b", phase="awareness"),
        ],
    )
    both = parse(journey_map_svg(j, lang="nl", state="both"))
    diff = find(both, data_lane="difference")[0]
    assert {g.get("data-touchpoint"): texts(g) for g in diff if g.get("data-touchpoint")} == {
        "a": ["vervalt in gewenste situatie"],
        "b": ["ongewijzigd"],
    }


def test_header_persona_goal_and_html_page() -> None:
    html = journey_map(fitness(), lang="nl", persona="sanne", state="both")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="nl">' in html
    assert "<dt>Persona</dt><dd>Sanne</dd>" in html
    assert "<dd>Drukke starter, 28 jaar</dd>" in html
    assert "<dt>Behoeften</dt><dd>flexibele tijden</dd>" in html
    assert (
        "<dd>Meer proefles-bezoekers worden lid "
        "(conversion: van 0,2 naar 0,3 vóór 30 jun 2027)</dd>" in html
    )
    assert "<dt>Datum</dt><dd>1 nov 2026</dd>" in html
    assert "<dt>Situatie</dt><dd>huidig en gewenst</dd>" in html
    assert "hyphens: auto" in html and "overflow-wrap: anywhere" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<dt>Persona</dt><dd>alle klanten</dd>" in journey_map(fitness(), lang="nl")


def test_unknown_persona_and_state() -> None:
    with pytest.raises(UnknownKey, match="unknown persona 'sane'"):
        journey_map_svg(fitness(), persona="sane")
    with pytest.raises(InvalidSpec, match="state: unknown map state"):
        journey_map_svg(fitness(), state="future")


def _boxes(root: ET.Element, lane: str) -> list[tuple[float, float, float, float]]:
    g = find(root, data_lane=lane)[0]
    out = []
    for cell in g:
        rect = cell.find("s:rect", NS)
        if rect is not None and rect.get("class") == "cell":
            out.append(tuple(float(rect.get(k)) for k in ("x", "y", "width", "height")))
    return out


@pytest.mark.parametrize("phases,per_phase", [(1, 1), (3, 7), (9, 4)])
def test_no_overlap_for_any_number_of_phases_and_touchpoints(phases: int, per_phase: int) -> None:
    long = "klanttevredenheidsonderzoeksresultatenoverzicht " * 3
    j = Journey(
        key="big",
        phases=[Phase(key=f"p{i}", name=f"Fase {i} " + long) for i in range(phases)],
        touchpoints=[
            Touchpoint(
                key=f"t{i}_{k}",
                name=f"Contactmoment {k} {long}",
                phase=f"p{i}",
                action=long * (k % 3),
                thoughts=[{"text": long}] * (k % 4),
                pain_points=[{"text": long, "severity": "high"}],
            )
            for i in range(phases)
            for k in range(per_phase)
        ],
    )
    root = parse(journey_map_svg(j, lang="nl"))
    assert [g.get("data-columns") for g in root.iter() if g.get("class") == "phase"] == [
        str(per_phase)
    ] * phases
    previous_bottom = 0.0
    for lane in ["touchpoints", "actions", "thoughts", "pain_points", "opportunities"]:
        boxes = _boxes(root, lane)
        assert len(boxes) == phases * per_phase
        xs = sorted(b[0] for b in boxes)
        assert all(b - a >= COL_W for a, b in itertools.pairwise(xs))  # columns side by side
        top = boxes[0][1]
        assert top >= previous_bottom  # lanes stacked
        previous_bottom = top + boxes[0][3]
    # every text line fits its column
    for text in root.iter("{http://www.w3.org/2000/svg}text"):
        css = text.get("class") or ""
        if css in ("tp-name", "", "phase-name") or "lane-label" in css or "phase-metric" in css:
            continue
        size = float(text.get("font-size"))
        for span in text:
            assert (
                text_width(span.text or "", size, bold=text.get("font-weight") == "bold")
                <= COL_W - 2 * PAD
            )
    for phase in (g for g in root.iter() if g.get("class") == "phase"):
        width = float(phase.find("s:rect", NS).get("width"))
        for span in phase.iter("{http://www.w3.org/2000/svg}tspan"):
            assert text_width(span.text or "", 13, bold=True) <= width - 2 * PAD
    width = float(root.get("width"))
    assert width >= phases * per_phase * COL_W
    assert ET.tostring(root)  # well-formed


def test_long_dutch_words_are_split_with_a_hyphen() -> None:
    lines = wrap("arbeidsongeschiktheidsverzekeringsmaatschappij", 100, 12)
    assert len(lines) > 1 and all(line.endswith("-") for line in lines[:-1])
    assert (
        "".join(line.rstrip("-") for line in lines)
        == "arbeidsongeschiktheidsverzekeringsmaatschappij"
    )
    assert all(text_width(line, 12) <= 100 for line in lines)
    assert wrap("Ik wil eerst weten wat een abonnement kost", 180, 12) == [
        "Ik wil eerst weten wat een",
        "abonnement kost",
    ]


def test_escaping_in_map_and_svg() -> None:
    j = fitness(name=XSS)
    j.touchpoints[0].thoughts[0].text = '"><img src=x onerror=alert(1)>'
    j.owner = "<b>team</b>"
    for out in (journey_map_svg(j, lang="en"), journey_map(j, lang="en", state="both")):
        assert "<script>" not in out and "<img" not in out and "<b>" not in out
        assert "&lt;script&gt;alert" in out and "&quot;&gt;&lt;img src=x" in out
    root = parse(journey_map_svg(j, lang="en"))
    shown = "".join(texts(find(root, data_lane="touchpoints")[0])).replace("-", "")
    assert XSS.replace("-", "") in shown.replace(" ", "")  # shows as text (wrapped)


def test_format_seconds() -> None:
    assert format_seconds(45, "en") == "45 s"
    assert format_seconds(5400, "nl") == "1,5 h"
    assert format_seconds(86400 * 12, "en") == "12 d"
    assert format_seconds(None, "en") == "–"


def test_journey_date_or_today() -> None:
    j = Journey(key="j")
    assert "<dd>22 Nov 2026</dd>" in journey_map(j, lang="en", today=date(2026, 11, 22))


@pytest.mark.parametrize("template", ["fitness", "retail"])
def test_templates_render_in_every_state(template: str) -> None:
    from importlib import resources

    from klantreis.model import parse_journey

    file = resources.files("klantreis.model").joinpath("templates", f"{template}.yaml")
    if not file.is_file():
        pytest.skip(f"template {template} not written yet")
    j = parse_journey(file.read_text(encoding="utf-8"))
    for state in ("as-is", "to-be", "both"):
        for lang in ("nl", "en"):
            root = parse(journey_map_svg(j, lang=lang, state=state))
            phases = [g for g in root.iter() if g.get("class") == "phase"]
            assert [p.get("data-phase") for p in phases] == [p.key for p in j.ordered_phases()]
            columns = sum(int(p.get("data-columns")) for p in phases)
            view = (
                {tp.key for tp in j.state_view(state)}
                if state != "both"
                else {tp.key for s in ("as-is", "to-be") for tp in j.state_view(s)}
            )
            empty = sum(
                1
                for p in j.phases
                if not any(tp.phase == p.key and tp.key in view for tp in j.touchpoints)
            )
            assert columns == len(view) + empty
