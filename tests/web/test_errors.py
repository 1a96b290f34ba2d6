"""User mistakes become an error page (or JSON) with a 4xx status, never a traceback;
every text from the journey is escaped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from klantreis.errors import (
    ConfigError,
    DataError,
    InvalidSpec,
    JourneyInvalid,
    Problem,
    ReadError,
    RenderError,
    UnknownKey,
    WorkspaceError,
    WorkspaceLocked,
    WorkspaceNotFound,
)
from klantreis.web.errors import UploadTooLarge, status_for
from tests.support import make_workspace
from tests.web.conftest import Served, serve

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
BROKEN = """\
version: 1
key: broken
name: Broken
touchpoints:
  - key: a
    name: A
    phase: nowhere
"""


@pytest.fixture(scope="module")
def odd_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A workspace whose touchpoint names carry markup (and no events: fast pages)."""
    folder = tmp_path_factory.mktemp("odd") / "ws"
    make_workspace(folder, template="fitness", lang="en").close()
    journey = folder / "journeys" / "fitness.yaml"
    text = journey.read_text(encoding="utf-8")
    assert "name: {nl: Website, en: Website}" in text
    journey.write_text(
        text.replace("name: {nl: Website, en: Website}", f'name: "{SCRIPT}"'), encoding="utf-8"
    )
    with serve(folder) as served:
        yield served


@pytest.mark.parametrize(
    "path", ["/", "/journeys/fitness/map", "/journeys/fitness/funnel", "/journeys/fitness/report"]
)
def test_journey_text_is_escaped(odd_site: Served, path: str) -> None:
    response = odd_site.get(path)
    assert response.status_code == 200
    assert SCRIPT not in response.text
    if "funnel" in path or "map" in path:
        assert ESCAPED in response.text


def test_query_values_are_escaped_in_error_pages(odd_site: Served) -> None:
    response = odd_site.get("/journeys/fitness/map", params={"state": SCRIPT})
    assert response.status_code == 400
    assert SCRIPT not in response.text and ESCAPED in response.text
    unknown = odd_site.get("/journeys/<b>x</b>/map")
    assert unknown.status_code == 404 and "<b>x</b>" not in unknown.text


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        pytest.param("/journeys/nope/map", 404, "analysis.unknown", id="unknown-journey"),
        pytest.param("/journeys/nope/report.json", 404, "analysis.unknown", id="unknown-report"),
        pytest.param("/journeys/fitness/map?state=upside", 400, "analysis.spec", id="bad-state"),
        pytest.param("/journeys/fitness/map?persona=ghost", 400, "analysis.spec", id="persona"),
        pytest.param("/journeys/fitness/report?persona=ghost", 400, "analysis.spec", id="rp"),
        pytest.param("/validate?format=xml", 400, "analysis.spec", id="bad-format"),
        pytest.param("/no/such/page", 404, "http", id="no-route"),
    ],
)
def test_error_statuses(odd_site: Served, path: str, status: int, code: str) -> None:
    html = odd_site.get(path.replace(".json", ""))
    assert html.status_code == status
    assert html.headers["content-type"].startswith("text/html")
    assert "Traceback" not in html.text and "Something is not right" in html.text
    as_json = odd_site.get(path, headers={"accept": "application/json"})
    assert as_json.status_code == status
    assert as_json.json()["error"]["code"] == code


def test_unknown_journey_message_suggests(odd_site: Served) -> None:
    error = odd_site.get("/journeys/fitnes/map.json").json()["error"]
    assert error["message"] == "unknown journey 'fitnes'"
    assert error["hint"] == "did you mean 'fitness'?"


def test_invalid_journey_file(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    make_workspace(folder, template="fitness", lang="en").close()
    from klantreis.model import journey_file_problems

    with serve(folder) as site:
        assert site.get("/journeys/fitness/map.json").status_code == 200
        # A journey file added while the app runs is seen on the next request.
        (folder / "journeys" / "broken.yaml").write_text(BROKEN, encoding="utf-8")
        _, problems = journey_file_problems(folder / "journeys" / "broken.yaml")
        errors = [p for p in problems if p.severity == "error"]
        assert errors
        check = site.get("/validate.json").json()
        files = {f["file"]: f for f in check["files"]}
        assert sorted(files) == ["broken.yaml", "fitness.yaml"]
        assert [p["message"] for p in files["broken.yaml"]["problems"]] == [
            p.message for p in problems
        ]
        assert check["errors"] == len(errors)
        assert files["broken.yaml"]["problems"][0]["where"].startswith("broken.yaml:")
        page = site.get("/validate")
        assert page.status_code == 200 and errors[0].message.replace("'", "&#39;") in page.text
        # A page that needs the journeys says what is wrong, with status 422.
        bad = site.get("/journeys/fitness/map.json")
        assert bad.status_code == 422
        assert bad.json()["error"]["code"] == "journey.invalid"
        assert bad.json()["error"]["problems"][0]["where"].startswith("broken.yaml:")
        # The home page still opens and points at the check page.
        home = site.get("/index.json").json()
        assert home["journeys"] == [] and home["journeys_error"]
        assert site.get("/").status_code == 200


def test_missing_workspace_is_a_404(tmp_path: Path) -> None:
    with serve(tmp_path / "nothing-here") as site:
        response = site.get("/")
        assert response.status_code == 404 and "not a Klantreis workspace" in response.text
        assert site.get("/index.json").json()["error"]["code"] == "workspace.missing"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(InvalidSpec("window", "bad"), 400, id="spec"),
        pytest.param(DataError("bad data"), 400, id="data"),
        pytest.param(ReadError("bad", file="x.csv", line=3), 400, id="read"),
        pytest.param(ConfigError("bad"), 400, id="config"),
        pytest.param(WorkspaceError("several journeys"), 400, id="workspace"),
        pytest.param(UnknownKey("touchpoint", "x", ["y"]), 404, id="unknown"),
        pytest.param(WorkspaceNotFound("gone"), 404, id="missing"),
        pytest.param(WorkspaceLocked("busy"), 409, id="locked"),
        pytest.param(JourneyInvalid([Problem(code="x", message="m")]), 422, id="invalid"),
        pytest.param(UploadTooLarge("big"), 413, id="too-large"),
        pytest.param(RenderError("chromium crashed"), 500, id="render"),
    ],
)
def test_status_table(error: Exception, status: int) -> None:
    assert status_for(error) == status  # type: ignore[arg-type]
