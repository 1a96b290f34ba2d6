"""The report: one self-contained HTML file a manager can open anywhere, offline.

It holds the journey map (with the measured numbers from the results), the key
findings in plain words, the chart of every result that has one, and the definition
and parameters behind every number. plotly.js is embedded once from the installed
plotly package; CSS is inline; opening the file makes no network request.

    >>> from klantreis.model import Journey
    >>> html = build_report(Journey(key="j", name="Demo"), {}, lang="en", include_plotlyjs=False)
    >>> "<h1>Customer journey report: Demo</h1>" in html
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from klantreis.i18n import catalog, check_language, format_date, t
from klantreis.render.findings import find_all
from klantreis.render.journey_map import journey_map_fragment
from klantreis.render.metrics import MapMetrics, map_metrics_from_results

if TYPE_CHECKING:
    from klantreis.model.journey import Journey

__all__ = ["MapPanel", "ReportSection", "build_report", "report_sections"]


@dataclass
class ReportSection:
    """One result in the report: its anchor, title, chart HTML (or None), definition."""

    anchor: str
    title: str
    definition: str
    params: list[tuple[str, str]]
    chart: str | None
    failure: str | None = None


@dataclass
class MapPanel:
    """One map of the report's persona switcher: persona key ('' for all customers),
    the tab's label, the radio button's id and the map's HTML."""

    key: str
    label: str
    anchor: str
    html: Any


def _title(name: str, params: Mapping[str, Any], lang: str) -> str:
    key = f"render.chart.{name}"
    title = t(key, lang) if key in catalog() else name.replace("_", " ").capitalize()
    metric = str(params.get("metric") or "")
    if not metric:
        return title
    key = f"render.metric.{metric}"
    shown = (
        metric.upper()
        if metric in ("nps", "csat", "ces")
        else (t(key, lang) if key in catalog() else metric)
    )
    return f"{title} ({shown})"


def _anchor(key: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", str(key).lower()).strip("-") or "result"
    anchor, n = f"r-{base}", 1
    while anchor in used:
        n += 1
        anchor = f"r-{base}-{n}"
    used.add(anchor)
    return anchor


def report_sections(results: Mapping[str, Any], lang: str) -> list[ReportSection]:
    """The charts and definitions of ``results`` (a result without a figure yet, whose
    ``figure()`` raises NotImplementedError, keeps its definition and has no chart)."""
    sections = []
    used: set[str] = set()
    for key, result in results.items():
        anchor = _anchor(key, used)
        failure = None
        try:
            fig = result.figure(lang=lang)
        except NotImplementedError:
            chart = None
        except Exception as exc:  # one broken chart must not cost the report
            chart = None
            failure = t("render.report.chart_failed", lang, error=f"{type(exc).__name__}: {exc}")
        else:
            chart = fig.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"{anchor}-chart",
                config={"displaylogo": False, "responsive": True},
            )
        params = [(str(k), _param(v)) for k, v in (result.params or {}).items()]
        sections.append(
            ReportSection(
                anchor,
                _title(result.name, result.params or {}, lang),
                result.definition,
                params,
                chart,
                failure,
            )
        )
    return sections


def _param(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def _plotlyjs() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def build_report(
    journey: Journey,
    results: Mapping[str, Any],
    *,
    lang: str | None = None,
    title: str | None = None,
    metrics: MapMetrics | None = None,
    today: date | None = None,
    include_plotlyjs: bool = True,
    persona: str | None = None,
    persona_metrics: Mapping[str, MapMetrics] | None = None,
) -> str:
    """The report as one self-contained HTML string.

    ``results``: name -> analytics Result (any that exist); ``metrics``: the map's
    measured numbers (default: taken from the funnel and experience results);
    ``persona``: the report is about this persona's customers (its profile in the map's
    header; pass results computed for it); ``persona_metrics``: persona key -> the map's
    numbers measured on that persona's customers: the report then has one map per
    persona next to the one for all customers, behind tabs that need no script;
    ``include_plotlyjs=False`` leaves plotly.js out (only for tests and previews).
    """
    from klantreis.render._templates import render_template

    lang = check_language(lang or journey.language)
    today = today or date.today()
    who = journey.persona(persona) if persona else None
    if metrics is None and results:
        metrics = map_metrics_from_results(results, journey)
    has_tobe = any(tp.to_be is not None or tp.states != "both" for tp in journey.touchpoints)
    first = journey_map_fragment(
        journey, lang=lang, state="as-is", persona=persona, metrics=metrics, today=today, heading=3
    )
    panels = []
    if persona_metrics:
        used: set[str] = set()
        panels.append(
            MapPanel(
                persona or "",
                who.label(lang) if who else t("render.header.all_customers", lang),
                _anchor("all" if persona is None else persona, used).replace("r-", "map-", 1),
                _markup(first),
            )
        )
        for key, numbers in persona_metrics.items():
            if key == persona:
                continue
            panels.append(
                MapPanel(
                    key,
                    journey.persona(key).label(lang),
                    _anchor(key, used).replace("r-", "map-", 1),
                    _markup(
                        journey_map_fragment(
                            journey,
                            lang=lang,
                            state="as-is",
                            persona=key,
                            metrics=numbers,
                            today=today,
                            heading=3,
                        )
                    ),
                )
            )
    maps = [] if panels else [first]
    if has_tobe:
        maps.append(
            journey_map_fragment(
                journey,
                lang=lang,
                state="both",
                persona=persona,
                metrics=None,
                today=today,
                heading=3,
            )
        )
    sections = report_sections(results, lang)
    heading = title or f"{t('render.report.title', lang)}: {journey.label(lang)}"
    if title is None and who is not None:
        heading += f" ({who.label(lang)})"
    return render_template(
        "report.html.j2",
        lang=lang,
        title=heading,
        generated=t("render.report.generated", lang, date=format_date(today, lang)),
        findings=find_all(journey, results, lang),
        maps=[_markup(m) for m in maps],
        panels=panels,
        sections=sections,
        charts=[s for s in sections if s.chart],
        plotlyjs=_plotlyjs() if include_plotlyjs else "",
        text={
            k.removeprefix("render.report."): t(k, lang)
            for k, texts in catalog().items()
            if k.startswith("render.report.") and "{" not in texts["en"]
        },
    )


def _markup(html: str) -> Any:
    from markupsafe import Markup

    return Markup(html)
