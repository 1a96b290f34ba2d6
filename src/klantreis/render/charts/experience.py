"""Experience per key (touchpoint, phase, persona...): score with its 95% interval."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import NEUTRAL, PALETTE, apply_style


def experience_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Horizontal bars of ``score`` with error bars to ``low``/``high``; unmapped in grey."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table.sort_values("score", na_position="first")
    colours = [
        NEUTRAL if ("mapped" in df and not bool(m)) else PALETTE[0]
        for m in (df["mapped"] if "mapped" in df else [True] * len(df))
    ]
    plus = (df["high"] - df["score"]).fillna(0).tolist()
    minus = (df["score"] - df["low"]).fillna(0).tolist()
    fig = go.Figure(
        go.Bar(
            x=df["score"].tolist(),
            y=[str(k) for k in df["key"]],
            orientation="h",
            marker_color=colours,
            error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
            customdata=df["responses"].tolist(),
            hovertemplate="%{y}: %{x:.1f} (n=%{customdata})<extra></extra>",
        )
    )
    fig.update_xaxes(title=t("loyalty.experience.score", lang))
    fig.update_yaxes(type="category")
    metric = str(result.params.get("metric", "nps")).upper()
    title = t("loyalty.experience.title", lang, metric=metric, by=result.params.get("by", ""))
    return apply_style(fig, title=title, height=max(300, 40 * len(df) + 120))
