"""Time to convert (distribution per group) and time in each phase (median with p90 whisker)."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import PALETTE, apply_style


def timing_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Bars of a ``timing`` result, in days.

    Time to convert: converted customers per time bucket, a bar per group. Time in
    phase: the median per phase and group, the whisker reaching the 90th percentile.
    """
    import plotly.graph_objects as go

    from klantreis.i18n import t

    days = t("paths.timing.days", lang)
    fig = go.Figure()
    if result.params.get("kind") == "convert":
        dist = result.extras["distribution"]
        for i, (group, part) in enumerate(dist.groupby("group", sort=False)):
            fig.add_trace(
                go.Bar(
                    x=part["bucket"],
                    y=part["customers"],
                    name=str(group),
                    marker_color=PALETTE[i % len(PALETTE)],
                )
            )
        fig.update_yaxes(title=t("paths.chart.customers", lang))
        fig.update_layout(barmode="group")
        return apply_style(fig, title=t("paths.timing.title.convert", lang))
    df = result.table
    for i, (group, part) in enumerate(df.groupby("group", sort=False)):
        median = part["median_seconds"] / 86400
        p90 = part["p90_seconds"] / 86400
        fig.add_trace(
            go.Bar(
                x=part["phase"],
                y=median,
                name=str(group),
                marker_color=PALETTE[i % len(PALETTE)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (p90 - median).clip(lower=0),
                    "arrayminus": [0] * len(part),
                },
                customdata=part["measured"],
                hovertemplate="%{x}: "
                + t("paths.chart.median", lang)
                + " %{y:.2f} "
                + days
                + " (n=%{customdata})<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_yaxes(title=days)
    fig.update_layout(barmode="group")
    return apply_style(fig, title=t("paths.timing.title.phase", lang))
