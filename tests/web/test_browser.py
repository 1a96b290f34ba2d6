"""In a real headless Chromium: the map and report pages load from the app alone (no
request leaves 127.0.0.1), without console errors; a screenshot of the map is kept."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.web.conftest import Served

CHROMIUM = (
    os.environ.get("KLANTREIS_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
    ),
]
#: Screenshots are kept here for a person to look at.
SHOTS = Path(os.environ.get("KLANTREIS_SCREENSHOTS", "/tmp/klantreis-screenshots"))


def _local(requests: list[str], base: str) -> list[str]:
    return [r for r in requests if not (r.startswith(base) or r.startswith("data:"))]


def test_map_and_report_in_chromium(site: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    from klantreis.render._browser import Browser
    from klantreis.result import Result
    from tests.web.test_pages import _fake_figure

    monkeypatch.setattr(Result, "figure", _fake_figure)

    SHOTS.mkdir(parents=True, exist_ok=True)
    with Browser(timeout=120) as browser:
        report = browser.open(site.url + "/journeys/fitness/map?state=as-is", width=1400)
        assert report.console_errors == []
        assert _local(report.requests, site.url) == []
        assert browser.evaluate("document.querySelectorAll('svg').length") >= 1
        assert browser.evaluate("document.querySelector('.kr-nav') !== null")
        assert "Klantreiskaart" in browser.evaluate("document.querySelector('.kr-nav').innerText")
        shot = browser.screenshot(SHOTS / "web-map.png")
        assert shot.stat().st_size > 10_000

        report = browser.open(site.url + "/journeys/fitness/report", width=1400)
        assert report.console_errors == []
        assert _local(report.requests, site.url) == []
        assert site.url + "/static/plotly.min.js" in report.requests
        assert browser.evaluate("typeof window.Plotly") == "object"

        funnel = "/journeys/fitness/funnel?steps=website&steps=trial_lesson&steps=contract_signed"
        report = browser.open(site.url + funnel, width=1200)
        assert report.console_errors == [] and _local(report.requests, site.url) == []
        assert browser.evaluate("document.querySelectorAll('#kr-figure .main-svg').length") >= 1
        assert browser.evaluate("document.title").startswith("Trechter")
        browser.screenshot(SHOTS / "web-funnel.png")

        report = browser.open(site.url + "/upload", width=1200)
        assert report.console_errors == [] and _local(report.requests, site.url) == []
        browser.screenshot(SHOTS / "web-upload.png")
