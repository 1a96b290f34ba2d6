"""Analytics results made by hand, with the columns the analytics issues specify."""

from __future__ import annotations

from typing import Any

import pandas as pd

from klantreis.result import Result


class FixedFigureResult(Result):
    """A result whose figure is a fixed bar chart (the report test does not depend on
    other engineers' chart modules)."""

    def figure(self, **options: Any) -> Any:
        import plotly.graph_objects as go

        from klantreis.render.charts._style import apply_style

        fig = go.Figure(
            go.Bar(x=list(self.table.iloc[:, 1].astype(str)), y=list(self.table.iloc[:, 2]))
        )
        return apply_style(fig, title=self.name)


class NoFigureResult(Result):
    def figure(self, **options: Any) -> Any:
        raise NotImplementedError("no figure yet")


def funnel(cls: type[Result] = FixedFigureResult) -> Result:
    table = pd.DataFrame(
        {
            "step": [1, 2, 3, 4],
            "name": ["ad", "site", "trial", "signup"],
            "customers": [1000, 600, 240, 200],
            "conversion_from_start": [1.0, 0.6, 0.24, 0.2],
            "conversion_from_previous": [1.0, 0.6, 0.4, 200 / 240],
            "dropped": [400, 360, 40, 0],
            "median_seconds_from_previous": [float("nan"), 3600.0, 86400.0 * 2, 5400.0],
            "p90_seconds_from_previous": [float("nan"), 7200.0, 86400.0 * 5, 9000.0],
        }
    )
    return cls(
        "funnel",
        table,
        "Ordered funnel, 30-day window from step 1, customers.",
        params={"steps": ["ad", "site", "trial", "signup"], "window": "30d", "mode": "ordered"},
    )


def experience(metric: str, rows: list[tuple[str, int, float, float, float]]) -> Result:
    table = pd.DataFrame(rows, columns=["key", "responses", "score", "low", "high"])
    return NoFigureResult(
        "experience",
        table,
        f"{metric} per touchpoint.",
        params={"metric": metric, "by": "touchpoint"},
    )


def attribution() -> Result:
    rows = []
    for model, values in {
        "last_touch": {"ad": 0.0, "site": 10.0, "trial": 190.0},
        "markov": {"ad": 50.0, "site": 90.0, "trial": 60.0},
    }.items():
        rows += [
            {"key": k, "model": model, "conversions": v, "value": v * 40} for k, v in values.items()
        ]
    return NoFigureResult(
        "attribution",
        pd.DataFrame(rows),
        "Attribution of 200 conversions.",
        params={"models": ["last_touch", "markov"]},
    )


def gap() -> Result:
    table = pd.DataFrame(
        {
            "touchpoint": ["site", "signup", "ad"],
            "mapped": [True, True, True],
            "responses": [40, 0, 10],
            "measured": [2.5, float("nan"), 3.2],
            "designed": [2.0, 3.0, 3.0],
            "desired": [4.0, 5.0, 4.0],
            "gap": [1.5, 2.0, 0.8],
            "customers": [600, 200, 1000],
            "priority": [900.0, 400.0, 800.0],
            "basis": ["measured", "designed", "measured"],
        }
    ).sort_values("priority", ascending=False)
    return NoFigureResult(
        "gap",
        table.reset_index(drop=True),
        "Gap = desired - measured.",
        params={"metric": "emotion"},
    )


def whatif() -> Result:
    table = pd.DataFrame(
        {
            "rank": [1, 2, 3, 4],
            "touchpoint": ["site", "trial", "ad", "app"],
            "change": [
                "20% fewer leave at site",
                "20% fewer leave at trial",
                "20% fewer leave at ad",
                "20% fewer leave at app",
            ],
            "conversion_gain": [0.031, 0.012, 0.004, -0.001],
            "ci_low": [0.02, 0.005, -0.001, -0.003],
            "ci_high": [0.04, 0.02, 0.009, 0.001],
        }
    )
    return NoFigureResult(
        "whatif",
        table,
        "Each touchpoint improved by the same effort.",
        params={"kind": "rank", "metric": "conversion", "effort": 0.2},
    )
