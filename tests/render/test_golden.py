"""Golden files: the map's SVG, the shared chart style and the figure JSON of charts
built from fixed hand-made results, pinned byte for byte.

Regenerate after a deliberate change with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_golden.py

and look at the difference (tests/render/golden/) before keeping it. Figure JSON is
plotly's own serialisation with the volatile part stripped: ``layout.template`` (plotly's
theme, pinned by the plotly version, not by us).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from klantreis.render import MapMetrics, TouchpointMetrics, journey_map_svg
from klantreis.render.charts._style import apply_style
from klantreis.result import Result
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


NAN = float("nan")

#: Hand-made results with the columns the analytics produce (name -> Result).
RESULTS = {
    "funnel": Result(
        "funnel",
        pd.DataFrame(
            {
                "step": [1, 2, 3],
                "name": ["ad", "site", "signup"],
                "customers": [1000, 600, 200],
                "conversion_from_start": [1.0, 0.6, 0.2],
            }
        ),
        "Ordered funnel.",
    ),
    "retention": Result(
        "retention",
        pd.DataFrame(
            {
                "cohort": ["2026-01-01", "2026-01-01", "2026-02-01"],
                "period": [0, 1, 0],
                "customers": [10, 10, 4],
                "retained": [10, 4, 4],
                "share": [1.0, 0.4, 1.0],
            }
        ),
        "Cohort retention.",
        params={"period": "month"},
    ),
    "lifecycle": Result(
        "lifecycle",
        pd.DataFrame(
            {
                "period": ["2026-01-01"] * 4 + ["2026-02-01"] * 4,
                "status": ["new", "returning", "resurrecting", "dormant"] * 2,
                "customers": [5, 0, 0, 0, 2, 3, 0, 2],
            }
        ),
        "Lifecycle.",
        params={"period": "month"},
    ),
    "experience": Result(
        "experience",
        pd.DataFrame(
            {
                "key": ["site", "zz"],
                "responses": [10, 4],
                "score": [20.0, -50.0],
                "low": [-30.0, -100.0],
                "high": [70.0, 10.0],
                "mapped": [True, False],
            }
        ),
        "NPS per touchpoint.",
        params={"metric": "nps", "by": "touchpoint"},
    ),
    "gap": Result(
        "gap",
        pd.DataFrame(
            {
                "touchpoint": ["site", "ad"],
                "gap": [1.5, -0.5],
                "customers": [600, 1000],
                "priority": [900.0, -500.0],
                "basis": ["measured", "designed"],
            }
        ),
        "Gap.",
    ),
    "churn": Result(
        "churn",
        pd.DataFrame(
            {
                "status": ["active", "inactive", "ended"],
                "customers": [6, 3, 1],
                "share": [0.6, 0.3, 0.1],
            }
        ),
        "Churn.",
        params={"inactive": "90d"},
    ),
    "loops": Result(
        "loops",
        pd.DataFrame(
            {
                "loop": ["purchase", "service", "loyalty"],
                "buyers": [4, 4, 4],
                "entered": [4, 2, 0],
                "share": [1.0, 0.5, 0.0],
                "low": [0.51, 0.15, 0.0],
                "high": [1.0, 0.85, 0.49],
                "cycles": [5, 3, 0],
                "cycles_per_customer": [1.25, 1.5, NAN],
            }
        ),
        "Loops.",
    ),
    "ambassadors": Result(
        "ambassadors",
        pd.DataFrame(
            {
                "kind": ["promoters", "ambassadors", "prompted", "spontaneous"],
                "customers": [10, 4, 1, 3],
                "share": [1.0, 0.4, 0.1, 0.3],
                "low": [0.72, 0.17, 0.02, 0.11],
                "high": [1.0, 0.69, 0.4, 0.6],
            }
        ),
        "Ambassadors.",
    ),
    "repeat_purchase": Result(
        "repeat_purchase",
        pd.DataFrame(
            [
                {
                    "buyers": 5,
                    "repeat_buyers": 2,
                    "rate": 0.4,
                    "low": 0.12,
                    "high": 0.77,
                    "purchases_per_buyer": 1.6,
                }
            ]
        ),
        "Repeat purchase.",
    ),
}


def figure_json(fig: go.Figure) -> str:
    data = json.loads(fig.to_json())
    data["layout"].pop("template", None)
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", list(RESULTS))
def test_chart_figure_json(name: str, lang: str) -> None:
    check(f"chart-{name}-{lang}.json", figure_json(RESULTS[name].figure(lang=lang)))
