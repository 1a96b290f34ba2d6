"""In a real headless Chromium: the report opens without console errors or network
requests, renders its charts, runs no injected script; PNG and PDF exports."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from klantreis.model import Journey, Phase, Touchpoint
from klantreis.render import build_report, html_to_pdf, write_map, write_report
from klantreis.render._browser import Browser
from tests.render._journeys import fitness
from tests.render.test_report import TODAY, all_results

CHROMIUM = (
    shutil.which("chromium")
    or shutil.which("chromium-browser")
    or os.environ.get("KLANTREIS_CHROMIUM")
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM, reason="headless Chromium is not installed (Debian: apt-get install chromium)"
    ),
]
#: Screenshots are kept here for a person to look at.
SHOTS = Path(os.environ.get("KLANTREIS_SCREENSHOTS", "/tmp/klantreis-screenshots"))


class _Recorder(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[str], Path]]:
    """A local HTTP server for tmp_path that records every request."""
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})

    def factory(*args: object, **kwargs: object) -> http.server.SimpleHTTPRequestHandler:
        return handler(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", requests, tmp_path
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def pdf_pages(path: Path) -> int:
    if shutil.which("pdfinfo"):
        out = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, text=True, check=True
        ).stdout
        return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def test_report_opens_offline_without_errors(server: tuple[str, list[str], Path]) -> None:
    base, requests, folder = server
    j = fitness(name="<script>window.__xss = 1</script>")
    j.touchpoints[0].thoughts[0].text = '<img src="/pwned.png" onerror="window.__xss = 2">'
    html = build_report(j, all_results(), lang="nl", today=TODAY)
    (folder / "report.html").write_text(html, encoding="utf-8")
    with Browser() as browser:
        page = browser.open(f"{base}/report.html", width=1400, height=900)
        assert page.console_errors == []
        assert page.requests == [f"{base}/report.html"]
        assert browser.evaluate("window.__xss === undefined") is True
        assert (
            browser.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length") >= 1
        )
        assert browser.evaluate("document.querySelectorAll('svg.journey-map').length") == 2
        assert browser.evaluate("document.documentElement.lang") == "nl"
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = browser.screenshot(SHOTS / "report.png")
    assert requests == ["/report.html"]
    width, height = png_size(shot)
    assert width >= 1400 and height > 2000


def test_map_png_and_one_page_pdfs(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = write_map(fitness(), SHOTS / "map-both.png", lang="nl", state="both", persona="sanne")
    width, height = png_size(png)
    assert width > 2 * 1400 and height > 2 * 900  # drawn at twice the size for sharpness
    for paper, size in (("A4", "841.92 x 595.92"), ("A3", "1191.12 x 841.92")):
        pdf = write_map(fitness(), tmp_path / f"map-{paper}.pdf", lang="en", paper=paper)
        assert pdf_pages(pdf) == 1
        if shutil.which("pdfinfo"):
            info = subprocess.run(
                ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
            ).stdout
            assert size in info  # landscape
    big = Journey(
        key="big",
        phases=[Phase(key=f"p{i}") for i in range(8)],
        touchpoints=[
            Touchpoint(key=f"t{i}", phase=f"p{i % 8}", name="contactmoment " * 4) for i in range(40)
        ],
    )
    assert pdf_pages(write_map(big, tmp_path / "big.pdf", lang="en")) == 1


def test_report_pdf_pages(tmp_path: Path) -> None:
    html = build_report(fitness(), all_results(), lang="en", today=TODAY)
    (tmp_path / "r.html").write_text(html, encoding="utf-8")
    with Browser() as browser:
        browser.open((tmp_path / "r.html").as_uri(), width=1600, height=1000)
        width, height = browser.content_size()
        pdf = browser.pdf(tmp_path / "report.pdf", paper="A4", fit="width")
    pages = pdf_pages(pdf)
    # the content height scaled to the page width, over the printable page height
    scale = min(1.0, (11.69 - 0.6) * 96 / width)
    minimum = int(height * scale // ((8.27 - 0.6) * 96)) + 1
    assert minimum <= pages <= minimum + 4  # a few extra pages where charts are kept whole
    small = write_report("<html><body><p>Hallo</p></body></html>", tmp_path / "one.pdf", paper="A3")
    assert pdf_pages(small) == 1
    # A4 landscape less 0.3 inch margins is 1065 x 736 px; a page laid out 1600 px wide is
    # scaled by 1065 / 1600 = 0.66, so a page holds 1100 px of content height
    for px, expected in ((1000, 1), (2000, 2), (3000, 3)):
        block = f'<body style="margin:0"><div style="height:{px}px;background:#ddd"></div></body>'
        assert pdf_pages(html_to_pdf(block, tmp_path / f"{px}.pdf")) == expected


def test_persona_tabs_switch_without_script(server: tuple[str, list[str], Path]) -> None:
    from klantreis.model import Persona
    from klantreis.render import MapMetrics, TouchpointMetrics

    base, requests, folder = server
    j = fitness()
    j.personas.append(Persona(key="jan", name="Jan"))
    per = {
        "sanne": MapMetrics(touchpoints={"ad": TouchpointMetrics(customers=40)}),
        "jan": MapMetrics(touchpoints={"ad": TouchpointMetrics(customers=7)}),
    }
    html = build_report(j, all_results(), lang="nl", today=TODAY, persona_metrics=per)
    (folder / "personas.html").write_text(html, encoding="utf-8")
    visible = (
        "Array.from(document.querySelectorAll('.map-panel'))"
        ".filter(p => p.offsetParent !== null).map(p => p.dataset.persona)"
    )
    with Browser() as browser:
        page = browser.open(f"{base}/personas.html", width=1400, height=900)
        assert page.console_errors == []
        assert browser.evaluate(visible) == [""]
        browser.evaluate("document.querySelector('label[for=map-jan]').click()")
        assert browser.evaluate(visible) == ["jan"]
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SHOTS / "report-persona-tabs.png")
    assert requests == ["/personas.html"]
