"""The pages: each builds its context dataclass by calling the library, nothing more.

Endpoints receive the app state and a :class:`Query` (path, query and form values)
and return a :class:`Page`; the app turns a page into HTML or its JSON twin. They run
under the state's lock (see :mod:`klantreis.web.state`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec, KlantreisError
from klantreis.i18n import t
from klantreis.web.context import (
    FunnelContext,
    HomeContext,
    IngestRow,
    JourneyLink,
    MapContext,
    Option,
    ProblemRow,
    ReportContext,
    ValidationContext,
    ValidationFile,
)

if TYPE_CHECKING:
    from klantreis.errors import Problem
    from klantreis.model import Journey
    from klantreis.web.state import AppState
    from klantreis.web.urls import Urls

__all__ = [
    "FUNNEL_MODES",
    "MAP_STATES",
    "Page",
    "Query",
    "funnel_page",
    "home",
    "journey_map_page",
    "report_page",
    "validation_page",
]

MAP_STATES = ("as-is", "to-be", "both")
FUNNEL_MODES = ("ordered", "strict", "any-order")
FUNNEL_SLOTS = 6


@dataclass
class Query:
    """What a request carries: path parameters, query values, form values and files."""

    path: dict[str, str] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)
    content_length: int | None = None
    fmt: str = "html"

    def get(self, name: str, default: str | None = None) -> str | None:
        found = self.values.get(name)
        return found[-1] if found else default

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))


@dataclass
class Page:
    """A page: its context, and either our template or a complete page from the library."""

    context: Any
    template: str | None = None
    html: str | None = None
    title: str = ""
    status: int = 200
    head: str = ""  # extra tags for a library page's <head> (plotly.js)


def _choice(name: str, value: str | None, allowed: list[str], default: str | None) -> str | None:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise InvalidSpec(name, "not one of the allowed values", value=value, allowed=allowed)
    return value


def _personas(journey: Journey, lang: str) -> list[Option]:
    return [Option(p.key, p.label(lang)) for p in journey.personas]


def _persona(journey: Journey, query: Query) -> str | None:
    return _choice("persona", query.get("persona"), [p.key for p in journey.personas], None)


def _overview(state: AppState, journey: Journey, persona: str | None) -> Any:
    from klantreis.analytics import run_all

    ws = state.workspace()
    return state.cached(
        ("overview", journey.key, persona),
        lambda: run_all(ws, persona=persona, journey=journey.key),
    )


def _map_results(state: AppState, journey: Journey, persona: str | None) -> Any:
    """What the map needs: the report's results when computed already, else only the
    map's own analyses (a persona's map must not wait for every analysis)."""
    from klantreis.analytics.overview import map_results

    full = state.peek(("overview", journey.key, persona))
    if full is not None:
        return full
    ws = state.workspace()
    return state.cached(
        ("map", journey.key, persona),
        lambda: map_results(ws, persona=persona, journey=journey.key),
    )


# -- home ------------------------------------------------------------------------------
def home(state: AppState, query: Query, urls: Urls) -> Page:
    ws = state.workspace()
    lang = ws.settings.language
    journeys: list[JourneyLink] = []
    error = None
    try:
        for j in ws.journeys():
            journeys.append(
                JourneyLink(
                    key=j.key,
                    name=j.label(lang),
                    touchpoints=len(j.touchpoints),
                    map_url=urls.journey_map(j.key),
                    report_url=urls.report(j.key),
                    funnel_url=urls.funnel(j.key),
                )
            )
    except KlantreisError as exc:  # a bad journey file: say so and link to the check page
        error = str(exc)
    events = ws.events
    counts = {
        "events": int(events.count().execute()),
        "feedback": int(ws.feedback.count().execute()),
        "customers": int(ws.customers.count().execute()),
        "customers_seen": int(events.customer_id.nunique().execute()),
    }
    context = HomeContext(
        workspace=ws.path.name,
        language=lang,
        journeys=journeys,
        counts=counts,
        ingests=_last_ingests(ws),
        journeys_error=error,
    )
    return Page(context, template="home.html.j2", title=t("web.home.title", lang))


def _last_ingests(ws: Any, limit: int = 10) -> list[IngestRow]:
    from pathlib import PurePath

    import ibis

    table = ws.ingests
    frame = table.order_by(ibis.desc(table.finished_at)).limit(limit).execute()
    rows = []
    for rec in frame.to_dict("records"):
        finished = rec.get("finished_at")
        rows.append(
            IngestRow(
                file=PurePath(str(rec.get("file") or "")).name,
                kind=str(rec.get("kind") or ""),
                read=_int(rec.get("read")),
                stored=_int(rec.get("stored")),
                duplicates=_int(rec.get("duplicates")),
                rejected=_int(rec.get("rejected")),
                unmapped=_int(rec.get("unmapped")),
                finished_at=None if finished is None or finished != finished else str(finished),
            )
        )
    return rows


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# -- the journey map -------------------------------------------------------------------
def journey_map_page(state: AppState, query: Query, urls: Urls) -> Page:
    from klantreis.render import journey_map, map_metrics_from_results

    ws = state.workspace()
    lang = ws.settings.language
    journey = ws.journey(query.path["journey"])
    map_state = _choice("state", query.get("state"), list(MAP_STATES), "as-is") or "as-is"
    persona = _persona(journey, query)
    overview = _map_results(state, journey, persona)
    metrics = map_metrics_from_results(overview, journey)
    html = journey_map(journey, lang=lang, state=map_state, persona=persona, metrics=metrics)
    context = MapContext(
        journey=journey.key,
        name=journey.label(lang),
        state=map_state,
        persona=persona,
        states=[Option(s, t(f"web.state.{s}", lang)) for s in MAP_STATES],
        personas=_personas(journey, lang),
        metrics={
            "touchpoints": {k: dataclasses.asdict(v) for k, v in metrics.touchpoints.items()},
            "phases": {k: dataclasses.asdict(v) for k, v in metrics.phases.items()},
        },
        skipped=dict(overview.skipped),
    )
    return Page(context, html=html, title=t("web.nav.map", lang))


# -- the report ------------------------------------------------------------------------
def report_page(state: AppState, query: Query, urls: Urls) -> Page:
    from klantreis.render import build_report

    ws = state.workspace()
    lang = ws.settings.language
    journey = ws.journey(query.path["journey"])
    persona = _persona(journey, query)
    overview = _overview(state, journey, persona)
    context = ReportContext(
        journey=journey.key,
        name=journey.label(lang),
        persona=persona,
        personas=_personas(journey, lang),
        results={name: result.to_dict() for name, result in overview.items()},
        skipped=dict(overview.skipped),
    )
    if query.fmt == "json":  # the numbers only: no need to draw the report
        return Page(context, title=t("web.report.title", lang))
    html = state.cached(
        ("report", journey.key, persona, lang),
        lambda: build_report(journey, overview, lang=lang, include_plotlyjs=False),
    )
    script = f'<script src="{urls.static("plotly.min.js")}"></script>'
    return Page(context, html=html, title=t("web.report.title", lang), head=script)


# -- the funnel ------------------------------------------------------------------------
def funnel_page(state: AppState, query: Query, urls: Urls) -> Page:
    from klantreis.analytics.funnel import funnel

    ws = state.workspace()
    lang = ws.settings.language
    journey = ws.journey(query.path["journey"])
    keys = [tp.key for tp in journey.touchpoints]
    steps = [s for s in query.getlist("steps") if s]
    for step in steps:
        _choice("steps", step, keys, None)
    window = query.get("window") or "30d"
    mode = str(_choice("mode", query.get("mode"), list(FUNNEL_MODES), "ordered"))
    result = figure = None
    if len(steps) >= 2:
        found = funnel(ws, steps=steps, window=window, mode=mode, lang=lang)
        result = found.to_dict()
        try:
            figure = found.figure().to_json()
        except NotImplementedError:  # no chart for this result yet: the table still shows
            figure = None
    elif steps:
        raise InvalidSpec("steps", t("web.funnel.hint", lang), value=steps)
    context = FunnelContext(
        journey=journey.key,
        name=journey.label(lang),
        touchpoints=[Option(tp.key, tp.label(lang)) for tp in journey.touchpoints],
        modes=[Option(m, t(f"web.funnel.mode.{m}", lang)) for m in FUNNEL_MODES],
        steps=steps,
        window=window,
        mode=mode,
        slots=max(FUNNEL_SLOTS, len(steps)),
        result=result,
        figure=figure,
    )
    return Page(context, template="funnel.html.j2", title=t("web.funnel.title", lang))


# -- journey validation ------------------------------------------------------------------
def problem_row(problem: Problem) -> ProblemRow:
    from pathlib import PurePath

    name = PurePath(problem.file).name if problem.file else "<journey>"
    where = name if problem.line is None else f"{name}:{problem.line}"
    return ProblemRow(
        where=where,
        line=problem.line,
        severity=problem.severity,
        field=problem.field,
        code=problem.code,
        message=problem.message,
    )


def validation_page(state: AppState, query: Query, urls: Urls) -> Page:
    from klantreis.model import journey_file_problems

    ws = state.workspace()
    lang = ws.settings.language
    files = []
    for path in ws.journey_files():
        journey, problems = journey_file_problems(path, lang=lang)
        files.append(
            ValidationFile(
                file=path.name,
                journey=journey.key if journey is not None else None,
                problems=[problem_row(p) for p in problems],
            )
        )
    rows = [p for f in files for p in f.problems]
    context = ValidationContext(
        files=files,
        errors=sum(p.severity == "error" for p in rows),
        warnings=sum(p.severity != "error" for p in rows),
    )
    return Page(context, template="validate.html.j2", title=t("web.validate.title", lang))
