"""The three loops: share of buyers entering each loop, and how often they cycle."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import PALETTE, apply_style

__all__ = ["loops_figure"]


def loops_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """Left: share of buyers who entered each loop (Wilson 95% error bars);
    right: entries per buyer who entered."""
    from plotly.subplots import make_subplots

    from klantreis.i18n import format_number, format_percent, t

    df = result.table
    names = [t(f"loyalty.loop.{loop}", lang) for loop in df["loop"]]
    share = [float(s) for s in df["share"]]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(t("loyalty.loops.entered", lang), t("loyalty.loops.cycles", lang)),
    )
    fig.add_bar(
        x=names,
        y=share,
        marker_color=PALETTE[0],
        error_y={
            "type": "data",
            "symmetric": False,
            "array": (df["high"] - df["share"]).fillna(0).tolist(),
            "arrayminus": (df["share"] - df["low"]).fillna(0).tolist(),
        },
        text=[
            f"{format_percent(s, lang, digits=0) if s == s else '-'} "
            f"({format_number(int(e), lang)}/{format_number(int(b), lang)})"
            for s, e, b in zip(share, df["entered"], df["buyers"], strict=True)
        ],
        textposition="outside",
        name=t("loyalty.loops.entered", lang),
        row=1,
        col=1,
    )
    cycles = [float(c) for c in df["cycles_per_customer"]]
    fig.add_bar(
        x=names,
        y=cycles,
        marker_color=PALETTE[2],
        text=[format_number(c, lang, digits=2) if c == c else "-" for c in cycles],
        textposition="outside",
        customdata=[int(c) for c in df["cycles"]],
        hovertemplate="%{x}: %{y:.2f} (%{customdata})<extra></extra>",
        name=t("loyalty.loops.cycles", lang),
        row=1,
        col=2,
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.15], row=1, col=1)
    fig.update_xaxes(type="category")
    fig.update_layout(showlegend=False)
    return apply_style(fig, title=t("loyalty.loops.title", lang), height=380)
