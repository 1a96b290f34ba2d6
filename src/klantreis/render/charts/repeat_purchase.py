"""Repeat purchase: buyers who bought once and those who bought again, in one bar."""

from __future__ import annotations

from typing import Any

from klantreis.render.charts._style import GOOD, NEUTRAL, apply_style

__all__ = ["repeat_purchase_figure"]


def repeat_purchase_figure(result: Any, *, lang: str = "en", **_: Any) -> Any:
    """A stacked horizontal bar of the buyers (once / again); the title gives the repeat
    rate with its Wilson 95% interval and the purchases per buyer."""
    import plotly.graph_objects as go

    from klantreis.i18n import format_number, format_percent, t

    row = result.table.iloc[0]
    buyers, again = int(row["buyers"]), int(row["repeat_buyers"])
    label = t("loyalty.repeat.buyers", lang)
    fig = go.Figure()
    for name, n, colour in (
        (t("loyalty.repeat.once", lang), buyers - again, NEUTRAL),
        (t("loyalty.repeat.again", lang), again, GOOD),
    ):
        share = n / buyers if buyers else float("nan")
        fig.add_trace(
            go.Bar(
                x=[n],
                y=[label],
                orientation="h",
                name=name,
                marker_color=colour,
                text=[
                    f"{format_number(n, lang)} ({format_percent(share, lang) if buyers else '-'})"
                ],
                textposition="inside",
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=t("loyalty.lifecycle.customers", lang))
    fig.update_yaxes(type="category")

    def pct(value: Any) -> str:
        value = float(value)
        return format_percent(value, lang) if value == value else "-"

    per_buyer = float(row["purchases_per_buyer"])
    title = t(
        "loyalty.repeat.title",
        lang,
        rate=pct(row["rate"]),
        low=pct(row["low"]),
        high=pct(row["high"]),
        per_buyer=format_number(per_buyer, lang, digits=2) if per_buyer == per_buyer else "-",
    )
    return apply_style(fig, title=title, height=260)
