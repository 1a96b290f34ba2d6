"""The route table: every page of the web app, in one place.

Each route also answers as JSON at its twin path (``urls.json_twin``: ``/x.json``,
``/index.json`` for the home page) and with ``?format=json``.

=========  ================================  =========  ==========================
name       path                              methods    page
=========  ================================  =========  ==========================
home       /                                 GET        workspace, journeys, counts
map        /journeys/{journey}/map           GET        the journey map (state, persona)
report     /journeys/{journey}/report        GET        the report (persona)
funnel     /journeys/{journey}/funnel        GET        funnel form, table and chart
validate   /validate                         GET        problems in the journey files
upload     /upload                           GET, POST  upload a data file and ingest it
=========  ================================  =========  ==========================

Static files: ``/static/klantreis.css``, ``/static/klantreis.js`` and
``/static/plotly.min.js`` (the plotly package's own copy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from klantreis.web import pages, upload
from klantreis.web.pages import Page, Query
from klantreis.web.state import AppState
from klantreis.web.urls import Urls

__all__ = ["ROUTES", "Route"]


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    endpoint: Callable[[AppState, Query, Urls], Page]
    methods: tuple[str, ...] = ("GET",)


ROUTES: tuple[Route, ...] = (
    Route("home", "/", pages.home),
    Route("map", "/journeys/{journey}/map", pages.journey_map_page),
    Route("report", "/journeys/{journey}/report", pages.report_page),
    Route("funnel", "/journeys/{journey}/funnel", pages.funnel_page),
    Route("validate", "/validate", pages.validation_page),
    Route("upload", "/upload", upload.upload_page, ("GET", "POST")),
)
