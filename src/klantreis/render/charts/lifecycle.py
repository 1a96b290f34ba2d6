"""Lifecycle stacked bars: new, returning and resurrecting up, dormant down."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, NEUTRAL, PALETTE, apply_style

COLOURS = {"new": PALETTE[0], "returning": PALETTE[2], "resurrecting": PALETTE[1], "dormant": BAD}


def lifecycle_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Stacked bars per period; dormant customers drawn below zero."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table
    fig = go.Figure()
    for status in ("new", "returning", "resurrecting", "dormant"):
        part = df[df["status"] == status]
        sign = -1 if status == "dormant" else 1
        fig.add_bar(
            x=[str(p) for p in part["period"]],
            y=[sign * int(n) for n in part["customers"]],
            name=t(f"loyalty.status.{status}", lang),
            marker_color=COLOURS.get(status, NEUTRAL),
        )
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title=t("loyalty.lifecycle.customers", lang))
    fig.update_xaxes(type="category")
    period = result.params.get("period", "month")
    word = t(f"loyalty.period.{period}", lang) if period in ("day", "week", "month") else period
    return apply_style(fig, title=t("loyalty.lifecycle.title", lang, period=word))
