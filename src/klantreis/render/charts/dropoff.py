"""The drop-off chart: last touchpoints and where customers went instead, as two bar panels."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, NEUTRAL, apply_style

__all__ = ["dropoff_figure"]


def dropoff_figure(result: Any, *, lang: str = "en", title: str | None = None) -> Any:
    """Horizontal bars: 'last touchpoint' and 'went instead to', customers per touchpoint."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from klantreis.i18n import t

    table = result.table
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(t("funnel.chart.last", lang), t("funnel.chart.instead", lang)),
        horizontal_spacing=0.2,
    )
    for col, (kind, colour) in enumerate((("last", NEUTRAL), ("instead", BAD)), start=1):
        rows = table[table["kind"] == kind].iloc[::-1]
        fig.add_trace(
            go.Bar(
                x=[int(v) for v in rows["customers"]],
                y=list(rows["touchpoint"]),
                orientation="h",
                marker={"color": colour},
                name=t(f"funnel.chart.{kind}", lang),
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    at = result.params.get("at", "?")
    return apply_style(fig, title=title or t("funnel.chart.dropoff_title", lang, at=at))
