"""Drivers forest plot: odds ratio with its 95% interval per feature, log scale."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, GOOD, NEUTRAL, apply_style


def drivers_figure(result: Any, *, lang: str = "en", top: int = 25, **_: Any) -> Any:
    """Points at the odds ratio with interval whiskers; a line at 1 (no effect)."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table.head(top).iloc[::-1]
    labels = [f"{k}: {v}" for k, v in zip(df["kind"], df["value"], strict=True)]
    colours = [
        (GOOD if r > 1 else BAD) if s else NEUTRAL
        for r, s in zip(df["odds_ratio"], df["significant"], strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=df["odds_ratio"].tolist(),
            y=labels,
            mode="markers",
            marker={"color": colours, "size": 10},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (df["high"] - df["odds_ratio"]).tolist(),
                "arrayminus": (df["odds_ratio"] - df["low"]).tolist(),
            },
            customdata=df["customers"].tolist(),
            hovertemplate="%{y}: OR %{x:.2f} (n=%{customdata})<extra></extra>",
        )
    )
    fig.add_vline(x=1, line_dash="dash", line_color=NEUTRAL)
    fig.update_xaxes(type="log", title=t("loyalty.drivers.axis", lang))
    fig.update_yaxes(type="category")
    title = t("loyalty.drivers.title", lang, outcome=result.params.get("outcome", ""))
    return apply_style(fig, title=title, height=max(300, 30 * len(df) + 120))
