"""The render stage: the journey map, charts, the report and exports.

Renderers never query the store: they draw a :class:`~klantreis.model.Journey` and the
analytics results (or :class:`MapMetrics`) a caller computed.

    >>> from klantreis.model import Journey
    >>> journey_map(Journey(key="j", name="Demo"), lang="nl").startswith("<!DOCTYPE html>")
    True
"""

from klantreis.render.export import (
    html_to_pdf,
    html_to_png,
    journey_from_json,
    journey_to_json,
    journey_to_mermaid,
    read_journey_file,
    read_journey_xlsx,
    write_journey,
    write_journey_xlsx,
    write_map,
    write_report,
)
from klantreis.render.findings import Finding, find_all
from klantreis.render.journey_map import journey_map, journey_map_fragment, journey_map_svg
from klantreis.render.metrics import MapMetrics, TouchpointMetrics, map_metrics_from_results
from klantreis.render.report import build_report

__all__ = [
    "Finding",
    "MapMetrics",
    "TouchpointMetrics",
    "build_report",
    "find_all",
    "html_to_pdf",
    "html_to_png",
    "journey_from_json",
    "journey_map",
    "journey_map_fragment",
    "journey_map_svg",
    "journey_to_json",
    "journey_to_mermaid",
    "map_metrics_from_results",
    "read_journey_file",
    "read_journey_xlsx",
    "write_journey",
    "write_journey_xlsx",
    "write_map",
    "write_report",
]
