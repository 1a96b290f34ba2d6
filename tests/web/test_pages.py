"""Every page answers 200 with the numbers the library computes; JSON twins agree."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from klantreis.i18n import format_number
from tests.web.conftest import CUSTOMERS, EVENTS, FEEDBACK, Served


def _jsonable(metrics: Any) -> dict[str, Any]:
    return {
        "touchpoints": {k: dataclasses.asdict(v) for k, v in metrics.touchpoints.items()},
        "phases": {k: dataclasses.asdict(v) for k, v in metrics.phases.items()},
    }


def test_home_counts_and_journeys(site: Served) -> None:
    page = site.get("/")
    data = site.get("/index.json").json()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert data["counts"] == {
        "events": len(EVENTS),
        "feedback": len(FEEDBACK),
        "customers": len(CUSTOMERS),
        "customers_seen": 10,
    }
    assert data["language"] == "nl" and data["journeys_error"] is None
    assert [(j["key"], j["touchpoints"]) for j in data["journeys"]] == [("fitness", 14)]
    assert data["ingests"] == []  # rows written straight into the store, no ingest
    for key, value in data["counts"].items():
        assert f'data-count="{key}">{format_number(value, "nl")}<' in page.text
    assert "Gebeurtenissen" in page.text  # Dutch workspace, Dutch page
    assert site.get("/?format=json").json() == data


def test_map_page_is_the_library_map_with_measured_numbers(
    site: Served, expected: dict[str, Any]
) -> None:
    from klantreis.render import journey_map

    page = site.get("/journeys/fitness/map")
    data = site.get("/journeys/fitness/map.json").json()
    assert page.status_code == 200
    assert data["metrics"] == _jsonable(expected["metrics"])
    # NPS at the trial lesson by hand: promoters 10, 9; detractors 6, 3; of 5 -> 0.
    assert data["metrics"]["touchpoints"]["trial_lesson"]["nps"] == 0.0
    # The journey's main path need_triggered -> website -> contract_signed: 10, 10, 4.
    customers = {k: v["customers"] for k, v in data["metrics"]["touchpoints"].items()}
    assert (customers["need_triggered"], customers["website"]) == (10, 10)
    assert customers["contract_signed"] == 4
    assert data["state"] == "as-is" and data["persona"] is None
    assert [o["value"] for o in data["personas"]] == ["starter", "returner", "student"]
    # The map itself is the library's, drawn with the same metrics.
    library = journey_map(expected["journey"], lang="nl", metrics=expected["metrics"])
    body = re.search(r'<main class="klantreis-map">.*</main>', library, re.S)
    assert body is not None and body.group(0) in page.text
    assert '<link rel="stylesheet" href="/static/klantreis.css">' in page.text
    assert site.get("/journeys/fitness/map?format=json").json() == data


def test_map_state_and_persona(site: Served) -> None:
    # One persona run only (run_all takes seconds): the HTML request fills the cache
    # the JSON twin then reads, so both show the same numbers.
    page = site.get("/journeys/fitness/map?state=to-be&persona=starter")
    data = site.get("/journeys/fitness/map.json?state=to-be&persona=starter").json()
    assert data["state"] == "to-be" and data["persona"] == "starter"
    # Starters gave the answers 10, 9, 8, 6, 3 (customers c0-c4): NPS 0 again.
    assert data["metrics"]["touchpoints"]["trial_lesson"]["nps"] == 0.0
    assert page.status_code == 200
    assert '<option value="starter" selected>' in page.text


def test_report_numbers_and_assets(site: Served, expected: dict[str, Any]) -> None:
    data = site.get("/journeys/fitness/report.json").json()
    overview = expected["overview"]
    assert sorted(data["results"]) == sorted(overview)
    assert data["skipped"] == overview.skipped
    for name, result in overview.items():
        assert data["results"][name]["rows"] == result.to_dict()["rows"], name
    page = site.get("/journeys/fitness/report")
    assert page.status_code == 200
    assert '<script src="/static/plotly.min.js"></script>' in page.text
    assert len(page.text) < 2_000_000  # plotly.js is served once, not inlined per page
    assert "Klantreis fitnessclub" in page.text
    js = site.get("/static/plotly.min.js")
    assert js.status_code == 200 and "plotly" in js.text[:2000].lower()


def test_report_is_cached_per_data_version(site: Served) -> None:
    from klantreis.web.state import AppState  # noqa: F401 (the cache lives there)

    first = site.get("/journeys/fitness/report.json").json()
    second = site.get("/journeys/fitness/report.json").json()
    assert first["results"].keys() == second["results"].keys()
    for name in first["results"]:
        first["results"][name].pop("seconds")
        second["results"][name].pop("seconds")
    assert first == second


def test_funnel_form_table_and_json(site: Served, expected: dict[str, Any]) -> None:
    query = "?steps=website&steps=trial_lesson&steps=contract_signed&window=7d&mode=ordered"
    data = site.get("/journeys/fitness/funnel.json" + query).json()
    want = expected["funnel"].to_dict()
    assert data["result"]["rows"] == want["rows"]
    assert [r["customers"] for r in data["result"]["rows"]] == [10, 7, 4]
    assert data["steps"] == ["website", "trial_lesson", "contract_signed"]
    assert data["window"] == "7d" and data["mode"] == "ordered"
    assert "figure" not in data  # the chart is for the page only
    page = site.get("/journeys/fitness/funnel" + query)
    assert page.status_code == 200
    for row in want["rows"]:
        assert f'data-customers="{row["customers"]}">{format_number(row["customers"], "nl")}<' in (
            page.text
        )
    assert want["definition"].split("<")[0][:40] in page.text


def test_funnel_form_without_steps(site: Served) -> None:
    data = site.get("/journeys/fitness/funnel.json").json()
    assert data["result"] is None and data["steps"] == []
    assert [o["value"] for o in data["touchpoints"]][:3] == ["need_triggered", "friends", "website"]
    page = site.get("/journeys/fitness/funnel")
    assert page.status_code == 200 and page.text.count('<select name="steps">') == 6


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("?steps=website&steps=nowhere", "steps", id="unknown-step"),
        pytest.param("?steps=website&steps=tour&mode=sideways", "mode", id="bad-mode"),
        pytest.param("?steps=website", "steps", id="one-step"),
        pytest.param("?steps=website&steps=tour&window=thirty", "window", id="bad-window"),
    ],
)
def test_funnel_bad_input_is_a_400(site: Served, query: str, field: str) -> None:
    response = site.get("/journeys/fitness/funnel.json" + query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "analysis.spec" and field in error["message"]
    html = site.get("/journeys/fitness/funnel" + query)
    assert html.status_code == 400 and "Traceback" not in html.text
    assert "Er klopt iets niet" in html.text


def test_validation_page_lists_no_problems_for_a_good_journey(site: Served) -> None:
    data = site.get("/validate.json").json()
    assert data == {
        "files": [{"file": "fitness.yaml", "journey": "fitness", "problems": []}],
        "errors": 0,
        "warnings": 0,
    }
    assert "Geen problemen gevonden." in site.get("/validate").text


def test_upload_form(site: Served) -> None:
    data = site.get("/upload.json").json()
    assert [k["value"] for k in data["kinds"]] == ["events", "feedback", "customers"]
    assert ".csv" in data["extensions"] and data["summary"] is None
    page = site.get("/upload")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "100 MB" in page.text


def test_static_assets_are_local(site: Served) -> None:
    css = site.get("/static/klantreis.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for path in ("/", "/journeys/fitness/map", "/journeys/fitness/report", "/upload"):
        text = site.get(path).text
        assert not re.search(r'(src|href)="https?://', text), path


def _fake_figure(result: Any, **options: Any) -> Any:
    """A stand-in funnel chart (the real one lives in render/charts/funnel.py)."""
    import plotly.graph_objects as go

    table = result.table
    figure = go.Figure(go.Bar(x=list(table["name"]), y=list(table["customers"])))
    figure.update_layout(title="</script><script>alert(1)</script>")
    return figure


def test_funnel_chart_is_embedded_safely(site: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from klantreis.result import Result

    monkeypatch.setattr(Result, "figure", _fake_figure)
    query = "?steps=website&steps=trial_lesson&steps=contract_signed&window=7d"
    page = site.get("/journeys/fitness/funnel" + query)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert '<script src="/static/plotly.min.js"></script>' in page.text
    found = re.search(
        r'<script type="application/json" id="kr-figure-data">(.*?)</script>', page.text, re.S
    )
    assert found is not None
    figure = json.loads(found.group(1))
    assert figure["data"][0]["y"] == [10, 7, 4]
    assert figure["layout"]["title"]["text"] == "</script><script>alert(1)</script>"
