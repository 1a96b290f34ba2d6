"""Retention heatmap: cohorts down, periods across, share retained as colour."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import apply_style


def retention_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Heatmap of ``share`` by cohort and period, with the retained count in the hover."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table
    cohorts = [str(c) for c in dict.fromkeys(df["cohort"])]
    periods = sorted(set(int(p) for p in df["period"]))
    grid = {(str(r.cohort), int(r.period)): r for r in df.itertuples(index=False)}
    z = [[grid[(c, p)].share if (c, p) in grid else None for p in periods] for c in cohorts]
    text = [
        [f"{grid[(c, p)].share:.0%}" if (c, p) in grid else "" for p in periods] for c in cohorts
    ]
    custom = [[grid[(c, p)].retained if (c, p) in grid else None for p in periods] for c in cohorts]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=periods,
            y=cohorts,
            text=text,
            texttemplate="%{text}",
            customdata=custom,
            zmin=0,
            zmax=1,
            colorscale="Blues",
            hovertemplate="%{y} +%{x}: %{z:.1%} (%{customdata})<extra></extra>",
            colorbar={"title": t("loyalty.retention.share", lang), "tickformat": ".0%"},
        )
    )
    fig.update_yaxes(
        autorange="reversed", title=t("loyalty.retention.cohort", lang), type="category"
    )
    fig.update_xaxes(title=t("loyalty.retention.period", lang), dtick=1)
    period = result.params.get("period", "month")
    word = t(f"loyalty.period.{period}", lang) if period in ("day", "week", "month") else period
    return apply_style(fig, title=t("loyalty.retention.title", lang, period=word))
