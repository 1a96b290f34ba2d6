"""Churn: active, inactive and ended customers as horizontal bars."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, GOOD, NEUTRAL, PALETTE, apply_style

__all__ = ["churn_figure"]

COLOURS = {"active": GOOD, "inactive": PALETTE[1], "ended": BAD}


def churn_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """One bar per status (active on top) with the customers and their share."""
    import plotly.graph_objects as go

    from klantreis.i18n import format_number, format_percent, t

    df = result.table.iloc[::-1]
    statuses = [str(s) for s in df["status"]]
    text = [
        f"{format_number(int(n), lang)} ({format_percent(s, lang) if s == s else '-'})"
        for n, s in zip(df["customers"], df["share"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=[int(n) for n in df["customers"]],
            y=[t(f"loyalty.churn.{s}", lang) for s in statuses],
            orientation="h",
            marker_color=[COLOURS.get(s, NEUTRAL) for s in statuses],
            text=text,
            textposition="auto",
            customdata=[float(s) for s in df["share"]],
            hovertemplate="%{y}: %{x} (%{customdata:.1%})<extra></extra>",
        )
    )
    fig.update_xaxes(title=t("loyalty.lifecycle.customers", lang))
    fig.update_yaxes(type="category")
    inactive = result.params.get("inactive", "90d")
    return apply_style(fig, title=t("loyalty.churn.title", lang, inactive=inactive), height=300)
