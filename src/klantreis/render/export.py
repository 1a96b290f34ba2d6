"""Exports: the map and the report to HTML, SVG, PNG and PDF; the journey to JSON, Excel
and a Mermaid ``journey`` diagram.

PNG and PDF go through headless Chromium (see :mod:`._browser`); PDFs are landscape
A4 or A3. The map PDF is scaled to one page; the report PDF is scaled to the page width
and runs over as many pages as it needs. SVG, HTML, JSON, Excel and Mermaid need no
browser.

    >>> from klantreis.model import Journey, Touchpoint
    >>> j = Journey(key="j", name="Demo", touchpoints=[
    ...     Touchpoint(key="site", name="Web: <site>", phase="awareness")])
    >>> print(journey_to_mermaid(j, lang="en"), end="")
    journey
        title Demo
        section Awareness
          Web#58; #60;site#62;: 3: Customer
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec
from klantreis.i18n import check_language, t
from klantreis.model.journey import Journey
from klantreis.render._excel import read_journey_xlsx, write_journey_xlsx

if TYPE_CHECKING:
    from datetime import date

    from klantreis.render.metrics import MapMetrics

__all__ = [
    "MAP_SUFFIXES",
    "PAPERS",
    "REPORT_SUFFIXES",
    "html_to_pdf",
    "html_to_png",
    "journey_from_json",
    "journey_to_json",
    "journey_to_mermaid",
    "read_journey_file",
    "read_journey_xlsx",
    "write_journey",
    "write_journey_xlsx",
    "write_map",
    "write_report",
]

MAP_SUFFIXES = (".html", ".svg", ".png", ".pdf")
REPORT_SUFFIXES = (".html", ".pdf")
JOURNEY_SUFFIXES = (".json", ".xlsx", ".mmd")
PAPERS = ("A4", "A3")


def _suffix(path: Path, allowed: tuple[str, ...], lang: str | None) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InvalidSpec(
            "output", t("render.export.suffix", lang, file=str(path), allowed=", ".join(allowed))
        )
    return suffix


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


# -- through the browser --------------------------------------------------------------
def _through_browser(html: str, path: Path, kind: str, lang: str | None, action: Any) -> Path:
    from klantreis.render._browser import Browser

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="klantreis-export-") as folder:
        page = Path(folder) / "page.html"
        page.write_text(html, encoding="utf-8")
        with Browser(kind=kind, lang=lang) as browser:
            browser.open(page.as_uri())
            action(browser, path)
    return path


def html_to_pdf(
    html: str,
    path: str | os.PathLike[str],
    *,
    paper: str = "A4",
    fit: str = "width",
    lang: str | None = None,
) -> Path:
    """Print an HTML page to a landscape PDF (``fit``: 'page' = one page, 'width')."""
    if paper not in PAPERS:
        raise InvalidSpec("paper", "unknown paper size", value=paper, allowed=list(PAPERS))
    return _through_browser(
        html, Path(path), "PDF", lang, lambda b, p: b.pdf(p, paper=paper, fit=fit)
    )


def html_to_png(
    html: str, path: str | os.PathLike[str], *, scale: float = 1.0, lang: str | None = None
) -> Path:
    """A PNG screenshot of the whole HTML page."""
    return _through_browser(
        html, Path(path), "PNG", lang, lambda b, p: b.screenshot(p, scale=scale)
    )


def write_map(
    journey: Journey,
    path: str | os.PathLike[str],
    *,
    lang: str | None = None,
    state: str = "as-is",
    persona: str | None = None,
    metrics: MapMetrics | None = None,
    paper: str = "A4",
    today: date | None = None,
) -> Path:
    """Write the journey map to ``path``: .html, .svg, .png or .pdf (one landscape page)."""
    from klantreis.render.journey_map import journey_map, journey_map_svg

    target = Path(path)
    lang = check_language(lang or journey.language)
    suffix = _suffix(target, MAP_SUFFIXES, lang)
    options: dict[str, Any] = {
        "lang": lang,
        "state": state,
        "persona": persona,
        "metrics": metrics,
        "today": today,
    }
    if suffix == ".svg":
        return _write_text(
            target, '<?xml version="1.0" encoding="UTF-8"?>\n' + journey_map_svg(journey, **options)
        )
    html = journey_map(journey, **options)
    if suffix == ".html":
        return _write_text(target, html)
    if suffix == ".png":
        return html_to_png(html, target, scale=2.0, lang=lang)
    return html_to_pdf(html, target, paper=paper, fit="page", lang=lang)


def write_report(
    html: str, path: str | os.PathLike[str], *, paper: str = "A4", lang: str | None = None
) -> Path:
    """Write a built report (see :func:`klantreis.render.report.build_report`): .html or .pdf."""
    target = Path(path)
    suffix = _suffix(target, REPORT_SUFFIXES, lang)
    if suffix == ".html":
        return _write_text(target, html)
    return html_to_pdf(html, target, paper=paper, fit="width", lang=lang)


# -- the journey itself ----------------------------------------------------------------
def journey_to_json(journey: Journey) -> str:
    """The journey as JSON (every field; reads back with :func:`journey_from_json`)."""
    return json.dumps(journey.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def journey_from_json(text: str) -> Journey:
    return Journey.model_validate_json(text)


_MERMAID_ESCAPES = {
    "#": "#35;",
    ";": "#59;",
    ":": "#58;",
    "<": "#60;",
    ">": "#62;",
    "&": "#38;",
    '"': "#34;",
    "%": "#37;",
    "{": "#123;",
    "}": "#125;",
}
_MERMAID_RE = re.compile("|".join(re.escape(c) for c in _MERMAID_ESCAPES))


def _mermaid_text(text: str) -> str:
    """Text that cannot break Mermaid syntax or inject markup (entity codes)."""
    flat = " ".join(str(text).split())
    return _MERMAID_RE.sub(lambda m: _MERMAID_ESCAPES[m.group(0)], flat) or "-"


def journey_to_mermaid(journey: Journey, *, lang: str | None = None, state: str = "as-is") -> str:
    """The journey as a Mermaid ``journey`` diagram: a section per phase, a task per
    touchpoint with its current experience mapped onto Mermaid's 1-5 score (3 when
    unknown) and the personas as actors."""
    lang = check_language(lang or journey.language)
    lo, hi = float(journey.scale.min), float(journey.scale.max)
    actors = ", ".join(_mermaid_text(p.label(lang)) for p in journey.personas) or (
        "Klant" if lang == "nl" else "Customer"
    )
    lines = ["journey", f"    title {_mermaid_text(journey.label(lang))}"]
    view = journey.state_view(state)
    for phase in journey.ordered_phases():
        tps = [tp for tp in view if tp.phase == phase.key]
        if not tps:
            continue
        lines.append(f"    section {_mermaid_text(phase.label(lang))}")
        for tp in tps:
            current = tp.experience.current
            score = (
                3
                if current is None or hi <= lo
                else round(1 + (float(current) - lo) / (hi - lo) * 4)
            )
            lines.append(
                f"      {_mermaid_text(tp.label(lang))}: {min(5, max(1, score))}: {actors}"
            )
    return "\n".join(lines) + "\n"


def write_journey(
    journey: Journey, path: str | os.PathLike[str], *, lang: str | None = None, state: str = "as-is"
) -> Path:
    """Write the journey to .json, .xlsx (editable, reads back) or .mmd (Mermaid)."""
    target = Path(path)
    suffix = _suffix(target, JOURNEY_SUFFIXES, lang)
    if suffix == ".json":
        return _write_text(target, journey_to_json(journey))
    if suffix == ".mmd":
        return _write_text(target, journey_to_mermaid(journey, lang=lang, state=state))
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_journey_xlsx(journey, target)


def read_journey_file(path: str | os.PathLike[str], *, lang: str | None = None) -> Journey:
    """Read a journey exported to .json or .xlsx back."""
    source = Path(path)
    suffix = _suffix(source, (".json", ".xlsx"), lang)
    if suffix == ".json":
        from pydantic import ValidationError

        from klantreis.errors import JourneyError

        try:
            return journey_from_json(source.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise JourneyError(f"{source}: {exc}") from None
    return read_journey_xlsx(source, lang=check_language(lang))
