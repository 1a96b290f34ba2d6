"""The funnel chart: a Plotly funnel of a funnel Result (built from the result, never querying)."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import PALETTE, apply_style

__all__ = ["funnel_figure"]


def funnel_figure(result: Any, *, lang: str = "en", title: str | None = None) -> Any:
    """One funnel trace per group (one trace without ``by=``); text shows share of start."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    table = result.table
    group = (
        next((c for c in table.columns if c != "step"), None)
        if table.columns[0] != "step"
        else None
    )
    fig = go.Figure()
    groups = [(None, table)] if group is None else list(table.groupby(group, sort=False))
    for i, (name, rows) in enumerate(groups):
        fig.add_trace(
            go.Funnel(
                name=str(name) if name is not None else t("funnel.chart.customers", lang),
                y=[f"{s}. {n}" for s, n in zip(rows["step"], rows["name"], strict=True)],
                x=[int(v) for v in rows["customers"]],
                textinfo="value+percent initial",
                marker={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    return apply_style(fig, title=title or t("funnel.chart.title", lang))
