"""Gap ranking: touchpoints by gap x customers affected."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import BAD, GOOD, NEUTRAL, apply_style


def gap_figure(result: Any, *, lang: str = "en", top: int = 20, **_: Any) -> Any:
    """Horizontal bars of ``priority`` (highest on top); measured gaps solid, designed grey."""
    import plotly.graph_objects as go

    from klantreis.i18n import t

    df = result.table.dropna(subset=["priority"]).head(top).iloc[::-1]
    colours = [
        NEUTRAL if b != "measured" else (BAD if g > 0 else GOOD)
        for b, g in zip(df["basis"], df["gap"], strict=True)
    ]
    text = [
        f"{g:+.2f} x {c} ({t('loyalty.gap.' + b, lang) if b else ''})"
        for g, c, b in zip(df["gap"], df["customers"], df["basis"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=df["priority"].tolist(),
            y=[str(k) for k in df["touchpoint"]],
            orientation="h",
            marker_color=colours,
            text=text,
            textposition="auto",
        )
    )
    fig.update_xaxes(title=t("loyalty.gap.priority", lang))
    fig.update_yaxes(type="category")
    return apply_style(fig, title=t("loyalty.gap.title", lang), height=max(300, 36 * len(df) + 120))
