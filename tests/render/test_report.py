"""The report: findings from results, map metrics from results, self-contained HTML."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from klantreis.render import build_report, find_all, map_metrics_from_results
from klantreis.render.metrics import TouchpointMetrics
from klantreis.result import Result
from tests.render import _results as R
from tests.render._journeys import XSS, fitness

TODAY = date(2026, 11, 22)


def all_results() -> dict[str, Result]:
    return {
        "funnel": R.funnel(),
        "nps": R.experience(
            "nps", [("ad", 10, 20.0, -5.0, 45.0), ("site", 40, -10.0, -30.0, 10.0)]
        ),
        "emotion": R.experience(
            "emotion", [("ad", 10, 3.2, 2.9, 3.5), ("site", 40, 2.5, 2.2, 2.8)]
        ),
        "csat": R.experience("csat", [("site", 40, 75.0, 60.0, 86.0)]),
        "attribution": R.attribution(),
        "gap": R.gap(),
        "whatif": R.whatif(),
    }


def test_map_metrics_from_results() -> None:
    m = map_metrics_from_results(all_results(), fitness())
    assert m.for_touchpoint("ad") == TouchpointMetrics(
        customers=1000,
        conversion=1.0,
        dropoff=0.4,
        nps=20.0,
        emotion=3.2,
        emotion_low=2.9,
        emotion_high=3.5,
        responses=10,
    )
    site = m.for_touchpoint("site")
    assert (site.customers, site.conversion, site.dropoff, site.median_seconds) == (
        600,
        0.6,
        0.6,
        3600.0,
    )
    assert (site.nps, site.csat, site.emotion) == (-10.0, 0.75, 2.5)
    assert m.for_touchpoint("signup").dropoff is None  # the last step has no next step
    assert m.for_touchpoint("signup").customers == 200


def test_phase_funnel_goes_to_phases_by_label() -> None:
    table = pd.DataFrame(
        {
            "step": [1, 2],
            "name": ["Bewustwording", "Overweging"],
            "customers": [10, 4],
            "conversion_from_start": [1.0, 0.4],
        }
    )
    m = map_metrics_from_results(
        {"p": Result("funnel", table, "", params={"phases": True})}, fitness()
    )
    assert m.for_phase("awareness").customers == 10 and m.for_phase(
        "awareness"
    ).dropoff == pytest.approx(0.6)
    assert m.for_phase("consideration").conversion == 0.4
    assert not m.touchpoints


def test_findings_in_plain_words_en() -> None:
    found = {f.kind: f for f in find_all(fitness(), all_results(), "en")}
    assert list(found) == ["dropoff", "gap", "attribution", "whatif", "goal"]
    assert found["dropoff"].items == [
        "From Advert to Website: 400 of 1,000 customers (40.0%) do not go on.",
        "From Website to Trial lesson: 360 of 600 customers (60.0%) do not go on.",
        "From Trial lesson to Sign-up: 40 of 240 customers (16.7%) do not go on.",
    ]
    assert found["gap"].items == [
        "Website: current 2.5, desired 4.0 (gap 1.5). 600 customers affected.",
        "Advert: current 3.2, desired 4.0 (gap 0.8). 1,000 customers affected.",
        "Sign-up: current 3.0, desired 5.0 (gap 2.0). 200 customers affected.",
    ]
    assert found["attribution"].items == [
        "Website: 90.0 conversions (45.0% of all), by the markov model.",
        "Trial lesson: 60.0 conversions (30.0% of all), by the markov model.",
        "Advert: 50.0 conversions (25.0% of all), by the markov model.",
    ]
    assert found["whatif"].items == [
        "Website (20% fewer leave at site): conversion +3.1 percentage points in simulation.",
        "Trial lesson (20% fewer leave at trial): conversion +1.2 percentage points in simulation.",
        "Advert (20% fewer leave at ad): conversion +0.4 percentage points in simulation.",
    ]
    # goal: conversion from 20% to 30%; the funnel's last step converts 20% -> 0% of the way
    assert found["goal"].items == [
        "conversion is 20.0% (started at 20.0%, target 30.0% by 30 Jun 2027): 0% of the way."
    ]


def test_dropoff_order_is_by_customers_lost() -> None:
    found = find_all(fitness(), {"f": R.funnel()}, "en")[0]
    assert [(d["source"], d["target"], d["lost"]) for d in found.data] == [
        ("ad", "site", 400),
        ("site", "trial", 360),
        ("trial", "signup", 40),
    ]


def test_findings_dutch_numbers() -> None:
    found = {f.kind: f for f in find_all(fitness(), all_results(), "nl")}
    assert found["dropoff"].items[0] == (
        "Van Advertentie naar Website: 400 van de 1.000 klanten (40,0%) gaan niet verder."
    )
    assert (
        found["gap"].items[0]
        == "Website: huidig 2,5, gewenst 4,0 (kloof 1,5). 600 klanten geraakt."
    )
    assert found["goal"].items[0] == (
        "conversion is 20,0% (begon op 20,0%, doel 30,0% vóór 30 jun 2027): 0% van de weg."
    )


def test_goal_progress_and_unmeasured() -> None:
    j = fitness()
    table = R.funnel().table.copy()
    table.loc[3, "conversion_from_start"] = 0.25
    found = find_all(j, {"f": Result("funnel", table, "")}, "en")
    assert found[-1].items == [
        "conversion is 25.0% (started at 20.0%, target 30.0% by 30 Jun 2027): 50% of the way."
    ]
    assert find_all(j, {}, "en")[-1].items == [
        "Goal: conversion 30.0% by 30 Jun 2027. No result measures conversion yet."
    ]


def test_report_is_self_contained_with_charts_findings_definitions() -> None:
    html = build_report(fitness(), all_results(), lang="en", today=TODAY)
    assert html.count("<script") == 2  # plotly.js once, one chart (the others have no figure yet)
    from plotly.offline import get_plotlyjs

    assert html.count(get_plotlyjs()[:200]) == 1
    no_xmlns = html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(get_plotlyjs(), "")
    assert not re.search(r'(src|href)="(https?:)?//', no_xmlns)
    assert '<link rel="stylesheet"' not in html and "@import" not in html
    assert '<html lang="en">' in html
    assert "<h1>Customer journey report: Joining the gym</h1>" in html
    assert "Made on 22 Nov 2026" in html
    for text in (
        "Biggest drop-off moments",
        "Largest experience gaps",
        "Touchpoints that earn most conversions",
        "Best improvement candidates (simulation)",
        "Progress toward the goal",
    ):
        assert text in html
    # every result's definition and parameters
    for result in all_results().values():
        assert f"<p>{result.definition}</p>" in html
    assert "<tr><th>window</th><td>30d</td></tr>" in html
    assert "<h3>Experience (NPS)</h3>" in html
    # the map with measured numbers, and the as-is/to-be map (the journey has a to-be design)
    assert html.count('class="journey-map-section"') == 2
    assert 'data-metric="customers" data-value="1,000"' in html
    assert 'class="measured-point"' in html


def test_report_dutch_and_empty() -> None:
    html = build_report(fitness(), {}, lang="nl", today=TODAY, include_plotlyjs=False)
    assert (
        '<html lang="nl">' in html
        and "Klantreisrapport" in html
        and "Gemaakt op 22 nov 2026" in html
    )
    assert "<script" not in html
    assert 'id="definitions"' not in html
    assert "Nog geen doel" not in html
    assert "Voortgang naar de doelstelling" in html


def test_report_escapes_every_user_text() -> None:
    j = fitness(name=XSS)
    j.goal.description = "<img src=x onerror=alert(2)>"
    table = R.funnel().table.copy()
    table.loc[1, "name"] = XSS
    results = {
        "<b>f</b>": R.FixedFigureResult("funnel", table, "<i>def</i>", params={"x": "<u>p</u>"})
    }
    html = build_report(
        j, results, lang="en", title="<em>T</em>", today=TODAY, include_plotlyjs=False
    )
    body = html.split("</head>", 1)[1]
    assert "<script>alert" not in body and "<img" not in body
    for tag in ("<b>", "<i>", "<u>", "<em>"):
        assert tag not in body
    assert "&lt;em&gt;T&lt;/em&gt;" in html and "&lt;i&gt;def&lt;/i&gt;" in html
    assert "From Advert to &lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the chart's data is JSON inside a script, with '<' escaped by plotly
    assert "\\u003cscript\\u003e" in body


def test_result_without_chart_keeps_its_definition() -> None:
    r = Result("no_such_analysis", pd.DataFrame({"a": [1]}), "A definition.", params={"k": 1})
    html = build_report(fitness(), {"x": r}, lang="en", today=TODAY, include_plotlyjs=False)
    assert "<p>A definition.</p>" in html and 'id="charts"' not in html
    assert "<h3>No such analysis</h3>" in html


def test_a_broken_chart_is_reported_not_fatal() -> None:
    class Broken(Result):
        def figure(self, **options):
            raise KeyError("basis")

    html = build_report(
        fitness(),
        {"g": Broken("gap", R.gap().table, "Gap def.")},
        lang="en",
        today=TODAY,
        include_plotlyjs=False,
    )
    assert "<p>Gap def.</p>" in html
    assert "The chart of this result could not be drawn (KeyError: &#39;basis&#39;)" in html


def test_report_with_the_real_chart_modules() -> None:
    """Plain results go through Result.figure() to the analytics' own chart modules."""
    plain = {k: Result(v.name, v.table, v.definition, v.params) for k, v in all_results().items()}
    html = build_report(fitness(), plain, lang="nl", today=TODAY, include_plotlyjs=False)
    assert "could not be drawn" not in html and "kon niet worden getekend" not in html
