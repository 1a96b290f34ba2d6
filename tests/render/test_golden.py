"""Golden files: the map's SVG and the shared chart style, pinned byte for byte.

Run with UPDATE_GOLDEN=1 to rewrite them after a deliberate change, and look
at the difference before keeping it.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import pytest

from klantreis.render import MapMetrics, TouchpointMetrics, journey_map_svg
from klantreis.render.charts._style import apply_style
from tests.render._journeys import fitness

GOLDEN = Path(__file__).parent / "golden"


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("state", ["as-is", "both"])
def test_map_svg(state: str) -> None:
    metrics = MapMetrics(
        touchpoints={
            "ad": TouchpointMetrics(
                customers=1000,
                conversion=1.0,
                dropoff=0.4,
                emotion=3.2,
                emotion_low=2.9,
                emotion_high=3.5,
            ),
            "site": TouchpointMetrics(
                customers=600,
                conversion=0.6,
                median_seconds=3600,
                emotion=2.5,
                emotion_low=2.2,
                emotion_high=2.8,
                nps=-10,
            ),
        },
        overlays={"Sanne": {"ad": 3.5, "site": 3.0, "trial": 3.8}},
    )
    svg = journey_map_svg(
        fitness(),
        lang="nl",
        state=state,
        persona="sanne",
        metrics=metrics,
        today=date(2026, 11, 22),
    )
    check(f"fitness-{state}.svg", svg.replace("><", ">\n<") + "\n")


def test_chart_style_figure_json() -> None:
    fig = apply_style(go.Figure(go.Bar(x=["a", "b"], y=[2, 1])), title="Trechter", height=400)
    layout = fig.to_plotly_json()["layout"]
    layout.pop("template")  # plotly's own theme, pinned by the plotly version
    check(
        "style-layout.json", json.dumps(layout, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
